import { expect, test } from "bun:test";
import { classifyUserAgent, detectBot } from "./user-agent.ts";
import { propsProblem } from "./model.ts";
import { visitorHash } from "./visitors.ts";

const request = (headers: Record<string, string>, method = "GET") => new Request("http://localhost/l/x", { method, headers });

test("user agents are classed by browser, OS and device type", () => {
  expect(classifyUserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")).toEqual({
    browser: "Mobile Safari",
    os: "iOS",
    device: "mobile",
  });
  expect(classifyUserAgent("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1").device).toBe("tablet");
  expect(classifyUserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0")).toEqual({
    browser: "Edge",
    os: "Windows",
    device: "desktop",
  });
  expect(classifyUserAgent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36")).toMatchObject({
    os: "Android",
    device: "mobile",
  });
});

test("crawlers, preview fetchers, headless browsers, empty user agents, HEAD and prefetch are not visitors", () => {
  const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
  expect(detectBot(request({ "user-agent": chrome }))).toBeNull();
  expect(detectBot(request({ "user-agent": "Twitterbot/1.0" }))).toBe("bot");
  expect(detectBot(request({ "user-agent": "WhatsApp/2.23.20.0" }))).toBe("bot");
  expect(detectBot(request({ "user-agent": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)" }))).toBe("bot");
  expect(detectBot(request({ "user-agent": chrome.replace("Chrome/", "HeadlessChrome/") }))).toBe("bot");
  expect(detectBot(request({ "user-agent": `${chrome} Lighthouse` }))).toBe("bot");
  expect(detectBot(request({ "user-agent": "   " }))).toBe("empty_user_agent");
  expect(detectBot(request({ "user-agent": chrome }, "HEAD"))).toBe("head_request");
  expect(detectBot(request({ "user-agent": chrome, "sec-purpose": "prefetch;prerender" }))).toBe("prefetch");
  expect(detectBot(request({ "user-agent": chrome, "x-moz": "prefetch" }))).toBe("prefetch");
});

test("props: deep nesting, too many keys, oversized values and non-finite numbers are refused", () => {
  expect(propsProblem({ plan: "pro", seats: 3, tags: ["a", "b"], nested: { ok: true } })).toBeNull();
  expect(propsProblem({ a: { b: { c: {} } } })).toContain("nesting");
  expect(propsProblem(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])))).toContain("entries");
  expect(propsProblem({ big: "x".repeat(5000) })).toContain("bytes");
  expect(propsProblem({ n: Infinity })).toContain("finite");
});

test("the cookieless id depends on the salt, the project, the IP and the user agent", () => {
  const salt = new Uint8Array(32).fill(1);
  const id = visitorHash(salt, "prj_1", "203.0.113.9", "UA");
  expect(id).toMatch(/^[0-9a-f]{24}$/);
  expect(visitorHash(salt, "prj_1", "203.0.113.9", "UA")).toBe(id);
  expect(visitorHash(new Uint8Array(32).fill(2), "prj_1", "203.0.113.9", "UA")).not.toBe(id);
  expect(visitorHash(salt, "prj_2", "203.0.113.9", "UA")).not.toBe(id);
  expect(visitorHash(salt, "prj_1", "203.0.113.10", "UA")).not.toBe(id);
  expect(visitorHash(salt, "prj_1", "203.0.113.9", "UA2")).not.toBe(id);
});
