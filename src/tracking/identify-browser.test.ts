// Signed identify in headless Chromium: a site's server renders the hash into the page, the snippet
// queues bantico.identify before /bantico.js loads, and the profile is updated as verified.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../testing/browser.ts";
import { startTestServer, type TestServer } from "../testing/harness.ts";

const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
let server: TestServer;
let site: ReturnType<typeof Bun.serve>;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  const { identifySecret } = (await (await server.api("/api/v1/project")).json()) as { identifySecret: string };
  site = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      // The site's own server: it knows the signed-in user and signs their id, as the README shows.
      const user = { id: "user_signed", email: "signed@example.com", name: new URL(request.url).searchParams.get("name") ?? "Signed" };
      const hash = new URL(request.url).pathname === "/forged" ? "f".repeat(64) : createHmac("sha256", identifySecret).update(user.id).digest("hex");
      const html = `<!doctype html><html><head><title>Account</title>
<script>
  window.bantico = window.bantico || { q: [] };
  ["identify", "track"].forEach(function (m) { bantico[m] = bantico[m] || function () { bantico.q.push([m].concat([].slice.call(arguments))) } });
  bantico.identify(${JSON.stringify({ ...user, hash, plan: "team" })});
</script>
<script src="${server.url}/bantico.js" data-token="${server.project.token}"></script>
</head><body>Account</body></html>`;
      return new Response(html, { headers: { "content-type": "text/html" } });
    },
  });
  browser = await launchBrowser();
});

afterAll(() => Promise.all([browser?.close(), site?.stop(true), server?.close()]));

const profile = () =>
  server.storage.get<{ email: string; name: string; traits: string; email_verified: number }>(
    "SELECT email, name, traits, email_verified FROM profiles WHERE project_id = ? AND id = 'user_signed'",
    [server.project.id],
  );

test("the tracker sends the hash a site's server rendered: the existing profile takes the new name and its email is verified; a forged hash changes nothing", async () => {
  // The profile exists already, created by an unsigned identify that could not verify it.
  await fetch(`${server.url}/api/collect`, {
    method: "POST",
    body: JSON.stringify({ t: server.project.token, n: "identify", u: "https://shop.example/", i: { id: "user_signed", email: "signed@example.com", name: "Before" } }),
    headers: { "user-agent": DESKTOP_UA },
  });
  expect(await profile()).toMatchObject({ name: "Before", email_verified: 0 });

  const context = await browser.newContext({ userAgent: DESKTOP_UA });
  await context.addInitScript('Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false });');
  try {
    const tab = await context.newPage();
    const identifyAnswer = () => tab.waitForResponse((r) => r.url().endsWith("/api/collect") && r.request().postData()!.includes('"n":"identify"'));
    const [forged] = await Promise.all([identifyAnswer(), tab.goto(`http://127.0.0.1:${site.port}/forged?name=Forged`)]);
    expect(forged.status()).toBe(403);
    expect(await profile()).toMatchObject({ name: "Before", email_verified: 0 });

    const [signed] = await Promise.all([identifyAnswer(), tab.goto(`http://127.0.0.1:${site.port}/account?name=After`)]);
    expect(signed.status()).toBe(200);
    expect(await profile()).toEqual({ email: "signed@example.com", name: "After", traits: '{"plan":"team"}', email_verified: 1 });
  } finally {
    await context.close();
  }
});
