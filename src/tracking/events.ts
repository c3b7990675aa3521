// Records one event in a visitor's journey, with its hourly rollup, as part of a write job (either engine).
import { BatchSums } from "../db/batch-sums.ts";
import { registerDeferredCounter } from "../db/counter-backlog.ts";
import { greatest, perEngine } from "../db/postgres/dialect.ts";
import type { JobSteps, JobTx } from "../db/storage/jobs.ts";
import type { SqlValue } from "../db/storage/storage.ts";
import { contextFromColumns, contextValues, EMPTY_CONTEXT, type AttributionContext, type ContextColumns } from "./attribution-context.ts";
import { prepared } from "./statements.ts";
import { noteWrite } from "../reports/writes.ts";

export interface EventInput {
  projectId: string;
  name: string;
  /** unix ms */
  ts: number;
  visitorId?: string | null;
  sessionId?: string | null;
  profileId?: string | null;
  path?: string | null;
  props?: Record<string, unknown> | null;
  /** When omitted, the context of `sessionId`'s session (or none). */
  context?: AttributionContext | null;
}

export interface RollupIncrements {
  clicks?: number;
  sessions?: number;
  pageviews?: number;
  pricingViews?: number;
  signups?: number;
  signupsStarted?: number;
  /** Clicks that also count in their link's all-time counter (link_counters), and the latest one's time. */
  linkClicks?: number;
  lastClickedAt?: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Which rollup counter an event name moves; other names are kept only as raw events. */
const COUNTED_EVENTS: Record<string, keyof RollupIncrements> = {
  link_clicked: "clicks",
  page_view: "pageviews",
  pricing_view: "pricingViews",
  signup_started: "signupsStarted",
  signup_completed: "signups",
};

const INSERT_EVENT = `INSERT INTO events (project_id, ts, name, visitor_id, session_id, profile_id, path, props,
  link_id, campaign_id, source, medium, content, lead_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const COUNT_COLUMNS = ["clicks", "visitors", "sessions", "pageviews", "pricing_views", "signups", "signups_started"];
const CONTEXT_KEY_COLUMNS = "link_id, campaign_id, source, medium, content, lead_id";
/** Each counter column plus the inserted row's (the table named, as PostgreSQL finds a bare column ambiguous there). */
const addCounts = (table: string) => COUNT_COLUMNS.map((column) => `${column} = ${table}.${column} + excluded.${column}`).join(", ");

const BUMP_ROLLUP = `INSERT INTO context_stats_hourly (project_id, hour, ${CONTEXT_KEY_COLUMNS}, ${COUNT_COLUMNS.join(", ")})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (project_id, hour, ${CONTEXT_KEY_COLUMNS}) DO UPDATE SET ${addCounts("context_stats_hourly")}`;

const BUMP_PERIOD = `INSERT INTO context_stats_periods (project_id, grain, period, ${CONTEXT_KEY_COLUMNS}, ${COUNT_COLUMNS.join(", ")})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (project_id, grain, period, ${CONTEXT_KEY_COLUMNS}) DO UPDATE SET ${addCounts("context_stats_periods")}`;

const SESSION_CONTEXT = "SELECT link_id, campaign_id, source, medium, content, lead_id FROM sessions WHERE id = ?";

/** Inserts the event and moves its rollup counter; returns the event's id. */
export function* recordEvent(tx: JobTx, event: EventInput): JobSteps<number> {
  const context = event.context ?? (event.context === undefined && event.sessionId ? yield* sessionContext(tx, event.sessionId) : EMPTY_CONTEXT);
  const id = yield* tx.insert(INSERT_EVENT, eventRow(event, context));
  yield* tx.note(noteWrite, event.projectId, event.ts);
  const counter = COUNTED_EVENTS[event.name];
  if (counter === "clicks") yield* bumpRollup(tx, event.projectId, event.ts, context, { clicks: 1, linkClicks: context.linkId ? 1 : 0, lastClickedAt: event.ts });
  else if (counter) yield* bumpRollup(tx, event.projectId, event.ts, context, { [counter]: 1 });
  return id;
}

// Work outside the generators where it can be: a generator's body ran slower than a plain function's
// (bench/tracking.ts), and the redirect and collect run these on every hit.
function eventRow(event: EventInput, context: AttributionContext): SqlValue[] {
  return [
    event.projectId,
    event.ts,
    event.name,
    event.visitorId ?? null,
    event.sessionId ?? null,
    event.profileId ?? null,
    event.path ?? null,
    event.props && Object.keys(event.props).length > 0 ? JSON.stringify(event.props) : null,
    ...contextValues(context),
  ];
}

const COUNT_LINK_CLICKS = perEngine(
  (engine) => `INSERT INTO link_counters (link_id, project_id, clicks, last_clicked_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (link_id) DO UPDATE SET clicks = link_counters.clicks + excluded.clicks,
  last_clicked_at = ${greatest(engine, "coalesce(link_counters.last_clicked_at, 0)", "excluded.last_clicked_at")}`,
);

const ROLLUP_COUNTS = 7;
const LINK_CLICKS = 7;
const LAST_CLICKED_AT = 8;

/**
 * The hour's row, its UTC day's and month's rows in context_stats_periods, and the link's all-time
 * counter: one sum per key carries them all, so a click costs one counter entry rather than two.
 * Sums written before the link's counter joined them have no link clicks, as theirs went apart.
 */
function* writeRollup(tx: JobTx, [projectId, hour, ...context]: readonly SqlValue[], values: number[]): JobSteps<void> {
  const counts = values.slice(0, ROLLUP_COUNTS);
  yield* tx.run(BUMP_ROLLUP, [projectId!, hour!, ...context, ...counts]);
  // Days folded in memory before this counter reached the rollups are folded again.
  yield* tx.note(noteWrite, projectId as string, hour as number);
  const at = new Date(hour as number);
  yield* tx.run(BUMP_PERIOD, [projectId!, "day", (hour as number) - ((hour as number) % DAY_MS), ...context, ...counts]);
  yield* tx.run(BUMP_PERIOD, [projectId!, "month", Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1), ...context, ...counts]);
  const linkClicks = values[LINK_CLICKS] ?? 0;
  if (linkClicks > 0) yield* tx.run(COUNT_LINK_CLICKS[tx.engine], [context[0]!, projectId!, linkClicks, values[LAST_CLICKED_AT]!]);
}

/**
 * PostgreSQL: rows of `table` from one parameter, a JSON array of arrays (its text columns, then its
 * integer ones), added to the rows they conflict with. One statement for a batch's keys: a round trip
 * each cost a batch of 32 clicks some 130 of them.
 */
function addRowsSql(table: string, text: readonly string[], integers: readonly string[], conflict: readonly string[], set: string): string {
  const columns = [...text, ...integers];
  const values = columns.map((column, i) => (i < text.length ? `r->>${i}` : `CAST(r->>${i} AS BIGINT)`));
  return `INSERT INTO ${table} (${columns.join(", ")}) SELECT ${values.join(", ")} FROM jsonb_array_elements(CAST(? AS jsonb)) AS r
    ON CONFLICT (${conflict.join(", ")}) DO UPDATE SET ${set}`;
}

const CONTEXT_KEYS = CONTEXT_KEY_COLUMNS.split(", ");
const ADD_HOURLY_ROWS = addRowsSql("context_stats_hourly", ["project_id", ...CONTEXT_KEYS], ["hour", ...COUNT_COLUMNS], ["project_id", "hour", ...CONTEXT_KEYS], addCounts("context_stats_hourly"));
const ADD_PERIOD_ROWS = addRowsSql(
  "context_stats_periods",
  ["project_id", "grain", ...CONTEXT_KEYS],
  ["period", ...COUNT_COLUMNS],
  ["project_id", "grain", "period", ...CONTEXT_KEYS],
  addCounts("context_stats_periods"),
);
const ADD_LINK_ROWS = addRowsSql(
  "link_counters",
  ["link_id", "project_id"],
  ["clicks", "last_clicked_at"],
  ["link_id"],
  `clicks = link_counters.clicks + excluded.clicks, last_clicked_at = ${greatest("postgres", "coalesce(link_counters.last_clicked_at, 0)", "excluded.last_clicked_at")}`,
);

/**
 * PostgreSQL's writeRollup for a whole batch: the hours' rows, their days' and months' rows (summed
 * here, as one statement may not add to a row twice) and the links' counters, a statement each.
 */
function* writeRollups(tx: JobTx, keys: readonly { params: readonly SqlValue[]; values: number[] }[]): JobSteps<void> {
  const hours: SqlValue[][] = [];
  const periods = new Map<string, SqlValue[]>();
  const links = new Map<string, SqlValue[]>();
  for (const { params, values } of keys) {
    const [projectId, hour, ...context] = params as [string, number, ...string[]];
    const counts = values.slice(0, ROLLUP_COUNTS);
    hours.push([projectId, ...context, hour, ...counts]);
    yield* tx.note(noteWrite, projectId, hour);
    const at = new Date(hour);
    for (const [grain, period] of [["day", hour - (hour % DAY_MS)], ["month", Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)]] as const) {
      const key = [projectId, grain, ...context, period].join("\u0000");
      const row = periods.get(key);
      if (row) for (let i = 0; i < ROLLUP_COUNTS; i++) (row[context.length + 3 + i] as number) += counts[i]!;
      else periods.set(key, [projectId, grain, ...context, period, ...counts]);
    }
    const linkClicks = values[LINK_CLICKS] ?? 0;
    if (linkClicks > 0) {
      const [linkId] = context as [string];
      const known = links.get(linkId);
      if (!known) links.set(linkId, [linkId, projectId, linkClicks, values[LAST_CLICKED_AT]!]);
      else {
        known[2] = (known[2] as number) + linkClicks;
        known[3] = Math.max(known[3] as number, values[LAST_CLICKED_AT]!);
      }
    }
  }
  yield* tx.run(ADD_HOURLY_ROWS, [JSON.stringify(hours)]);
  yield* tx.run(ADD_PERIOD_ROWS, [JSON.stringify([...periods.values()])]);
  if (links.size > 0) yield* tx.run(ADD_LINK_ROWS, [JSON.stringify([...links.values()])]);
}

// Link counters used to wait in the backlog apart from the rollup, as [clicks, last click's ts] per
// link; a backlog left by a crash of that version still holds such sums, and recovery folds them here.
registerDeferredCounter({
  name: "link_counters",
  write: (db, [linkId, projectId], [clicks, lastClickedAt]) => prepared(db, COUNT_LINK_CLICKS.sqlite).run(linkId!, projectId!, clicks!, lastClickedAt!),
  merge: (into, [clicks, lastClickedAt]) => {
    into[0]! += clicks!;
    into[1] = Math.max(into[1]!, lastClickedAt!);
  },
});

const hourlyRollup = new BatchSums(
  writeRollup,
  (into, more) => {
    for (let i = 0; i < LAST_CLICKED_AT; i++) into[i] = (into[i] ?? 0) + (more[i] ?? 0);
    into[LAST_CLICKED_AT] = Math.max(into[LAST_CLICKED_AT] ?? 0, more[LAST_CLICKED_AT] ?? 0);
  },
  "context_stats",
  writeRollups,
);

/**
 * Adds to the hourly, daily and monthly counters of one project and context, and to a link's
 * all-time counter (once per batch and key inside a queued write). The only writer of
 * context_stats_hourly, context_stats_periods and link_counters.
 */
export function bumpRollup(tx: JobTx, projectId: string, ts: number, context: AttributionContext, by: RollupIncrements): JobSteps<void> {
  const key = [projectId, Math.floor(ts / HOUR_MS) * HOUR_MS, ...contextValues(context).map((value) => value ?? "")];
  const counts = [
    by.clicks ?? 0,
    // The rollup's visitors column is no longer counted: people are counted distinct from the raw journey
    // (SPEC §10, src/reports/people). Its slot stays so backlog sums left by earlier versions still fold.
    0,
    by.sessions ?? 0,
    by.pageviews ?? 0,
    by.pricingViews ?? 0,
    by.signups ?? 0,
    by.signupsStarted ?? 0,
    by.linkClicks ?? 0,
    by.lastClickedAt ?? 0,
  ];
  return tx.sum(hourlyRollup, key.join("\u0000"), key, counts);
}

export function* sessionContext(tx: JobTx, sessionId: string): JobSteps<AttributionContext> {
  const row = yield* tx.get<ContextColumns>(SESSION_CONTEXT, [sessionId]);
  return row ? contextFromColumns(row) : EMPTY_CONTEXT;
}
