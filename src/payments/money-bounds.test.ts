// Money that no sum can break: amounts bounded per payment, so 1,040 payments at the limit still add up exactly.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { uid } from "./testing.ts";

let server: TestServer;
const DAY = 86_400_000;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
const post = (json: unknown) => server.api("/api/v1/payments", { method: "POST", json });

test("an amount beyond 10^12 minor units is refused; 1,040 payments at the limit still add up exactly", async () => {
  const huge = await post({ transactionId: uid("txn"), amount: 2 ** 53 - 1, currency: "USD" });
  expect(huge.status).toBe(400);
  expect((await huge.json()).error.code).toBe("amount_out_of_range");
  const lead = uid("whale");
  const at = Date.now() - 3 * DAY;
  for (let batch = 0; batch < 1040; batch += 65) {
    const responses = await Promise.all(
      Array.from({ length: 65 }, () => post({ transactionId: uid("txn"), amount: 1_000_000_000_000, currency: "CHF", timestamp: at, metadata: { leadId: lead } })),
    );
    expect(responses.every((r) => r.status === 201)).toBe(true);
  }
  const report = await server.api(`/api/v1/reports/attribution?groupBy=lead&from=${at - DAY}`);
  expect(report.status).toBe(200);
  const row = (await report.json()).rows.find((r: { key: string }) => r.key === lead);
  // No CHF rate is known (the feed is off in tests): the sum stays exact in byCurrency and the payments are counted as not converted.
  expect(row).toMatchObject({ payments: 1040, revenue: 0, currency: "USD", unconverted: 1040 });
  expect(row.byCurrency).toEqual([{ currency: "CHF", payments: 1040, revenue: 1_040_000_000_000_000, refunds: 0, net: 1_040_000_000_000_000 }]);
});
