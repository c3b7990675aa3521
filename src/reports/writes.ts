// What this process wrote, hour by hour: what in-memory reads (people windows, folded days) check to
// know whether they still hold. Every write that changes a report calls `noteWrite` with the time it
// is about; readers stamp what they read with `writeSeq` and ask `writtenSince` later. Keyed by what
// the readers read through: the Database on SQLite, the write queue's `notesFor` on PostgreSQL, whose
// write jobs note their writes once committed (src/db/storage/jobs.ts), and other nodes' writes once
// they hear of them (./node-notes.ts).

const HOUR_MS = 3_600_000;

interface WriteLog {
  /** Counts writes; each UTC hour remembers the number of the last write into it. */
  seq: number;
  writtenHours: Map<number, number>;
  /** The number of the last change to who is whom (visitor → profile links). */
  personsSeq: number;
  /** The number of the last change to a subscription, its periods or the payments that credit it. */
  subscriptionsSeq: number;
  /** The number of the last time notes may have been missed: everything read before it is stale. */
  everythingSeq: number;
}

const logs = new WeakMap<object, Map<string, WriteLog>>();

function log(source: object, projectId: string): WriteLog {
  let projects = logs.get(source);
  if (!projects) logs.set(source, (projects = new Map()));
  let l = projects.get(projectId);
  if (!l) projects.set(projectId, (l = { seq: 0, writtenHours: new Map(), personsSeq: 0, subscriptionsSeq: 0, everythingSeq: 0 }));
  return l;
}

/** Something happening at `ts` was written (an event, a rollup counter, a payment, a re-attribution). */
export function noteWrite(source: object, projectId: string, ts: number): void {
  const l = log(source, projectId);
  l.writtenHours.set(Math.floor(ts / HOUR_MS), ++l.seq);
}

/** A visitor was linked to a profile, or a profile erased: people counts read the links again. */
export function notePersonsChanged(source: object, projectId: string): void {
  const l = log(source, projectId);
  l.personsSeq = ++l.seq;
}

/**
 * Notes may have been missed (other nodes' notes, while this node was not listening): every reading
 * of every project taken before now is stale.
 */
export function noteEverythingChanged(source: object): void {
  for (const l of logs.get(source)?.values() ?? []) l.everythingSeq = l.personsSeq = l.subscriptionsSeq = ++l.seq;
}

/** A subscription, one of its periods, or a payment that may be a subscription's first sale changed: MRR reads them again. */
export function noteSubscriptionsChanged(source: object, projectId: string): void {
  const l = log(source, projectId);
  l.subscriptionsSeq = ++l.seq;
}

/** The number of the last change to the project's subscriptions (see `noteSubscriptionsChanged`). */
export function subscriptionsSeq(source: object, projectId: string): number {
  return log(source, projectId).subscriptionsSeq;
}

/** The number of the last write: a reading stamped with it is current until something is written after it. */
export function writeSeq(source: object, projectId: string): number {
  return log(source, projectId).seq;
}

/** Whether anything at a time in [start, end) was written after the write numbered `seq`. */
export function writtenSince(source: object, projectId: string, start: number, end: number, seq: number): boolean {
  const l = log(source, projectId);
  if (seq === l.seq) return false;
  if (seq < l.everythingSeq) return true;
  for (let hour = Math.floor(start / HOUR_MS); hour * HOUR_MS < end; hour++) if ((l.writtenHours.get(hour) ?? 0) > seq) return true;
  return false;
}

/** Whether the visitor → profile links changed after the write numbered `seq`. */
export function personsChangedSince(source: object, projectId: string, seq: number): boolean {
  return log(source, projectId).personsSeq > seq;
}
