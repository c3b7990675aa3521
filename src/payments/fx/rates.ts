// Stored exchange rates: every ECB fixing (shared by all projects), each project's manual rates,
// and the feed's health. The lookups the conversion needs, and nothing else.
import type { Database } from "bun:sqlite";
import { prepared } from "../../tracking/statements.ts";
import { isTargetClosingDay } from "./ecb.ts";
import type { EcbFixing, ManualRate } from "./convert.ts";

/** Stores fixings (a day already stored is replaced); returns the days that were new. */
export function storeFixings(db: Database, fixings: readonly EcbFixing[]): string[] {
  const known = new Set(prepared<{ day: string }, []>(db, "SELECT DISTINCT day FROM fx_rates").all().map((r) => r.day));
  const upsert = prepared(db, "INSERT INTO fx_rates (day, currency, rate) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET rate = excluded.rate");
  for (const fixing of fixings) for (const [currency, rate] of Object.entries(fixing.perEur)) upsert.run(fixing.date, currency, rate);
  fixingCache.delete(db);
  return fixings.map((f) => f.date).filter((day) => !known.has(day));
}

export function latestFixingDay(db: Database): string | null {
  return prepared<{ day: string | null }, []>(db, "SELECT MAX(day) AS day FROM fx_rates").get()?.day ?? null;
}

const fixingCache = new WeakMap<Database, Map<string, EcbFixing | null>>();

function addDay(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The fixing in force on `day`: that day's, or the last earlier one when `day` had none — known
 * because a later fixing exists or every day since is a TARGET closing day. Null when the day's
 * rate may still come (it is converted when it arrives) or no fixing is that old.
 */
export function fixingFor(db: Database, day: string): EcbFixing | null {
  let cache = fixingCache.get(db);
  if (!cache) fixingCache.set(db, (cache = new Map()));
  if (cache.has(day)) return cache.get(day)!;
  const fixingDay = prepared<{ day: string | null }, [string]>(db, "SELECT MAX(day) AS day FROM fx_rates WHERE day <= ?").get(day)?.day ?? null;
  let fixing: EcbFixing | null = null;
  if (fixingDay) {
    let settled = fixingDay === day || (latestFixingDay(db) ?? "") > day;
    for (let d = addDay(fixingDay, 1); !settled && d <= day && isTargetClosingDay(d); d = addDay(d, 1)) settled = d === day;
    if (settled) {
      const rows = prepared<{ currency: string; rate: string }, [string]>(db, "SELECT currency, rate FROM fx_rates WHERE day = ?").all(fixingDay);
      fixing = { date: fixingDay, perEur: Object.fromEntries(rows.map((r) => [r.currency, r.rate])) };
    }
  }
  if (cache.size > 5000) cache.clear();
  cache.set(day, fixing);
  return fixing;
}

/** The latest fixing stored, for settings and GET /fx/rates. */
export function latestFixing(db: Database): EcbFixing | null {
  const day = latestFixingDay(db);
  return day ? fixingFor(db, day) : null;
}

interface ManualRow {
  currency: string;
  per: string;
  rate: string;
  from_day: string;
}

export function manualRates(db: Database, projectId: string): ManualRate[] {
  return prepared<ManualRow, [string]>(db, "SELECT currency, per, rate, from_day FROM fx_manual_rates WHERE project_id = ? ORDER BY currency, from_day")
    .all(projectId)
    .map((r) => ({ currency: r.currency, per: r.per, rate: r.rate, from: r.from_day || null }));
}

export function putManualRate(db: Database, projectId: string, rate: ManualRate, now: number): void {
  prepared(
    db,
    `INSERT INTO fx_manual_rates (project_id, currency, per, rate, from_day, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT DO UPDATE SET per = excluded.per, rate = excluded.rate, updated_at = excluded.updated_at`,
  ).run(projectId, rate.currency, rate.per, rate.rate, rate.from ?? "", now);
}

/** Deletes every manual rate of `currency`; returns how many there were. */
export function deleteManualRates(db: Database, projectId: string, currency: string): number {
  return prepared(db, "DELETE FROM fx_manual_rates WHERE project_id = ? AND currency = ?").run(projectId, currency).changes;
}

export interface FeedStatus {
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  failures: number;
  latestDay: string | null;
}

export function feedStatus(db: Database): FeedStatus {
  const row = prepared<{ last_attempt_at: number | null; last_success_at: number | null; last_error: string | null; failures: number }, []>(
    db,
    "SELECT last_attempt_at, last_success_at, last_error, failures FROM fx_feed WHERE id = 1",
  ).get();
  return {
    lastAttemptAt: row?.last_attempt_at ?? null,
    lastSuccessAt: row?.last_success_at ?? null,
    lastError: row?.last_error ?? null,
    failures: row?.failures ?? 0,
    latestDay: latestFixingDay(db),
  };
}

export function recordFeedAttempt(db: Database, now: number, error: string | null): void {
  prepared(
    db,
    `INSERT INTO fx_feed (id, last_attempt_at, last_success_at, last_error, failures) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT DO UPDATE SET last_attempt_at = excluded.last_attempt_at, last_success_at = COALESCE(excluded.last_success_at, last_success_at),
       last_error = excluded.last_error, failures = CASE WHEN excluded.last_error IS NULL THEN 0 ELSE failures + 1 END`,
  ).run(now, error === null ? now : null, error, error === null ? 0 : 1);
}
