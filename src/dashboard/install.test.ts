// The install page: the snippet, the check waiting for the first event, and why a test from an automated browser never arrives.
import { expect, test } from "bun:test";
import { startTestServer } from "../testing/harness.ts";
import { userWithRole } from "./test-client.ts";

const HEADLESS_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/141.0.0.0 Safari/537.36";

test("an event from a headless browser is dropped, and the install page says so beside the check that keeps waiting", async () => {
  const server = await startTestServer();
  try {
    const owner = await userWithRole(server, "owner");
    const collected = await fetch(`${server.url}/api/collect`, {
      method: "POST",
      headers: { "content-type": "text/plain", "user-agent": HEADLESS_UA },
      body: JSON.stringify({ t: server.project.token, n: "page_view", u: "https://site.example/", r: "" }),
    });
    expect(collected.status).toBe(202);
    expect(await collected.json()).toEqual({ dropped: "bot" });

    const page = await (await owner.get(`/dashboard/${server.project.id}/install`)).text();
    expect(page).toContain("Waiting for the first event");
    const note = /<p class="hint" id="install-automation">([\s\S]*?)<\/p>/.exec(page)?.[1]?.replace(/\s+/g, " ");
    expect(note).toContain("Test with an ordinary browser window.");
    expect(note).toContain("automated and headless browsers (Playwright, Puppeteer, Selenium, headless Chrome)");
    expect(note).toContain("never turn this check green");
  } finally {
    await server.close();
  }
});
