// Loads what the attribution engine weighs for one payment: the named link, the visitor's
// sessions, the profiles matching the customer's email, and earlier payments it may inherit from.
import { perEngine } from "../db/postgres/dialect.ts";
import type { JobSteps, JobTx } from "../db/storage/jobs.ts";
import type { BanticoMetadata } from "../payments/metadata.ts";
import type { ContextColumns } from "../tracking/attribution-context.ts";
import { CLOCK_TOLERANCE_MS, type AttributionCandidates, type AttributionContext, type AttributionMethod, type LinkRecord, type PriorAttribution, type Touch } from "./engine.ts";

const DAY_MS = 86_400_000;

export type { ContextColumns };

export function contextFromRow(row: ContextColumns): AttributionContext {
  return {
    linkId: row.link_id || null,
    campaignId: row.campaign_id || null,
    source: row.source || null,
    medium: row.medium || null,
    content: row.content || null,
    leadId: row.lead_id || null,
  };
}

export interface FirstTouchColumns {
  first_link_id: string | null;
  first_campaign_id: string | null;
  first_source: string | null;
  first_medium: string | null;
  first_content: string | null;
  first_lead_id: string | null;
}

export function firstTouchFromRow(row: FirstTouchColumns): AttributionContext {
  return contextFromRow({
    link_id: row.first_link_id,
    campaign_id: row.first_campaign_id,
    source: row.first_source,
    medium: row.first_medium,
    content: row.first_content,
    lead_id: row.first_lead_id,
  });
}

interface SessionRow extends ContextColumns {
  id: string;
  visitor_id: string;
  started_at: number;
}

const SESSION_COLUMNS = "id, visitor_id, started_at, link_id, campaign_id, source, medium, content, lead_id";

function toTouch(row: SessionRow): Touch {
  return { sessionId: row.id, visitorId: row.visitor_id, startedAt: row.started_at, context: contextFromRow(row) };
}

export interface PaymentRefs {
  paymentId: string | null;
  kind: string;
  occurredAt: number;
  email: string | null;
  provider: string;
  customerId: string | null;
  parentPaymentId: string | null;
}

interface PriorRow extends ContextColumns, FirstTouchColumns {
  id: string;
  kind: string;
  method: AttributionMethod;
  occurred_at: number;
  visitor_id: string | null;
  profile_id: string | null;
}

const PRIOR_COLUMNS =
  "id, kind, method, occurred_at, visitor_id, profile_id, link_id, campaign_id, source, medium, content, lead_id, first_link_id, first_campaign_id, first_source, first_medium, first_content, first_lead_id";

function toPrior(row: PriorRow): PriorAttribution {
  return {
    paymentId: row.id,
    kind: row.kind,
    method: row.method,
    occurredAt: row.occurred_at,
    visitorId: row.visitor_id,
    profileId: row.profile_id,
    context: contextFromRow(row),
    firstContext: firstTouchFromRow(row),
  };
}

const SESSIONS_OF_VISITOR = `SELECT ${SESSION_COLUMNS} FROM sessions WHERE project_id = ? AND visitor_id = ? AND started_at BETWEEN ? AND ?`;

// INDEXED BY, SQLite's own: see PROFILES_BY_EMAIL in src/tracking/profiles.ts.
const PROFILES_WITH_EMAIL = perEngine(
  (engine) => `SELECT id FROM profiles ${engine === "sqlite" ? "INDEXED BY profiles_email " : ""}WHERE project_id = ? AND email = ? AND email_verified >= ?`,
);

export function* loadCandidates(
  tx: JobTx,
  projectId: string,
  metadata: BanticoMetadata,
  refs: PaymentRefs,
  lookbackDays: number,
  /** Only profiles whose email, and visitors whose link to them, came from the API or a signed identify. */
  verifiedEmailsOnly = false,
): JobSteps<AttributionCandidates> {
  const from = refs.occurredAt - lookbackDays * DAY_MS;
  const touchesOf = function* (visitorId: string): JobSteps<Touch[]> {
    return (yield* tx.all<SessionRow>(SESSIONS_OF_VISITOR, [projectId, visitorId, from, refs.occurredAt + CLOCK_TOLERANCE_MS])).map(toTouch);
  };

  let link: LinkRecord | null = null;
  if (metadata.linkId) {
    const row = yield* tx.get<ContextColumns & { id: string; title: string }>(
      "SELECT id, title, id AS link_id, campaign_id, source, medium, content, lead_id FROM links WHERE project_id = ? AND id = ?",
      [projectId, metadata.linkId],
    );
    if (row) link = { linkId: row.id, title: row.title, context: contextFromRow(row) };
  }

  let visitorId = metadata.visitorId;
  if (!visitorId && metadata.sessionId) {
    visitorId = (yield* tx.get<{ visitor_id: string }>("SELECT visitor_id FROM sessions WHERE project_id = ? AND id = ?", [projectId, metadata.sessionId]))?.visitor_id ?? null;
  }
  const visitorTouches = visitorId ? yield* touchesOf(visitorId) : [];

  const profiles: AttributionCandidates["profiles"] = [];
  if (refs.email) {
    const verified = verifiedEmailsOnly ? 1 : 0;
    for (const { id } of yield* tx.all<{ id: string }>(PROFILES_WITH_EMAIL[tx.engine], [projectId, refs.email, verified])) {
      const visitors = yield* tx.all<{ visitor_id: string }>("SELECT visitor_id FROM profile_visitors WHERE project_id = ? AND profile_id = ? AND verified >= ?", [
        projectId,
        id,
        verified,
      ]);
      const touches: Touch[] = [];
      for (const visitor of visitors) touches.push(...(yield* touchesOf(visitor.visitor_id)));
      profiles.push({ profileId: id, touches });
    }
  }

  const orderPrior = refs.parentPaymentId
    ? yield* tx.get<PriorRow>(`SELECT ${PRIOR_COLUMNS} FROM payments WHERE project_id = ? AND id = ?`, [projectId, refs.parentPaymentId])
    : null;

  const customerPrior = yield* loadCustomerPrior(tx, projectId, refs);

  return {
    link,
    visitorTouches,
    profiles,
    orderPrior: orderPrior ? toPrior(orderPrior) : null,
    customerPrior: customerPrior ? toPrior(customerPrior) : null,
  };
}

/** The same customer's latest earlier attributed payment; only renewals, refunds and disputes may inherit it. */
function* loadCustomerPrior(tx: JobTx, projectId: string, refs: PaymentRefs): JobSteps<PriorRow | null> {
  if (refs.kind === "sale") return null;
  const self = refs.paymentId ?? "";
  const earlier = "AND occurred_at <= ? AND id != ? AND kind IN ('sale', 'renewal') AND method != 'unattributed' ORDER BY occurred_at DESC LIMIT 1";
  if (refs.customerId) {
    return yield* tx.get<PriorRow>(`SELECT ${PRIOR_COLUMNS} FROM payments WHERE project_id = ? AND provider = ? AND customer_id = ? ${earlier}`, [
      projectId,
      refs.provider,
      refs.customerId,
      refs.occurredAt,
      self,
    ]);
  }
  if (refs.email) {
    return yield* tx.get<PriorRow>(`SELECT ${PRIOR_COLUMNS} FROM payments WHERE project_id = ? AND customer_email = ? ${earlier}`, [projectId, refs.email, refs.occurredAt, self]);
  }
  return null;
}
