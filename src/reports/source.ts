// What reports read through, on either engine: prime, then compute.
//
// Reports and dashboard pages compute from in-memory structures: people windows (who was there, per
// hour or local day), the visitor → profile map, and folded days (the rollups per local day). On
// SQLite (`Database`) they are filled on a miss by a synchronous read, as they always were, and kept
// until a write note says otherwise (writes.ts): nothing here changes that path or its cost.
//
// On PostgreSQL (`PostgresReports`) nothing can be read synchronously. A report first awaits a prime
// (prime.ts) that loads, through `Storage`, whatever its range needs into the same structures under
// the same keys: the range's windows and the project's first activity (people/windows.ts), the
// persons map, and the folded days or, for ranges that are not whole local days, the rollup tables'
// sums (days.ts, attribution.ts). Then the same synchronous computation runs from memory. On
// PostgreSQL the synchronous code never reads: it takes what the prime left, whatever its age (the
// prime decided freshness a moment before, with the same `now`), and a miss throws `NotPrimed`, a bug
// in the prime rather than a slow path.
//
// The raw reads (a window's visits and payments, a day's fold, a page of the persons map, the
// first activity, the rollup sums) are one SQL text per read with its dialect differences spelled
// out beside it (perEngine, postgresText), and one function turns their rows into the structure.
// So both engines build identical structures from identical rows, and the SQLite text is the one it
// always ran.
//
// Freshness. Caches are keyed by what write notes are keyed by (`notesKey`): the Database on SQLite,
// this node's notes object on PostgreSQL (the write queue's `notesFor`), so this node's own writes
// invalidate exactly as on SQLite. Other nodes' writes reach a serving node as notes broadcast with
// NOTIFY (node-notes.ts, within moments; after a reconnect every reading is stale): such a node keeps
// its readings as SQLite does. A node that does not hear them (a test's, a command's) takes a kept
// window, day, persons map or MRR reading as fresh only if it was read at least OTHER_NODES_MS after
// its end (the persons map and MRR: if read within OTHER_NODES_MS).
import type { Database } from "bun:sqlite";
import type { Storage } from "../db/storage/storage.ts";

/** How long another node's writes may take to reach this node's reports (SPEC §11: 10 s). */
export const OTHER_NODES_MS = 10_000;

const hearing = new WeakSet<object>();

/** This node hears the other nodes' write notes on `notes` (src/reports/node-notes.ts): or no longer, `false`. */
export function hearOtherNodes(notes: object, heard = true): void {
  if (heard) hearing.add(notes);
  else hearing.delete(notes);
}

/**
 * Whether another node's recent writes may not have reached this node's write logs: a node that does
 * not hear their notes takes whatever touches the last OTHER_NODES_MS as stale; one that hears them
 * keeps its readings until a note says otherwise, as SQLite does.
 */
export const othersUnheard = (db: PostgresReports): boolean => !hearing.has(db.notes);

/** Reports on PostgreSQL: the storage their primes read through, and the object this node's write notes are keyed by. */
export class PostgresReports {
  constructor(
    readonly storage: Storage,
    readonly notes: object,
  ) {}
}

/** What report code reads through: SQLite's connection (read on a miss), or PostgreSQL's (memory only, after a prime). */
export type ReportDb = Database | PostgresReports;

const reportsByNotes = new WeakMap<object, PostgresReports>();

/** This node's PostgreSQL reports, one per notes object. */
export function postgresReports(storage: Storage, notes: object): PostgresReports {
  let reports = reportsByNotes.get(notes);
  if (!reports || reports.storage !== storage) reportsByNotes.set(notes, (reports = new PostgresReports(storage, notes)));
  return reports;
}

/** What caches and write notes are keyed by (src/reports/writes.ts). */
export const notesKey = (db: ReportDb): object => (db instanceof PostgresReports ? db.notes : db);

/** A synchronous report needed something its prime did not load. */
export class NotPrimed extends Error {
  constructor(what: string) {
    super(`reports on PostgreSQL compute from memory: ${what} was not primed`);
  }
}

/** A report's readers, from the app context: SQLite's Database, or this node's PostgreSQL reports. */
export function reportDb(ctx: { storage: Storage; db: Database; reportNotes?: object }): ReportDb {
  if (ctx.storage.engine === "sqlite") return ctx.db;
  if (!ctx.reportNotes) throw new Error("reports on PostgreSQL need the node's write-notes object (the write queue's notesFor)");
  return postgresReports(ctx.storage, ctx.reportNotes);
}
