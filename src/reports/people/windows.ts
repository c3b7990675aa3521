// The windows a range is read in, kept in memory: local days for long ranges (a closed day is read
// once and kept until something is written into its past), hours for short ones, and who is whom
// (visitor → profile). What every people count in reports and the dashboard starts from.
import type { Database } from "bun:sqlite";
import { addDays, localDate, startOfLocalDay } from "../../dashboard/range.ts";
import { readPersons, readWindow, type PeopleWindow, type PersonOf } from "./window.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The window still running (or just closed) is read again at most this often. */
const OPEN_MS = 10_000;
/** A closed window is read again after this long even when no late write was seen (another node may have written). */
const CLOSED_MS = 30 * 60_000;
/** How often the visitor → profile links are read again while identifies keep coming. */
const PERSONS_MS = 5_000;
const MAX_WINDOWS = 4000;

interface Cached {
  at: number;
  window: PeopleWindow;
}

interface ProjectState {
  windows: Map<string, Cached>;
  /** Writes into the past: [event time, when written], so windows read before them are read again. */
  late: [number, number][];
  persons: { map: Map<number, number>; at: number } | null;
  personsChangedAt: number;
}

const states = new WeakMap<Database, Map<string, ProjectState>>();

function state(db: Database, projectId: string): ProjectState {
  let projects = states.get(db);
  if (!projects) states.set(db, (projects = new Map()));
  let s = projects.get(projectId);
  if (!s) projects.set(projectId, (s = { windows: new Map(), late: [], persons: null, personsChangedAt: 0 }));
  return s;
}

/** A write whose time lies over an hour in the past (a backfilled payment, a server-side event with a timestamp). */
export function noteLateWrite(db: Database, projectId: string, ts: number, now = Date.now()): void {
  if (ts >= now - HOUR_MS) return;
  const s = state(db, projectId);
  s.late.push([ts, now]);
  // Marks older than any cached read are no longer needed.
  if (s.late.length > 1000) s.late = s.late.filter(([, at]) => now - at < CLOSED_MS);
}

/** A visitor was linked to a profile: people counts read the links again. */
export function notePersonsChanged(db: Database, projectId: string, now = Date.now()): void {
  state(db, projectId).personsChangedAt = now;
}

function fresh(s: ProjectState, cached: Cached | undefined, now: number): cached is Cached {
  if (!cached || now < cached.at) return false;
  const { window, at } = cached;
  if (window.end + HOUR_MS > at) return now - at < OPEN_MS;
  if (now - at >= CLOSED_MS) return false;
  return !s.late.some(([ts, written]) => written >= at && ts >= window.start && ts < window.end);
}

/** The window [start, end), from memory when fresh. */
export function peopleWindow(db: Database, projectId: string, start: number, end: number, now: number): PeopleWindow {
  const s = state(db, projectId);
  const key = `${start}|${end}`;
  const hit = s.windows.get(key);
  if (fresh(s, hit, now)) return hit.window;
  const window = readWindow(db, projectId, start, end);
  s.windows.delete(key);
  s.windows.set(key, { at: now, window });
  for (const oldest of s.windows.keys()) {
    if (s.windows.size <= MAX_WINDOWS) break;
    s.windows.delete(oldest);
  }
  return window;
}

/** True when the window is in memory and fresh (what a background warm-up skips). */
export function hasFreshWindow(db: Database, projectId: string, start: number, end: number, now: number): boolean {
  const s = state(db, projectId);
  return fresh(s, s.windows.get(`${start}|${end}`), now);
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
function firstActivity(db: Database, projectId: string): number {
  const row = db
    .query<{ at: number | null }, [string, string]>(
      "SELECT min(coalesce((SELECT min(ts) FROM events WHERE project_id = ?1), 9e15), coalesce((SELECT min(occurred_at) FROM payments WHERE project_id = ?2), 9e15)) AS at",
    )
    .get(projectId, projectId);
  return row?.at ?? 9e15;
}

/** The range's windows, cut as `windowBounds` says, skipping the time before the project's first data and after now. */
export function peopleWindows(db: Database, projectId: string, from: number, to: number, timeZone: string, now: number): PeopleWindow[] {
  const hourly = to - from <= 2 * DAY_MS;
  const start = Math.max(from, firstActivity(db, projectId));
  const end = Math.min(to, now + DAY_MS);
  if (start >= end) return [];
  // Windows start on the hour or at local midnight even when the data starts later, so a window's key is the same whatever the range.
  const aligned = hourly ? Math.max(from, Math.floor(start / HOUR_MS) * HOUR_MS) : Math.max(from, startOfLocalDay(localDate(start, timeZone), timeZone));
  return windowBounds(aligned, end, timeZone, hourly).map((w) => peopleWindow(db, projectId, w.start, w.end, now));
}

/** Who is whom: a visitor's person is the profile it identified as most recently, else the visitor. */
export function personOf(db: Database, projectId: string, now: number): PersonOf {
  const s = state(db, projectId);
  const cached = s.persons;
  // A small map is cheap to read again at once; a large one at most every PERSONS_MS while identifies keep coming.
  const changed = cached !== null && s.personsChangedAt >= cached.at && (now - cached.at >= PERSONS_MS || cached.map.size < 10_000);
  const stale = !cached || now < cached.at || now - cached.at >= CLOSED_MS || changed;
  if (stale) s.persons = { map: readPersons(db, projectId), at: now };
  const map = s.persons!.map;
  return (visitor) => map.get(visitor) ?? visitor;
}
