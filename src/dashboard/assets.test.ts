// The dashboard's own assets come from inside the executable, versioned, cacheable and gzipped.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { ASSET_URLS } from "./assets.ts";

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server.close());

test("htmx 4, the stylesheet and the client script are served with a year of caching", async () => {
  for (const [url, marker] of [
    [ASSET_URLS.htmx, "htmx"],
    [ASSET_URLS.css, "prefers-color-scheme: dark"],
    [ASSET_URLS.js, "data-copy"],
  ] as const) {
    const response = await fetch(`${server.url}${url}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await response.text()).toContain(marker);
  }
});

test("a browser that accepts gzip gets the compressed htmx, a third of its size", async () => {
  const plain = await fetch(`${server.url}${ASSET_URLS.htmx}`, { headers: { "accept-encoding": "identity" }, decompress: false });
  const gzipped = await fetch(`${server.url}${ASSET_URLS.htmx}`, { headers: { "accept-encoding": "gzip, br" }, decompress: false });
  expect(gzipped.headers.get("content-encoding")).toBe("gzip");
  const plainSize = (await plain.arrayBuffer()).byteLength;
  const gzipSize = (await gzipped.arrayBuffer()).byteLength;
  expect(gzipSize).toBeLessThan(plainSize / 2.5);
});
