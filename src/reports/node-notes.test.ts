// Write notes between two nodes on one PostgreSQL database: what node A commits, node B's in-memory
// readers hear of within a second, hour by hour; a batch that fails tells no one; a node's own notes
// are not applied twice.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SQL } from "bun";
import { connectPostgres } from "../db/postgres/connection.ts";
import { migratePostgres } from "../db/postgres/migrate.ts";
import { postgresMigrations } from "../db/postgres/migrations.ts";
import { PostgresWriteQueue } from "../db/postgres/write-queue.ts";
import { postgresStorage } from "../db/storage/postgres.ts";
import type { Job } from "../db/storage/jobs.ts";
import { freshPostgresDatabase } from "../testing/postgres.ts";
import { announceNotes, listenForNotes } from "./node-notes.ts";
import { noteEverythingChanged, notePersonsChanged, noteWrite, personsChangedSince, writeSeq, writtenSince } from "./writes.ts";
import { PostgresReports } from "./source.ts";
import { peopleWindows, primePeopleWindows } from "./people/windows.ts";
import { recordEvent } from "../tracking/events.ts";
import { createProject } from "../projects/service.ts";
import type { Storage } from "../db/storage/storage.ts";

const HOUR = 3_600_000;
const DAY = Date.UTC(2026, 11, 7);
const PROJECT = "prj_notes";

interface Node {
  id: string;
  sql: SQL;
  writes: PostgresWriteQueue;
  /** What this node's report readers key their write logs by. */
  readers: object;
  stop(): Promise<void>;
}

const nodes: Node[] = [];

async function node(url: string, id: string): Promise<Node> {
  const sql = connectPostgres(url, { integers: true });
  const readers = {};
  const writes = new PostgresWriteQueue(sql, 1000, readers, (notes) => announceNotes(id, notes));
  const listener = await listenForNotes(postgresStorage(sql), id, readers);
  const made = { id, sql, writes, readers, stop: async () => (await listener.stop(), await writes.close(), await sql.close()) };
  nodes.push(made);
  return made;
}

async function until(condition: () => boolean, ms = 2000): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < ms; await Bun.sleep(10)) if (condition()) return true;
  return condition();
}

let a: Node;
let b: Node;

beforeAll(async () => {
  const url = await freshPostgresDatabase();
  const setup = connectPostgres(url, { integers: true });
  await migratePostgres(setup, postgresMigrations);
  await setup.close();
  a = await node(url, "node-a");
  b = await node(url, "node-b");
});
afterAll(async () => {
  for (const n of nodes) await n.stop();
});

const noting =
  (...hours: number[]): Job<void> =>
  function* (tx) {
    for (const hour of hours) yield* tx.note(noteWrite, PROJECT, DAY + hour * HOUR + 17 * 60_000);
  };

describe("write notes between nodes", () => {
  test("an hour node A writes is stale on node B within a second; other hours stay fresh; A applies its own notes once", async () => {
    const seenByB = writeSeq(b.readers, PROJECT);
    const beforeA = writeSeq(a.readers, PROJECT);
    await a.writes.job(function* (tx) {
      yield* noting(10)(tx);
      yield* tx.note(notePersonsChanged, PROJECT);
    });
    expect(await until(() => writtenSince(b.readers, PROJECT, DAY + 10 * HOUR, DAY + 11 * HOUR, seenByB))).toBe(true);
    expect(personsChangedSince(b.readers, PROJECT, seenByB)).toBe(true);
    expect(writtenSince(b.readers, PROJECT, DAY + 12 * HOUR, DAY + 13 * HOUR, seenByB)).toBe(false);
    expect(writtenSince(b.readers, PROJECT, DAY + 9 * HOUR, DAY + 10 * HOUR, seenByB)).toBe(false);
    await Bun.sleep(200);
    expect(writeSeq(a.readers, PROJECT)).toBe(beforeA + 2);
  });

  test("a batch that fails tells no other node", async () => {
    const seenByB = writeSeq(b.readers, PROJECT);
    const failing: Job<void> = function* (tx) {
      yield* noting(14)(tx);
      yield* tx.run("INSERT INTO no_such_table VALUES (1)");
    };
    await expect(a.writes.job(failing)).rejects.toThrow();
    await a.writes.job(noting(15));
    expect(await until(() => writtenSince(b.readers, PROJECT, DAY + 15 * HOUR, DAY + 16 * HOUR, seenByB))).toBe(true);
    expect(writtenSince(b.readers, PROJECT, DAY + 14 * HOUR, DAY + 15 * HOUR, seenByB)).toBe(false);
  });

  test("a batch writing 3,000 hours reaches B whole, over as many notices as PostgreSQL's payload limit needs", async () => {
    const hours = Array.from({ length: 3000 }, (_, i) => 24 + i);
    const messages = announceNotes(a.id, hours.map((hour) => ({ kind: "note" as const, note: noteWrite, projectId: PROJECT, ts: DAY + hour * HOUR })));
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.every((m) => Buffer.byteLength(m.payload) < 8000)).toBe(true);
    const seenByB = writeSeq(b.readers, PROJECT);
    await a.writes.job(noting(...hours));
    const stale = () => hours.filter((hour) => writtenSince(b.readers, PROJECT, DAY + hour * HOUR, DAY + (hour + 1) * HOUR, seenByB)).length;
    expect(await until(() => stale() === hours.length)).toBe(true);
  });

  test("after notes may have been missed, every earlier reading is stale, and later ones are not", () => {
    const readers = {};
    noteWrite(readers, PROJECT, DAY);
    const before = writeSeq(readers, PROJECT);
    expect(writtenSince(readers, PROJECT, DAY + 5 * HOUR, DAY + 6 * HOUR, before)).toBe(false);
    noteEverythingChanged(readers);
    expect(writtenSince(readers, PROJECT, DAY + 5 * HOUR, DAY + 6 * HOUR, before)).toBe(true);
    expect(personsChangedSince(readers, PROJECT, before)).toBe(true);
    expect(writtenSince(readers, PROJECT, DAY + 5 * HOUR, DAY + 6 * HOUR, writeSeq(readers, PROJECT))).toBe(false);
  });
});

/** The storage, counting the reads of people windows (SELECT … FROM events … GROUP BY visitor_id). */
function countingWindowReads(storage: Storage): { storage: Storage; reads: () => number } {
  let reads = 0;
  const all: Storage["all"] = (sql, params) => {
    if (sql.includes("GROUP BY visitor_id, session_id")) reads++;
    return storage.all(sql, params);
  };
  return { storage: { ...storage, all }, reads: () => reads };
}

describe("reports on a node that hears the other nodes", () => {
  test("a window just past keeps its reading until another node's write to it is heard; a node that hears nothing reads it again every time", async () => {
    const project = await createProject(postgresStorage(a.sql), { name: "Heard" });
    const visit = (visitorId: string, ts: number): Job<number> => (tx) => recordEvent(tx, { projectId: project.id, name: "page_view", ts, visitorId, context: null });
    const hour = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    await a.writes.job(visit("v1", hour + 60_000));
    // Five seconds after the window's end: within the 10 s a node that hears nothing allows another node.
    const now = hour + HOUR + 5_000;
    const prime = async (db: PostgresReports) => {
      await primePeopleWindows(db, project.id, hour, hour + HOUR, "UTC", now);
      return peopleWindows(db, project.id, hour, hour + HOUR, "UTC", now).reduce((sum, w) => sum + w.visitor.length, 0);
    };
    const hearing = countingWindowReads(postgresStorage(b.sql));
    const onB = new PostgresReports(hearing.storage, b.readers);
    expect(await prime(onB)).toBe(1);
    expect(await prime(onB)).toBe(1);
    expect(hearing.reads()).toBe(1);

    const deaf = countingWindowReads(postgresStorage(b.sql));
    const unheard = new PostgresReports(deaf.storage, {});
    await prime(unheard);
    await prime(unheard);
    expect(deaf.reads()).toBe(2);

    const seen = writeSeq(b.readers, project.id);
    await a.writes.job(visit("v2", hour + 120_000));
    expect(await until(() => writtenSince(b.readers, project.id, hour, hour + HOUR, seen))).toBe(true);
    expect(await prime(onB)).toBe(2);
    expect(hearing.reads()).toBe(2);
  });
});
