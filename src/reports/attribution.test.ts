// The report reads whole days from daily rollups and edge hours from hourly ones: the sums must
// match the ledger whatever the range, also after a payment is re-attributed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createProject } from "../projects/service.ts";
import { freshDatabase, type TestDatabase } from "../testing/engines.ts";
import { testEngine } from "../testing/harness.ts";
import { recordPayment } from "../payments/ledger.ts";
import { emptyPayment } from "../payments/types.ts";
import { seedLink } from "../payments/testing.ts";
import { EMPTY_CONTEXT } from "../tracking/attribution-context.ts";
import { bumpRollup } from "../tracking/events.ts";
import { attributionOn, reportSpans } from "./attribution.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await freshDatabase(testEngine());
});
afterAll(() => database.close());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test("whole days and edge hours add up to the same totals as the ledger", async () => {
  const { storage, writes, reports } = database;
  const project = await createProject(storage, { name: "Report" });
  await seedLink(storage, project.id, { id: "lnk_days", campaignId: "days" });
  const base = Date.UTC(2026, 9, 10);
  // One 1000-cent sale every 5 hours for 10 days, and traffic in the same hours.
  const times = Array.from({ length: 48 }, (_, i) => base + i * 5 * HOUR + 17 * 60_000);
  const context = { ...EMPTY_CONTEXT, linkId: "lnk_days", campaignId: "days" };
  for (const [i, at] of times.entries()) {
    await writes.job((tx) => recordPayment(tx, project.id, { ...emptyPayment("api"), kind: "sale", key: `api:t${i}`, amount: 1000, tax: 0, currency: "USD", metadata: { linkId: "lnk_days" }, occurredAt: at }, null, at));
    await writes.job((tx) => bumpRollup(tx, project.id, at, context, { clicks: 1 }));
    await writes.job((tx) => bumpRollup(tx, project.id, at, context, { clicks: 1 }));
  }
  await database.settle();
  const expectFor = async (from: number, to: number) => {
    const inRange = times.filter((t) => Math.floor(t / HOUR) * HOUR >= Math.floor(from / HOUR) * HOUR && t < to).length;
    const [row] = await attributionOn(reports, project, { groupBy: "link", from, to }, to);
    expect(row ?? { payments: 0, revenue: 0, clicks: 0 }).toMatchObject({ payments: inRange, revenue: inRange * 1000, clicks: inRange * 2 });
  };
  await expectFor(base, base + 10 * DAY);
  await expectFor(base + 7 * HOUR, base + 3 * DAY + 13 * HOUR);
  await expectFor(base + 30 * HOUR, base + 40 * HOUR);
  await expectFor(base + 2 * DAY, base + 2 * DAY + 5 * HOUR);

  // Across month boundaries (October into November) the monthly rollups take over the middle.
  await expectFor(base - 20 * DAY, base + 40 * DAY);
  await expectFor(base + 5 * HOUR, base + 9 * DAY + 2 * HOUR);

  // A refund moves the daily rollup too.
  await writes.job((tx) => recordPayment(tx, project.id, { ...emptyPayment("api"), kind: "refund", key: "api:r1", amount: -400, tax: 0, currency: "USD", metadata: { linkId: "lnk_days" }, occurredAt: times[3]! }, null, times[3]!));
  await database.settle();
  const [row] = await attributionOn(reports, project, { groupBy: "campaign", from: base, to: base + 10 * DAY }, base + 10 * DAY);
  expect(row).toMatchObject({ key: "days", payments: 48, revenue: 48_000, refunds: 400, net: 47_600 });
});

test("a range is read as whole months, whole days and edge hours, with no gap and no overlap", () => {
  const from = Date.UTC(2026, 0, 30, 13, 20);
  const to = Date.UTC(2026, 4, 2, 7, 45);
  const spans = reportSpans(from, to);
  expect(spans.map((s) => s.grain)).toEqual(["hour", "day", "month", "day", "hour"]);
  expect(spans[0]!.from).toBe(Date.UTC(2026, 0, 30, 13));
  expect(spans[2]).toEqual({ grain: "month", from: Date.UTC(2026, 1, 1), to: Date.UTC(2026, 4, 1) });
  spans.slice(1).forEach((span, i) => expect(span.from).toBe(spans[i]!.to));
  expect(spans.at(-1)!.to).toBe(to);
  expect(reportSpans(Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1)).map((s) => s.grain)).toEqual(["month"]);
});
