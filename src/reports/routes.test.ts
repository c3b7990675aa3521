// The reports API's default range is the dashboard's 30 days in the project's time zone: whole local
// days, so the counts kept for the dashboard (and counted ahead at start) answer it too.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";

const NOW = Date.parse("2026-11-20T15:42:17.123Z");
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ now: () => NOW });
});
afterAll(() => server.close());

test("without bounds a report covers the local day 29 days ago through today; given bounds stand as sent", async () => {
  expect((await server.api("/api/v1/project", { method: "PATCH", json: { timezone: "Asia/Tokyo" } })).status).toBe(200);
  const range = async (query: string) => {
    const body = (await (await server.api(`/api/v1/reports/attribution?groupBy=source${query}`)).json()) as { from: string; to: string };
    return [body.from, body.to];
  };
  // 15:42 UTC on 20 November is 00:42 on 21 November in Tokyo (UTC+9).
  expect(await range("")).toEqual(["2026-10-22T15:00:00.000Z", "2026-11-21T15:00:00.000Z"]);
  expect(await range("&from=2026-11-01T00:00:00Z&to=2026-11-02T12:30:00Z")).toEqual(["2026-11-01T00:00:00.000Z", "2026-11-02T12:30:00.000Z"]);
  expect(await range("&to=2026-11-02T00:00:00Z")).toEqual(["2026-10-03T00:00:00.000Z", "2026-11-02T00:00:00.000Z"]);
});
