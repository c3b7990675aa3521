// The windows a range is read in, kept in memory until something is written into them: local days
// for long ranges (the day still running cut into hours, so its closed hours stay kept), hours for
// short ones; and who is whom (visitor → profile). What every people count starts from.
import type { Database } from "bun:sqlite";
import { addDays, localDate, startOfLocalDay } from "../../dashboard/range.ts";
import { mergeWindows, readPersons, readWindow, type PeopleWindow, type PersonOf } from "./window.ts";
import { personsChangedSince, writeSeq, writtenSince } from "../writes.ts";
import { readAllPages, readPagesPausing } from "../../db/pages.ts";

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
}

const states = new WeakMap<Database, Map<string, ProjectState>>();

function state(db: Database, projectId: string): ProjectState {
  let projects = states.get(db);
  if (!projects) states.set(db, (projects = new Map()));
  let s = projects.get(projectId);
  if (!s) projects.set(projectId, (s = { windows: new Map(), persons: null }));
  return s;
}

function fresh(db: Database, projectId: string, cached: Cached | undefined, now: number): cached is Cached {
  if (!cached || now < cached.at || now - cached.at >= MAX_AGE_MS) return false;
  return !writtenSince(db, projectId, cached.window.start, cached.window.end, cached.seq);
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
export function peopleWindow(db: Database, projectId: string, start: number, end: number, now: number): PeopleWindow {
  const s = state(db, projectId);
  const key = `${start}|${end}`;
  const hit = s.windows.get(key);
  if (fresh(db, projectId, hit, now)) return hit.window;
  const seq = writeSeq(db, projectId);
  const window = readWindow(db, projectId, start, end);
  remember(s, key, { at: now, seq, window });
  return window;
}

/** Reads the window [start, end) into memory `sliceHours` at a time, awaiting `pause()` between reads (the background warm-up). */
export async function warmPeopleWindow(db: Database, projectId: string, start: number, end: number, now: number, pause: () => Promise<unknown>, sliceHours = 1): Promise<void> {
  const s = state(db, projectId);
  const seq = writeSeq(db, projectId);
  const parts: PeopleWindow[] = [];
  for (let from = start; from < end; from += sliceHours * HOUR_MS) {
    parts.push(readWindow(db, projectId, from, Math.min(end, from + sliceHours * HOUR_MS)));
    await pause();
  }
  // Stamped with the sequence number before the first read: a write that landed meanwhile makes it stale.
  remember(s, `${start}|${end}`, { at: now, seq, window: mergeWindows(parts) });
}

/** Reads the window [start, end) and then its pages viewed, each in slices, unless they are in memory and fresh. */
export async function warmWindowAndPages(db: Database, projectId: string, start: number, end: number, now: number, pause: () => Promise<unknown>): Promise<void> {
  if (!hasFreshWindow(db, projectId, start, end, now)) await warmPeopleWindow(db, projectId, start, end, now, pause);
  await peopleWindow(db, projectId, start, end, now).pages.warm(pause);
}

/** True when the window is in memory and fresh (what a background warm-up skips). */
export function hasFreshWindow(db: Database, projectId: string, start: number, end: number, now: number): boolean {
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

/** The first instant anything was recorded for the project: no window before it needs reading. */
export function firstActivity(db: Database, projectId: string): number {
  const row = db
    .query<{ at: number | null }, [string, string]>(
      "SELECT min(coalesce((SELECT min(ts) FROM events WHERE project_id = ?1), 9e15), coalesce((SELECT min(occurred_at) FROM payments WHERE project_id = ?2), 9e15)) AS at",
    )
    .get(projectId, projectId);
  return row?.at ?? 9e15;
}

/** The range's windows, cut as `windowBounds` says, skipping the time before the project's first data and after now. */
export function peopleWindows(db: Database, projectId: string, from: number, to: number, timeZone: string, now: number): PeopleWindow[] {
  return rangeWindowBounds(db, projectId, from, to, timeZone, now).map((w) => peopleWindow(db, projectId, w.start, w.end, now));
}

/**
 * Reads the range's windows that are not fresh in memory, each `sliceHours` at a time with `pause()`
 * between reads, so that `peopleWindows` then finds them all (the warm-up, after writes into past days);
 * with `pages`, their pages viewed too.
 */
export async function warmPeopleWindows(
  db: Database,
  projectId: string,
  from: number,
  to: number,
  timeZone: string,
  now: number,
  pause: () => Promise<unknown>,
  options?: { pages: boolean },
): Promise<void> {
  for (const w of rangeWindowBounds(db, projectId, from, to, timeZone, now)) {
    if (options?.pages) await warmWindowAndPages(db, projectId, w.start, w.end, now, pause);
    else if (!hasFreshWindow(db, projectId, w.start, w.end, now)) await warmPeopleWindow(db, projectId, w.start, w.end, now, pause);
  }
}

function rangeWindowBounds(db: Database, projectId: string, from: number, to: number, timeZone: string, now: number): { start: number; end: number }[] {
  const hourly = to - from <= 2 * DAY_MS;
  const start = Math.max(from, firstActivity(db, projectId));
  const end = Math.min(to, now + DAY_MS);
  if (start >= end) return [];
  // Windows start on the hour or at local midnight even when the data starts later, so a window's key is the same whatever the range.
  const aligned = hourly ? Math.max(from, Math.floor(start / HOUR_MS) * HOUR_MS) : Math.max(from, startOfLocalDay(localDate(start, timeZone), timeZone));
  return windowBounds(aligned, end, timeZone, hourly).flatMap((w) => (!hourly && w.start <= now && now < w.end ? windowBounds(w.start, w.end, timeZone, true) : [w]));
}

/** Who is whom: a visitor's person is the profile it identified as most recently, else the visitor. */
export function personOf(db: Database, projectId: string, now: number): PersonOf {
  const s = state(db, projectId);
  if (personsDue(db, projectId, s, now, 0)) {
    const seq = writeSeq(db, projectId);
    keepPersons(s, readAllPages(readPersons(db, projectId)), seq, now);
  }
  return s.persons!.personOf;
}

/**
 * Reads the links again, a page at a time with `pause()` between pages, if they would age out within
 * `freshForMs` or identifies changed them: the warm-up, so a page never has to.
 */
export async function warmPersons(db: Database, projectId: string, now: number, freshForMs: number, pause: () => Promise<unknown>): Promise<void> {
  const s = state(db, projectId);
  if (!personsDue(db, projectId, s, now, freshForMs)) return;
  // Stamped before the first page: an identify that lands meanwhile makes the reading due again.
  const seq = writeSeq(db, projectId);
  keepPersons(s, await readPagesPausing(readPersons(db, projectId), pause), seq, now);
}

function personsDue(db: Database, projectId: string, s: ProjectState, now: number, freshForMs: number): boolean {
  const cached = s.persons;
  if (!cached) return true;
  const age = now - cached.at;
  // A small map is cheap to read again at once; a large one at most every PERSONS_MS while identifies keep coming.
  const changed = personsChangedSince(db, projectId, cached.seq) && (age >= PERSONS_MS || age < 0 || cached.personOf.size < 10_000);
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
