import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { trackerAsset, vitalsAsset } from "./script.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

test("the core tracker is at most 1,500 bytes gzipped", () => {
  expect(trackerAsset().gzip.length).toBeLessThanOrEqual(1500);
  expect(trackerAsset().brotli.length).toBeLessThan(trackerAsset().gzip.length);
});

test("/bantico.js is served with Cache-Control, ETag and brotli or gzip, and answers 304 to a current copy", async () => {
  const br = await fetch(`${server.url}/bantico.js`, { headers: { "accept-encoding": "gzip, deflate, br" }, decompress: false } as RequestInit);
  expect(br.status).toBe(200);
  expect(br.headers.get("content-encoding")).toBe("br");
  expect(br.headers.get("content-type")).toStartWith("text/javascript");
  expect(br.headers.get("cache-control")).toContain("max-age=");
  expect(br.headers.get("vary")).toBe("Accept-Encoding");
  expect((await br.arrayBuffer()).byteLength).toBe(trackerAsset().brotli.length);

  const gzip = await fetch(`${server.url}/bantico.js`, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
  expect(gzip.headers.get("content-encoding")).toBe("gzip");
  expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await gzip.arrayBuffer())))).toContain("bantico");

  const etag = br.headers.get("etag")!;
  const revalidated = await fetch(`${server.url}/bantico.js`, { headers: { "if-none-match": etag } });
  expect(revalidated.status).toBe(304);
  expect(revalidated.headers.get("etag")).toBe(etag);
  expect(await revalidated.text()).toBe("");
});

test("the served scripts are valid JavaScript", () => {
  for (const asset of [trackerAsset(), vitalsAsset()]) {
    expect(() => new Function(new TextDecoder().decode(asset.body))).not.toThrow();
  }
});

test("the web vitals add-on is served beside the core, compressed", async () => {
  const response = await fetch(`${server.url}/bantico-vitals.js`, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-encoding")).toBe("gzip");
  expect((await response.arrayBuffer()).byteLength).toBe(vitalsAsset().gzip.length);
});
