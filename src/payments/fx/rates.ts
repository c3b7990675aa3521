// Stored exchange rates: every ECB fixing (shared by all projects), each project's manual rates,
// and the feed's health. The lookups the conversion needs, and nothing else.
import type { JobSteps, JobTx } from "../../db/storage/jobs.ts";
import { isTargetClosingDay } from "./ecb.ts";
import type { EcbFixing, ManualRate } from "./convert.ts";

/** Stores fixings (a day already stored is replaced); returns the days that were new. */
export function* storeFixings(tx: JobTx, fixings: readonly EcbFixing[]): JobSteps<string[]> {
  const known = new Set((yield* tx.all<{ day: string }>("SELECT DISTINCT day FROM fx_rates")).map((r) => r.day));
  for (const fixing of fixings) {
    for (const [currency, rate] of Object.entries(fixing.perEur)) {
      yield* tx.run("INSERT INTO fx_rates (day, currency, rate) VALUES (?, ?, ?) ON CONFLICT (day, currency) DO UPDATE SET rate = excluded.rate", [fixing.date, currency, rate]);
    }
  }
  fixingCaches.delete(tx);
  return fixings.map((f) => f.date).filter((day) => !known.has(day));
}

export function* latestFixingDay(tx: JobTx): JobSteps<string | null> {
  return (yield* tx.get<{ day: string | null }>("SELECT MAX(day) AS day FROM fx_rates"))?.day ?? null;
}

/**
 * Fixings looked up, per SQLite connection (its job tx is one per connection): a payment converts
 * without a query once its day is known, and storeFixings, on that connection too, forgets them. Not
 * on PostgreSQL, where another node may store fixings.
 */
const fixingCaches = new WeakMap<JobTx, Map<string, EcbFixing | null>>();

function addDay(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The fixing in force on `day`: that day's, or the last earlier one when `day` had none — known
 * because a later fixing exists or every day since is a TARGET closing day. Null when the day's
 * rate may still come (it is converted when it arrives) or no fixing is that old.
 */
export function* fixingFor(tx: JobTx, day: string): JobSteps<EcbFixing | null> {
  let cache: Map<string, EcbFixing | null> | null = null;
  if (tx.engine === "sqlite") {
    cache = fixingCaches.get(tx) ?? null;
    if (!cache) fixingCaches.set(tx, (cache = new Map()));
    if (cache.has(day)) return cache.get(day)!;
  }
  const fixingDay = (yield* tx.get<{ day: string | null }>("SELECT MAX(day) AS day FROM fx_rates WHERE day <= ?", [day]))?.day ?? null;
  let fixing: EcbFixing | null = null;
  if (fixingDay) {
    let settled = fixingDay === day || ((yield* latestFixingDay(tx)) ?? "") > day;
    for (let d = addDay(fixingDay, 1); !settled && d <= day && isTargetClosingDay(d); d = addDay(d, 1)) settled = d === day;
    if (settled) {
      const rows = yield* tx.all<{ currency: string; rate: string }>("SELECT currency, rate FROM fx_rates WHERE day = ?", [fixingDay]);
      fixing = { date: fixingDay, perEur: Object.fromEntries(rows.map((r) => [r.currency, r.rate])) };
    }
  }
  if (cache) {
    if (cache.size > 5000) cache.clear();
    cache.set(day, fixing);
  }
  return fixing;
}

/** The latest fixing stored, for settings and GET /fx/rates. */
export function* latestFixing(tx: JobTx): JobSteps<EcbFixing | null> {
  const day = yield* latestFixingDay(tx);
  return day ? yield* fixingFor(tx, day) : null;
}

interface ManualRow {
  currency: string;
  per: string;
  rate: string;
  from_day: string;
}

export function* manualRates(tx: JobTx, projectId: string): JobSteps<ManualRate[]> {
  const rows = yield* tx.all<ManualRow>("SELECT currency, per, rate, from_day FROM fx_manual_rates WHERE project_id = ? ORDER BY currency, from_day", [projectId]);
  return rows.map((r) => ({ currency: r.currency, per: r.per, rate: r.rate, from: r.from_day || null }));
}

export function* putManualRate(tx: JobTx, projectId: string, rate: ManualRate, now: number): JobSteps<void> {
  yield* tx.run(
    `INSERT INTO fx_manual_rates (project_id, currency, per, rate, from_day, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (project_id, currency, from_day) DO UPDATE SET per = excluded.per, rate = excluded.rate, updated_at = excluded.updated_at`,
    [projectId, rate.currency, rate.per, rate.rate, rate.from ?? "", now],
  );
}

/** Deletes every manual rate of `currency`; returns how many there were. */
export function* deleteManualRates(tx: JobTx, projectId: string, currency: string): JobSteps<number> {
  return (yield* tx.run("DELETE FROM fx_manual_rates WHERE project_id = ? AND currency = ?", [projectId, currency])).changes;
}

export interface FeedStatus {
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  failures: number;
  latestDay: string | null;
}

export function* feedStatus(tx: JobTx): JobSteps<FeedStatus> {
  const row = yield* tx.get<{ last_attempt_at: number | null; last_success_at: number | null; last_error: string | null; failures: number }>(
    "SELECT last_attempt_at, last_success_at, last_error, failures FROM fx_feed WHERE id = 1",
  );
  return {
    lastAttemptAt: row?.last_attempt_at ?? null,
    lastSuccessAt: row?.last_success_at ?? null,
    lastError: row?.last_error ?? null,
    failures: row?.failures ?? 0,
    latestDay: yield* latestFixingDay(tx),
  };
}

export function* recordFeedAttempt(tx: JobTx, now: number, error: string | null): JobSteps<void> {
  yield* tx.run(
    `INSERT INTO fx_feed (id, last_attempt_at, last_success_at, last_error, failures) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, last_success_at = COALESCE(excluded.last_success_at, fx_feed.last_success_at),
       last_error = excluded.last_error, failures = CASE WHEN excluded.last_error IS NULL THEN 0 ELSE fx_feed.failures + 1 END`,
    [now, error === null ? now : null, error, error === null ? 0 : 1],
  );
}
