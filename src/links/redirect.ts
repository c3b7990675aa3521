// GET /l/{slug}: record the click, then 302 to the destination with bt_click and the link's utm_* (SPEC §4).
import type { AppContext } from "../context.ts";
import { countryOf } from "../tracking/collect.ts";
import { classifyUserAgent, detectBot } from "../tracking/user-agent.ts";
import { cachedSalts, cookielessVisitorId, loadSalts, type Salts } from "../tracking/visitors.ts";
import { timeOrderedId } from "../tracking/statements.ts";
import { recordClick, type Click } from "./clicks.ts";
import { findActiveLink, type ActiveLink } from "./directory.ts";

const UTM_FROM_CONTEXT = [
  ["utm_source", "source"],
  ["utm_medium", "medium"],
  ["utm_campaign", "campaignId"],
  ["utm_content", "content"],
] as const;

/** What a redirect needs from a destination, worked out once per link version instead of per click. */
interface Destination {
  /** The destination up to its fragment, and the separator to append parameters with. */
  base: string;
  separator: string;
  fragment: string;
  /** Query parameter names the destination already has. */
  present: ReadonlySet<string>;
  /** The link's utm_* the destination lacks, as [name, encoded pair]. */
  utm: [string, string][];
  /** The destination up to its fragment with those utm_* added, and the separator to append more with: all most clicks need. */
  withUtm: string;
  withUtmSeparator: string;
}

const destinations = new WeakMap<ActiveLink, Destination>();

const pair = (name: string, value: string) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;

function destinationOf(link: ActiveLink): Destination {
  let destination = destinations.get(link);
  if (!destination) {
    // A header carries printable ASCII only: anything else (日本 in a path, a link stored before control characters
    // were refused) goes out as the browser would send it, percent-encoded, with the host in punycode.
    const url = /^[\x21-\x7e]*$/.test(link.destinationUrl) ? link.destinationUrl : new URL(link.destinationUrl).href;
    const hashAt = url.indexOf("#");
    const base = hashAt === -1 ? url : url.slice(0, hashAt);
    const present = new Set(new URL(url).searchParams.keys());
    const separator = !base.includes("?") ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&";
    const utm = UTM_FROM_CONTEXT.flatMap(([param, field]): [string, string][] => {
      const value = link.context[field];
      return value && !present.has(param) ? [[param, pair(param, value)]] : [];
    });
    destination = {
      base,
      separator,
      fragment: hashAt === -1 ? "" : url.slice(hashAt),
      present,
      utm,
      withUtm: utm.length === 0 ? base : `${base}${separator}${utm.map(([, encoded]) => encoded).join("&")}`,
      withUtmSeparator: utm.length === 0 ? separator : "&",
    };
    destinations.set(link, destination);
  }
  return destination;
}

/**
 * The destination with the short URL's query forwarded, the link's utm_* added and bt_click set.
 * Only appends, so the destination's own query (and its encoding) and fragment stay exactly as written.
 */
export function redirectTarget(link: ActiveLink, shortUrlQuery: URLSearchParams | null, clickId: string | null): string {
  const destination = destinationOf(link);
  const { base, separator, fragment, present, utm } = destination;
  if (!shortUrlQuery) {
    // Touches two strings of the link's: with 10,000 links, each object read on a redirect is likely a cache miss.
    if (clickId) return `${destination.withUtm}${destination.withUtmSeparator}bt_click=${clickId}${fragment}`;
    return utm.length === 0 ? `${base}${fragment}` : `${destination.withUtm}${fragment}`;
  }
  const additions: string[] = [];
  const forwarded = new Set<string>();
  for (const [name, value] of shortUrlQuery) {
    if (name === "bt_click" || present.has(name) || forwarded.has(name)) continue;
    forwarded.add(name);
    additions.push(pair(name, value));
  }
  for (const [param, encoded] of utm) if (!forwarded.has(param)) additions.push(encoded);
  // Click ids are URL-safe by construction.
  if (clickId) additions.push(`bt_click=${clickId}`);
  return additions.length === 0 ? `${base}${fragment}` : `${base}${separator}${additions.join("&")}${fragment}`;
}

function referrerHostOf(request: Request): string | null {
  const referrer = request.headers.get("referer");
  if (!referrer) return null;
  try {
    return new URL(referrer).hostname.toLowerCase().replace(/^www\./, "") || null;
  } catch {
    return null;
  }
}

function notFoundPage(): Response {
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Link not found</title><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
<h1>This link does not exist</h1><p>The short link you followed is unknown or no longer active. Check it with whoever shared it.</p></body></html>`;
  return new Response(html, { status: 404, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}

function redirect(location: string): Response {
  // 302, never 301: a cached permanent redirect would skip the next click's record.
  return new Response(null, { status: 302, headers: { location, "cache-control": "no-store" } });
}

/** The redirect, as a list of steps: find the link, let bots through uncounted, record the click, redirect. */
export async function followLink(ctx: AppContext, request: Request, slug: string): Promise<Response> {
  const link = findActiveLink(ctx.storage, slug);
  if (!link) return notFoundPage();
  const queryAt = request.url.indexOf("?");
  const query = queryAt === -1 || queryAt === request.url.length - 1 ? null : new URLSearchParams(request.url.slice(queryAt + 1));
  const ts = ctx.now();
  const click = detectBot(request) ? null : describeClick(ctx, request, link, ts, cachedSalts(ctx.storage, ts) ?? (await loadSalts(ctx.storage, ts)));
  // The response is built before the click is stored: a click is counted only when the visitor is redirected.
  let response: Response;
  try {
    response = redirect(redirectTarget(link, query, click?.clickId ?? null));
  } catch {
    return notFoundPage();
  }
  if (click) await ctx.writes.job((tx) => recordClick(tx, click));
  return response;
}

function describeClick(ctx: AppContext, request: Request, link: ActiveLink, ts: number, salts: Salts): Click {
  const userAgent = request.headers.get("user-agent") ?? "";
  const ip = ctx.clientIp(request);
  return {
    clickId: timeOrderedId(ts, 8),
    link,
    ts,
    // The same cookieless id collect computes, so the click joins the visit that follows it.
    visitorId: cookielessVisitorId(salts, link.projectId, ip, userAgent),
    referrerHost: referrerHostOf(request),
    agent: classifyUserAgent(userAgent),
    country: countryOf(ctx, request, () => ip),
  };
}

