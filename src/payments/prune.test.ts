// Raw provider payloads are kept 90 days for debugging; pruning them must leave recent ones alone and,
// on a database with a year of them, delete in batches that let other writes through.
import { afterAll, expect, test } from "bun:test";
import { loadConfig } from "../config.ts";
import { openInstance } from "../instance.ts";
import { createProject } from "../projects/service.ts";
import { tempDataDir } from "../testing/harness.ts";
import { pruneAllRawEvents } from "./pull.ts";
import { RAW_EVENT_PRUNE_BATCH, RAW_EVENT_RETENTION_DAYS } from "./service.ts";
import { sqliteStorage } from "../db/storage/sqlite.ts";
import type { WriteQueue } from "../db/write-queue.ts";

const data = tempDataDir("bantico-prune");
const instance = openInstance(loadConfig({ BANTICO_DATA_DIR: data.dir, BANTICO_FX_URL: "off" }));
afterAll(() => {
  instance.close();
  data.remove();
});

const DAY = 86_400_000;

test("events past retention go in batches, across projects, with their payment links; recent ones stay", async () => {
  const { ctx } = instance;
  const { db } = ctx;
  const now = ctx.now();
  const cutoff = now - RAW_EVENT_RETENTION_DAYS * DAY;
  const projects = [await createProject(sqliteStorage(db), { name: "A" }), await createProject(sqliteStorage(db), { name: "B" })];
  const insert = db.prepare(
    "INSERT INTO provider_events (project_id, provider, event_id, type, via, received_at, outcome, payload) VALUES (?, 'stripe', ?, 'charge.succeeded', 'webhook', ?, 'recorded', '{}')",
  );
  const link = db.prepare("INSERT INTO provider_event_payments (payment_id, event_row) VALUES (?, ?)");
  const old = Math.ceil(RAW_EVENT_PRUNE_BATCH * 1.5);
  db.transaction(() => {
    for (const [p, project] of projects.entries()) {
      for (let i = 0; i < old; i++) link.run(`pay_${p}_${i}`, insert.run(project.id, `evt_old_${i}`, cutoff - 1 - i * 60_000).lastInsertRowid);
      for (let i = 0; i < 3; i++) link.run(`pay_${p}_new_${i}`, insert.run(project.id, `evt_new_${i}`, cutoff + DAY + i).lastInsertRowid);
    }
  })();
  const writes: number[] = [];
  // Each prune batch is a job, which SQLite's queue runs as one write.
  const queue = ctx.writes as WriteQueue;
  const original = queue.write.bind(queue);
  queue.write = ((work: Parameters<typeof original>[0]) => {
    writes.push(1);
    return original(work);
  }) as typeof queue.write;
  try {
    expect(await pruneAllRawEvents(ctx)).toBe(2 * old);
  } finally {
    queue.write = original;
  }
  // 2 × 1.5 batches: three full writes and one that finds the rest short of a batch.
  expect(writes.length).toBe(Math.ceil((2 * old) / RAW_EVENT_PRUNE_BATCH) + ((2 * old) % RAW_EVENT_PRUNE_BATCH === 0 ? 1 : 0));
  const left = db.query<{ event_id: string; project_id: string }, []>("SELECT event_id, project_id FROM provider_events ORDER BY project_id, event_id").all();
  expect(left.map((row) => row.event_id)).toEqual(["evt_new_0", "evt_new_1", "evt_new_2", "evt_new_0", "evt_new_1", "evt_new_2"]);
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM provider_event_payments").get()!.n).toBe(6);
  expect(await pruneAllRawEvents(ctx)).toBe(0);
});
