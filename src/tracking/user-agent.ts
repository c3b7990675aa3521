// Who is asking: bot and preview-fetcher filtering, and the user-agent class stored with a visit.
import { isbot } from "isbot";
import UAParser from "ua-parser-js";

export interface UserAgentClass {
  browser: string | null;
  os: string | null;
  /** desktop, mobile, tablet, tv, console, wearable, embedded */
  device: string;
}

/** Real traffic repeats a few hundred user agents; parsing each once keeps the hot paths cheap. */
function memoized<T>(compute: (ua: string) => T, max = 5000): (ua: string) => T {
  const seen = new Map<string, T>();
  return (ua) => {
    let value = seen.get(ua);
    if (value === undefined) {
      if (seen.size >= max) seen.clear();
      value = compute(ua);
      seen.set(ua, value);
    }
    return value;
  };
}

const DEVICE_NAMES: Record<string, string> = { mobile: "mobile", tablet: "tablet", smarttv: "tv", console: "console", wearable: "wearable", embedded: "embedded" };

export const classifyUserAgent = memoized((ua: string): UserAgentClass => {
  const result = new UAParser(ua).getResult();
  return {
    browser: result.browser.name ?? null,
    os: result.os.name ?? null,
    device: DEVICE_NAMES[result.device.type ?? ""] ?? "desktop",
  };
});

// isbot knows crawlers and link-preview fetchers (Slack, Discord, WhatsApp, …); these are automation it may miss.
const HEADLESS = /headless|phantomjs|puppeteer|playwright|selenium|webdriver|lighthouse|electron\//i;

const looksAutomated = memoized((ua: string): boolean => isbot(ua) || HEADLESS.test(ua));

export type BotReason = "head_request" | "prefetch" | "empty_user_agent" | "bot";

/** Why a request is not a person's visit or click, or null when it looks like one. */
export function detectBot(request: Request): BotReason | null {
  if (request.method === "HEAD") return "head_request";
  const headers = request.headers;
  const purpose = `${headers.get("sec-purpose") ?? ""} ${headers.get("purpose") ?? ""} ${headers.get("x-purpose") ?? ""} ${headers.get("x-moz") ?? ""}`;
  if (/prefetch|preview/i.test(purpose)) return "prefetch";
  const ua = headers.get("user-agent")?.trim() ?? "";
  if (ua === "") return "empty_user_agent";
  return looksAutomated(ua) ? "bot" : null;
}
