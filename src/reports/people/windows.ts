// The windows a range is read in, kept in memory until something is written into them: local days
// for long ranges (the day still running cut into hours, so its closed hours stay kept), hours for
// short ones; and who is whom (visitor → profile). What every people count starts from.
import type { Database } from "bun:sqlite";
import { addDays, localDate, startOfLocalDay } from "../../dashboard/range.ts";
import { mergeWindows, readPersons, STORAGE_SLICE_HOURS, readPersonsFrom, readWindow, readWindowFrom, type PeopleWindow, type PersonOf } from "./window.ts";
import { personsChangedSince, writeSeq, writtenSince } from "../writes.ts";
import { readAllPages, readPagesPausing } from "../../db/pages.ts";
import { readText } from "../../db/postgres/dialect.ts";
import { NotPrimed, notesKey, OTHER_NODES_MS, othersUnheard, PostgresReports, type ReportDb } from "../source.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Read again after this long whatever this process saw written (another node may have written). */
const MAX_AGE_MS = 30 * 60_000;
/**
 * While identifies keep coming, a large visitor → profile map is read again at most this often: each
 * new reading makes the people counts kept over past days count again (1–2 s a month at 1M visits).
 */
const PERSONS_MS = 60_000;
const MAX_WINDOWS = 4000;

interface Cached {
  at: number;
  /** The write sequence number when it was read. */
  seq: number;
  window: PeopleWindow;
}

interface ProjectState {
  windows: Map<string, Cached>;
  persons: { personOf: PersonOf; links: Map<number, number>; at: number; seq: number } | null;
  /** PostgreSQL: the project's first activity as its last prime read it. */
  first: number | null;
}

/** Keyed by what write notes are keyed by (see source.ts). */
const states = new WeakMap<object, Map<string, ProjectState>>();

function state(db: ReportDb, projectId: string): ProjectState {
  const key = notesKey(db);
  let projects = states.get(key);
  if (!projects) states.set(key, (projects = new Map()));
  let s = projects.get(projectId);
  if (!s) projects.set(projectId, (s = { windows: new Map(), persons: null, first: null }));
  return s;
}

function fresh(db: ReportDb, projectId: string, cached: Cached | undefined, now: number): cached is Cached {
  if (!cached || now < cached.at || now - cached.at >= MAX_AGE_MS) return false;
  // PostgreSQL: another node may have written within the last OTHER_NODES_MS (see source.ts).
  if (db instanceof PostgresReports && othersUnheard(db) && cached.at < cached.window.end + OTHER_NODES_MS) return false;
  return !writtenSince(notesKey(db), projectId, cached.window.start, cached.window.end, cached.seq);
}

function remember(s: ProjectState, key: string, cached: Cached): void {
  s.windows.delete(key);
  s.windows.set(key, cached);
  for (const oldest of s.windows.keys()) {
    if (s.windows.size <= MAX_WINDOWS) break;
    s.windows.delete(oldest);
  }
}

/** The window [start, end), from memory when nothing was written into it since it was read. */
export function peopleWindow(db: ReportDb, projectId: string, start: number, end: number, now: number): PeopleWindow {
  const s = state(db, projectId);
  const key = `${start}|${end}`;
  const hit = s.windows.get(key);
  // PostgreSQL: as the prime left it a moment ago (primePeopleWindows).
  if (db instanceof PostgresReports) {
    if (!hit) throw new NotPrimed(`the people window ${new Date(start).toISOString()}–${new Date(end).toISOString()}`);
    return hit.window;
  }
  if (fresh(db, projectId, hit, now)) return hit.window;
  const seq = writeSeq(db, projectId);
  const window = readWindow(db, projectId, start, end);
  remember(s, key, { at: now, seq, window });
  return window;
}

/**
 * Reads the window [start, end) into memory `sliceHours` at a time, awaiting `pause()` between reads
 * (the background warm-up); on PostgreSQL through its storage, the same reads as its prime's.
 */
export async function warmPeopleWindow(
  db: ReportDb,
  projectId: string,
  start: number,
  end: number,
  now: number,
  pause: () => Promise<unknown>,
  sliceHours = db instanceof PostgresReports ? STORAGE_SLICE_HOURS : 1,
): Promise<void> {
  const s = state(db, projectId);
  const seq = writeSeq(notesKey(db), projectId);
  const parts: PeopleWindow[] = [];
  for (let from = start; from < end; from += sliceHours * HOUR_MS) {
    const to = Math.min(end, from + sliceHours * HOUR_MS);
    parts.push(db instanceof PostgresReports ? await readWindowFrom(db.storage, projectId, from, to) : readWindow(db, projectId, from, to));
    await pause();
  }
  // Stamped with the sequence number before the first read: a write that landed meanwhile makes it stale.
  remember(s, `${start}|${end}`, { at: now, seq, window: mergeWindows(parts) });
}

/** Reads the window [start, end) and then its pages viewed, each in slices, unless they are in memory and fresh. */
export async function warmWindowAndPages(db: ReportDb, projectId: string, start: number, end: number, now: number, pause: () => Promise<unknown>): Promise<void> {
  if (!hasFreshWindow(db, projectId, start, end, now)) await warmPeopleWindow(db, projectId, start, end, now, pause);
  await peopleWindow(db, projectId, start, end, now).pages.warm(pause);
}

/** True when the window is in memory and fresh (what a background warm-up skips). */
export function hasFreshWindow(db: ReportDb, projectId: string, start: number, end: number, now: number): boolean {
  const s = state(db, projectId);
  return fresh(db, projectId, s.windows.get(`${start}|${end}`), now);
}

/**
 * How a range is cut: a range of up to two days into hours (a chart's hourly buckets), a longer one
 * into local days of the project's time zone, with partial days at the edges.
 */
export function windowBounds(from: number, to: number, timeZone: string, hourly = to - from <= 2 * DAY_MS): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let date = localDate(from, timeZone), start = from; start < to; ) {
    let end: number;
    if (hourly) end = Math.min(to, Math.floor(start / HOUR_MS) * HOUR_MS + HOUR_MS);
    else {
      date = addDays(date, 1);
      end = Math.min(to, startOfLocalDay(date, timeZone));
    }
    if (end > start) out.push({ start, end });
    start = Math.max(start, end);
  }
  return out;
}

/** The first instant anything was recorded for the project: no window before it needs reading. On PostgreSQL, as the last prime read it. */
export function firstActivity(db: ReportDb, projectId: string): number {
  if (db instanceof PostgresReports) {
    const first = state(db, projectId).first;
    if (first === null) throw new NotPrimed("the project's first activity");
    return first;
  }
  const row = db.query<{ at: number | null }, [string, string]>(FIRST_ACTIVITY.sqlite).get(projectId, projectId);
  return row?.at ?? 9e15;
}

const FIRST_ACTIVITY = readText((engine) =>
  engine === "sqlite"
    ? "SELECT min(coalesce((SELECT min(ts) FROM events WHERE project_id = ?1), 9e15), coalesce((SELECT min(occurred_at) FROM payments WHERE project_id = ?2), 9e15)) AS at"
    : "SELECT LEAST(coalesce((SELECT min(ts) FROM events WHERE project_id = ?), 9e15), coalesce((SELECT min(occurred_at) FROM payments WHERE project_id = ?), 9e15)) AS at",
);

/** PostgreSQL: reads the project's first activity for the synchronous reads after it (`firstActivity`). */
export async function primeFirstActivity(db: PostgresReports, projectId: string): Promise<number> {
  const row = await db.storage.get<{ at: number | string | null }>(FIRST_ACTIVITY.postgres, [projectId, projectId]);
  const first = Number(row?.at ?? 9e15);
  state(db, projectId).first = first;
  return first;
}

/**
 * PostgreSQL: reads into memory the range's windows that are not fresh there (see `fresh`), and the
 * project's first activity that cuts them, so that `peopleWindows` then finds them all.
 */
export async function primePeopleWindows(db: PostgresReports, projectId: string, from: number, to: number, timeZone: string, now: number): Promise<void> {
  await primeFirstActivity(db, projectId);
  const s = state(db, projectId);
  const stale = rangeWindowBounds(db, projectId, from, to, timeZone, now).filter(({ start, end }) => !fresh(db, projectId, s.windows.get(`${start}|${end}`), now));
  // Stamped before the reads: a write noted meanwhile makes the window stale for the next report.
  const seq = writeSeq(db.notes, projectId);
  const windows = await Promise.all(stale.map(({ start, end }) => readWindowFrom(db.storage, projectId, start, end)));
  windows.forEach((window) => remember(s, `${window.start}|${window.end}`, { at: now, seq, window }));
}

/** The range's windows, cut as `windowBounds` says, skipping the time before the project's first data and after now. */
export function peopleWindows(db: ReportDb, projectId: string, from: number, to: number, timeZone: string, now: number): PeopleWindow[] {
  return rangeWindowBounds(db, projectId, from, to, timeZone, now).map((w) => peopleWindow(db, projectId, w.start, w.end, now));
}

/**
 * Reads the range's windows that are not fresh in memory, each `sliceHours` at a time with `pause()`
 * between reads, so that `peopleWindows` then finds them all (the warm-up, after writes into past days);
 * with `pages`, their pages viewed too. On PostgreSQL the project's first activity is read first, as
 * its prime reads it (`primePeopleWindows`).
 */
export async function warmPeopleWindows(
  db: ReportDb,
  projectId: string,
  from: number,
  to: number,
  timeZone: string,
  now: number,
  pause: () => Promise<unknown>,
  options?: { pages: boolean },
): Promise<void> {
  if (db instanceof PostgresReports) await primeFirstActivity(db, projectId);
  for (const w of rangeWindowBounds(db, projectId, from, to, timeZone, now)) {
    if (options?.pages) await warmWindowAndPages(db, projectId, w.start, w.end, now, pause);
    else if (!hasFreshWindow(db, projectId, w.start, w.end, now)) await warmPeopleWindow(db, projectId, w.start, w.end, now, pause);
  }
}

function rangeWindowBounds(db: ReportDb, projectId: string, from: number, to: number, timeZone: string, now: number): { start: number; end: number }[] {
  const hourly = to - from <= 2 * DAY_MS;
  const start = Math.max(from, firstActivity(db, projectId));
  const end = Math.min(to, now + DAY_MS);
  if (start >= end) return [];
  // Windows start on the hour or at local midnight even when the data starts later, so a window's key is the same whatever the range.
  const aligned = hourly ? Math.max(from, Math.floor(start / HOUR_MS) * HOUR_MS) : Math.max(from, startOfLocalDay(localDate(start, timeZone), timeZone));
  return windowBounds(aligned, end, timeZone, hourly).flatMap((w) => (!hourly && w.start <= now && now < w.end ? windowBounds(w.start, w.end, timeZone, true) : [w]));
}

/** Who is whom: a visitor's person is the profile it identified as most recently, else the visitor. */
export function personOf(db: ReportDb, projectId: string, now: number): PersonOf {
  const s = state(db, projectId);
  // PostgreSQL: as the prime left it (primePersons).
  if (db instanceof PostgresReports) {
    if (!s.persons) throw new NotPrimed("who is whom (the persons map)");
    return s.persons.personOf;
  }
  if (personsDue(db, projectId, s, now, 0)) {
    const seq = writeSeq(db, projectId);
    keepPersons(s, readAllPages(readPersons(db, projectId)), seq, now);
  }
  return s.persons!.personOf;
}

/**
 * Reads the links again, a page at a time with `pause()` between pages, if they would age out within
 * `freshForMs` or identifies changed them: the warm-up, so a page never has to. On PostgreSQL also
 * when `primePersons` would read them (older than OTHER_NODES_MS): so the counts the warm-up keeps are
 * keyed by the links a page's prime reads next, and stay valid unless an identify changed them.
 */
export async function warmPersons(db: ReportDb, projectId: string, now: number, freshForMs: number, pause: () => Promise<unknown>): Promise<void> {
  const s = state(db, projectId);
  if (db instanceof PostgresReports) {
    if (personsKept(db, projectId, s, now, freshForMs)) return;
    const seq = writeSeq(db.notes, projectId);
    keepPersons(s, await readPersonsFrom(db.storage, projectId, undefined, pause), seq, now);
    return;
  }
  if (!personsDue(db, projectId, s, now, freshForMs)) return;
  // Stamped before the first page: an identify that lands meanwhile makes the reading due again.
  const seq = writeSeq(db, projectId);
  keepPersons(s, await readPagesPausing(readPersons(db, projectId), pause), seq, now);
}

/**
 * PostgreSQL: reads the links again when they are due (as on SQLite) or older than OTHER_NODES_MS, as
 * another node may have linked a visitor meanwhile (see source.ts).
 */
export async function primePersons(db: PostgresReports, projectId: string, now: number): Promise<void> {
  const s = state(db, projectId);
  if (personsKept(db, projectId, s, now, 0)) return;
  const seq = writeSeq(db.notes, projectId);
  keepPersons(s, await readPersonsFrom(db.storage, projectId), seq, now);
}

/** PostgreSQL: whether the kept links hold (for `freshForMs` more), else `primePersons` reads them again. */
function personsKept(db: PostgresReports, projectId: string, s: ProjectState, now: number, freshForMs: number): boolean {
  return s.persons !== null && now >= s.persons.at && (!othersUnheard(db) || now - s.persons.at < OTHER_NODES_MS - freshForMs) && !personsDue(db, projectId, s, now, freshForMs);
}

function personsDue(db: ReportDb, projectId: string, s: ProjectState, now: number, freshForMs: number): boolean {
  const cached = s.persons;
  if (!cached) return true;
  const age = now - cached.at;
  // A small map is cheap to read again at once; a large one at most every PERSONS_MS while identifies keep coming.
  const changed = personsChangedSince(notesKey(db), projectId, cached.seq) && (age >= PERSONS_MS || age < 0 || cached.personOf.size < 10_000);
  return age < 0 || age >= MAX_AGE_MS - freshForMs || changed;
}

function keepPersons(s: ProjectState, links: Map<number, number>, seq: number, now: number): void {
  const cached = s.persons;
  // One function per reading of the links: counts keyed by it (see count.ts) stay valid while it does,
  // so a reading that finds the same links keeps the function.
  const personOf = cached && sameLinks(cached.links, links) ? cached.personOf : Object.assign((visitor: number) => links.get(visitor) ?? visitor, { size: links.size });
  s.persons = { personOf, links: personOf === cached?.personOf ? cached.links : links, at: now, seq };
}

function sameLinks(a: Map<number, number>, b: Map<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [visitor, person] of b) if (a.get(visitor) !== person) return false;
  return true;
}
