// What the API, the dashboard and the tracking code call: the ledger read as product data,
// raw provider events for debugging, and re-attribution after a late identify.
import type { Database } from "bun:sqlite";
import type { AppContext } from "../context.ts";
import { readJob, runJobOnSqlite, type JobSteps, type JobTx } from "../db/storage/jobs.ts";
import type { Storage } from "../db/storage/storage.ts";
import { perEngine } from "../db/postgres/dialect.ts";
import type { AttributionContext, AttributionMethod, Mismatch } from "../attribution/engine.ts";
import { contextFromRow, firstTouchFromRow } from "../attribution/loader.ts";
import { reattributePaymentsForEmail, type PaymentRow } from "./ledger.ts";
import type { IncomingPayment, PaymentKind, Provider } from "./types.ts";
import type { Reporting } from "./fx/convert.ts";
import { storedReporting } from "./fx/stored.ts";

export interface PaymentAttribution extends AttributionContext {
  method: AttributionMethod;
  /** The trail a person reads to see why, as sentences. */
  explanation: string;
  mismatches: Mismatch[];
  firstTouch: AttributionContext;
  visitorId: string | null;
  sessionId: string | null;
  profileId: string | null;
}

export interface PaymentEntry {
  id: string;
  provider: Provider;
  kind: PaymentKind;
  /** Minor units, tax included; negative for refunds and disputes. */
  amount: number;
  tax: number;
  /** amount - tax: what reports count as revenue. */
  net: number;
  currency: string;
  email: string | null;
  description: string;
  occurredAt: string;
  receivedAt: string;
  providerIds: Pick<IncomingPayment, "key" | "orderId" | "paymentIntentId" | "chargeId" | "checkoutSessionId" | "subscriptionId" | "customerId"> & {
    eventId: string | null;
  };
  parentPaymentId: string | null;
  metadata: Record<string, string>;
  attribution: PaymentAttribution;
  /** The value in the project's reporting currency (SPEC §5); null until first converted (seconds after an upgrade). */
  reporting: Reporting | null;
  /** What the provider credited in its balance currency, when it said. */
  settlement: { currency: string; amount: number } | null;
}

export function toPaymentEntry(row: PaymentRow): PaymentEntry {
  return {
    id: row.id,
    provider: row.provider as Provider,
    kind: row.kind,
    amount: row.amount,
    tax: row.tax,
    net: row.net,
    currency: row.currency,
    email: row.customer_email,
    description: row.description,
    occurredAt: new Date(row.occurred_at).toISOString(),
    receivedAt: new Date(row.received_at).toISOString(),
    providerIds: {
      key: row.payment_key,
      eventId: row.event_id,
      orderId: row.order_id,
      paymentIntentId: row.payment_intent_id,
      chargeId: row.charge_id,
      checkoutSessionId: row.checkout_session_id,
      subscriptionId: row.subscription_id,
      customerId: row.customer_id,
    },
    parentPaymentId: row.parent_payment_id,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    attribution: {
      method: row.method,
      ...contextFromRow(row),
      explanation: (JSON.parse(row.explanation) as string[]).join(" "),
      mismatches: JSON.parse(row.mismatches) as Mismatch[],
      firstTouch: firstTouchFromRow(row),
      visitorId: row.visitor_id,
      sessionId: row.session_id,
      profileId: row.profile_id,
    },
    reporting: storedReporting(row),
    settlement: row.settlement_currency && row.settlement_amount !== null ? { currency: row.settlement_currency, amount: row.settlement_amount } : null,
  };
}

export interface PaymentFilters {
  /** Unix ms, inclusive. */
  from?: number;
  /** Unix ms, exclusive. */
  to?: number;
  method?: AttributionMethod;
  provider?: Provider;
  kind?: PaymentKind;
  linkId?: string;
  email?: string;
  /** Newest first; at most 1000 (default 100). */
  limit?: number;
  /** From a previous page's nextCursor. */
  cursor?: string;
}

export interface PaymentPage {
  payments: PaymentEntry[];
  /** Pass as `cursor` for the next (older) page; null at the end. */
  nextCursor: string | null;
}

/**
 * A page of the ledger, read by a job so that one SQL serves both: `loadPayments` on either engine,
 * `listPayments` on SQLite's connection for the callers still synchronous (tests).
 */
export function* paymentsPage(tx: JobTx, projectId: string, filters: PaymentFilters = {}): JobSteps<PaymentPage> {
  const where = ["project_id = ?"];
  const args: (string | number)[] = [projectId];
  const add = (clause: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    args.push(value);
  };
  add("occurred_at >= ?", filters.from);
  add("occurred_at < ?", filters.to);
  add("method = ?", filters.method);
  add("provider = ?", filters.provider);
  add("kind = ?", filters.kind);
  add("link_id = ?", filters.linkId);
  add("customer_email = ?", filters.email?.trim().toLowerCase());
  if (filters.cursor) {
    const [at, id] = filters.cursor.split("_pay_");
    if (at && id && Number.isFinite(Number(at))) {
      where.push("(occurred_at < ? OR (occurred_at = ? AND id < ?))");
      args.push(Number(at), Number(at), `pay_${id}`);
    }
  }
  const limit = Math.min(Math.max(filters.limit ?? 100, 1), 1000);
  const rows = yield* tx.all<PaymentRow>(`SELECT * FROM payments WHERE ${where.join(" AND ")} ORDER BY occurred_at DESC, id DESC LIMIT ${limit + 1}`, args);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { payments: page.map(toPaymentEntry), nextCursor: rows.length > limit && last ? `${last.occurred_at}_${last.id}` : null };
}

export function listPayments(db: Database, projectId: string, filters: PaymentFilters = {}): PaymentPage {
  return runJobOnSqlite(db, (tx) => paymentsPage(tx, projectId, filters));
}

export function loadPayments(storage: Storage, projectId: string, filters: PaymentFilters = {}): Promise<PaymentPage> {
  return readJob(storage, (tx) => paymentsPage(tx, projectId, filters));
}

export function* paymentEntry(tx: JobTx, projectId: string, paymentId: string): JobSteps<PaymentEntry | null> {
  const row = yield* tx.get<PaymentRow>("SELECT * FROM payments WHERE project_id = ? AND id = ?", [projectId, paymentId]);
  return row ? toPaymentEntry(row) : null;
}

export function loadPayment(storage: Storage, projectId: string, paymentId: string): Promise<PaymentEntry | null> {
  return readJob(storage, (tx) => paymentEntry(tx, projectId, paymentId));
}

export interface RawProviderEvent {
  id: number;
  provider: string;
  eventId: string;
  type: string;
  via: "webhook" | "pull";
  receivedAt: string;
  outcome: string;
  paymentIds: string[];
  /** The body exactly as the provider sent it (pretty-print it for people). */
  payload: string;
}

interface RawEventRow {
  id: number;
  provider: string;
  event_id: string;
  type: string;
  via: "webhook" | "pull";
  received_at: number;
  outcome: string;
  payment_ids: string;
  payload: string;
}

function toRawEvent(row: RawEventRow): RawProviderEvent {
  return {
    id: row.id,
    provider: row.provider,
    eventId: row.event_id,
    type: row.type,
    via: row.via,
    receivedAt: new Date(row.received_at).toISOString(),
    outcome: row.outcome,
    paymentIds: JSON.parse(row.payment_ids) as string[],
    payload: row.payload,
  };
}

/** Recent provider events, newest first (payloads included; they hold no credentials). */
export function* rawEvents(tx: JobTx, projectId: string, options: { provider?: string; limit?: number } = {}): JobSteps<RawProviderEvent[]> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
  const rows = options.provider
    ? yield* tx.all<RawEventRow>(`SELECT * FROM provider_events WHERE project_id = ? AND provider = ? ORDER BY received_at DESC, id DESC LIMIT ${limit}`, [projectId, options.provider])
    : yield* tx.all<RawEventRow>(`SELECT * FROM provider_events WHERE project_id = ? ORDER BY received_at DESC, id DESC LIMIT ${limit}`, [projectId]);
  return rows.map(toRawEvent);
}

export function loadRawEvents(storage: Storage, projectId: string, options: { provider?: string; limit?: number } = {}): Promise<RawProviderEvent[]> {
  return readJob(storage, (tx) => rawEvents(tx, projectId, options));
}

/** The raw events that recorded or changed one payment, oldest first, for its detail page. */
/**
 * SQLite's CROSS JOIN fixes the order: from the payment's links to each event by its key. Left to itself
 * its planner started from provider_events (a range over the project's events, 217 ms on 1M payments).
 * PostgreSQL's CROSS JOIN takes no ON, and its planner reads the links' key first.
 */
const PAYMENT_RAW_EVENTS = perEngine(
  (engine) => `SELECT e.* FROM provider_event_payments l ${engine === "sqlite" ? "CROSS JOIN" : "JOIN"} provider_events e ON e.id = l.event_row
     WHERE l.payment_id = ? AND e.project_id = ? ORDER BY e.received_at, e.id`,
);

export function* paymentRawEvents(tx: JobTx, projectId: string, paymentId: string): JobSteps<RawProviderEvent[]> {
  const rows = yield* tx.all<RawEventRow>(PAYMENT_RAW_EVENTS[tx.engine], [paymentId, projectId]);
  return rows.map(toRawEvent);
}

export function rawEventsForPayment(db: Database, projectId: string, paymentId: string): RawProviderEvent[] {
  return runJobOnSqlite(db, (tx) => paymentRawEvents(tx, projectId, paymentId));
}

export function loadRawEventsForPayment(storage: Storage, projectId: string, paymentId: string): Promise<RawProviderEvent[]> {
  return readJob(storage, (tx) => paymentRawEvents(tx, projectId, paymentId));
}

/** Raw payloads are for debugging recent deliveries; providers stop retrying long before this. */
export const RAW_EVENT_RETENTION_DAYS = 90;

/** Raw events deleted per write: an upgrade with a year of them must not hold writes for a second. */
export const RAW_EVENT_PRUNE_BATCH = 2_000;

/**
 * Deletes up to `limit` raw events past retention, project by project along its (project, received)
 * index; returns how many went. Call again while it returns `limit`.
 */
export function* pruneRawEvents(tx: JobTx, now: number, limit = RAW_EVENT_PRUNE_BATCH): JobSteps<number> {
  const before = now - RAW_EVENT_RETENTION_DAYS * 86_400_000;
  let deleted = 0;
  for (const { id } of yield* tx.all<{ id: string }>("SELECT id FROM projects")) {
    if (deleted >= limit) break;
    const { changes } = yield* tx.run(
      "DELETE FROM provider_events WHERE id IN (SELECT id FROM provider_events WHERE project_id = ? AND received_at < ? LIMIT ?)",
      [id, before, limit - deleted],
    );
    deleted += changes;
  }
  return deleted;
}

/**
 * Call when a profile gains an email (identify): payments by that email that arrived before the
 * visitor identified are attributed again. Resolves to the ids whose method changed.
 * Inside a write job, `yield* reattributePaymentsForEmail(tx, …)` instead.
 */
export function reattributeForEmail(ctx: AppContext, projectId: string, email: string): Promise<string[]> {
  return ctx.writes.job((tx) => reattributePaymentsForEmail(tx, projectId, email, ctx.now()));
}
