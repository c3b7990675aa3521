// The attribution engine (SPEC §5): pure functions from a payment and the journeys it may belong
// to, to a method, a context and the explanation a person reads. No database, clock or HTTP here.
import type { BanticoMetadata } from "../payments/metadata.ts";

export const ATTRIBUTION_METHODS = ["metadata_link", "metadata_context", "session", "identify_email", "customer", "unattributed"] as const;
export type AttributionMethod = (typeof ATTRIBUTION_METHODS)[number];

export const CONTEXT_FIELDS = ["linkId", "campaignId", "source", "medium", "content", "leadId"] as const;
export type ContextField = (typeof CONTEXT_FIELDS)[number];
export type AttributionContext = Record<ContextField, string | null>;

export const EMPTY_CONTEXT: AttributionContext = { linkId: null, campaignId: null, source: null, medium: null, content: null, leadId: null };

/** A session that may have brought the payment, with the first context it saw. */
export interface Touch {
  sessionId: string;
  visitorId: string;
  startedAt: number;
  context: AttributionContext;
}

export interface LinkRecord {
  linkId: string;
  title: string;
  context: AttributionContext;
}

/** An earlier payment whose attribution a renewal, refund or dispute can inherit. */
export interface PriorAttribution {
  paymentId: string;
  kind: string;
  method: AttributionMethod;
  context: AttributionContext;
  firstContext: AttributionContext;
  visitorId: string | null;
  profileId: string | null;
  occurredAt: number;
}

export interface PaymentFacts {
  kind: "sale" | "renewal" | "refund" | "dispute";
  occurredAt: number;
  metadata: BanticoMetadata;
  email: string | null;
  lookbackDays: number;
  /** The project matches emails only of profiles identified by the API or a signed identify. */
  verifiedEmailsOnly?: boolean;
  /** "subscription sub_1", "charge ch_1": what ties it to the earlier payment, for the explanation. */
  orderLabel: string | null;
}

export interface AttributionCandidates {
  /** The link metadata `linkId` names, when it is a link of this project. */
  link: LinkRecord | null;
  /** Sessions of the visitor named by metadata `visitorId`/`sessionId`. */
  visitorTouches: Touch[];
  /** Profiles whose email is the customer's, each with its visitors' sessions. */
  profiles: { profileId: string; touches: Touch[] }[];
  /** The sale this payment belongs to (same subscription, order or charge). */
  orderPrior: PriorAttribution | null;
  /** The same customer's latest earlier attributed payment. */
  customerPrior: PriorAttribution | null;
}

export interface Mismatch {
  field: ContextField;
  link: string;
  metadata: string;
}

export interface Attribution {
  method: AttributionMethod;
  context: AttributionContext;
  /** First touch within the lookback window, for model=first. */
  firstContext: AttributionContext;
  visitorId: string | null;
  sessionId: string | null;
  profileId: string | null;
  explanation: string[];
  mismatches: Mismatch[];
}

const DAY_MS = 86_400_000;
/** Provider timestamps have second precision and come from their clocks: a session may start this much "after" the payment. */
export const CLOCK_TOLERANCE_MS = 60_000;

export function hasContext(context: AttributionContext): boolean {
  return CONTEXT_FIELDS.some((f) => context[f] !== null && context[f] !== "");
}

export function describeContext(context: AttributionContext): string {
  const parts = CONTEXT_FIELDS.filter((f) => context[f]).map((f) => `${FIELD_WORDS[f]} ${context[f]}`);
  return parts.length ? parts.join(", ") : "no context";
}

const FIELD_WORDS: Record<ContextField, string> = {
  linkId: "link",
  campaignId: "campaign",
  source: "source",
  medium: "medium",
  content: "content",
  leadId: "lead",
};

const METHOD_WORDS: Record<AttributionMethod, string> = {
  metadata_link: "the link in its checkout metadata",
  metadata_context: "the context in its checkout metadata",
  session: "the visitor's session",
  identify_email: "the customer's identified email",
  customer: "an earlier payment",
  unattributed: "nothing",
};

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

function touchesInWindow(touches: readonly Touch[], facts: PaymentFacts): Touch[] {
  const from = facts.occurredAt - facts.lookbackDays * DAY_MS;
  return touches.filter((t) => t.startedAt >= from && t.startedAt <= facts.occurredAt + CLOCK_TOLERANCE_MS && hasContext(t.context)).sort((a, b) => a.startedAt - b.startedAt);
}

function metadataContext(metadata: BanticoMetadata): AttributionContext {
  return {
    linkId: null,
    campaignId: metadata.campaignId,
    source: metadata.source,
    medium: metadata.medium,
    content: metadata.content,
    leadId: metadata.leadId,
  };
}

/** The link's context with metadata filling its gaps; disagreements are kept, never applied silently. */
function mergeLinkAndMetadata(link: LinkRecord, metadata: BanticoMetadata) {
  const context: AttributionContext = { ...link.context, linkId: link.linkId };
  const mismatches: Mismatch[] = [];
  const filled: string[] = [];
  for (const field of CONTEXT_FIELDS) {
    if (field === "linkId") continue;
    const fromMetadata = metadata[field];
    if (!fromMetadata) continue;
    const fromLink = link.context[field];
    if (!fromLink) {
      context[field] = fromMetadata;
      filled.push(`${FIELD_WORDS[field]} “${fromMetadata}”`);
    } else if (fromLink !== fromMetadata) {
      mismatches.push({ field, link: fromLink, metadata: fromMetadata });
    }
  }
  return { context, mismatches, filled };
}

function inherit(prior: PriorAttribution, explanation: string[], why: string): Attribution {
  explanation.push(
    `${why}: inherits the attribution of payment ${prior.paymentId} (${prior.kind}, ${day(prior.occurredAt)}), which was attributed by ${METHOD_WORDS[prior.method]} to ${describeContext(prior.context)}.`,
  );
  return {
    method: "customer",
    context: { ...prior.context },
    firstContext: { ...prior.firstContext },
    visitorId: prior.visitorId,
    sessionId: null,
    profileId: prior.profileId,
    explanation,
    mismatches: [],
  };
}

/** Credits the last session with context in the window (`window` is in time order, never empty); the first is the first touch. */
function fromWindow(method: "session" | "identify_email", window: Touch[], profileId: string | null, explanation: string[]): Attribution {
  const first = window[0]!;
  const last = window.at(-1)!;
  if (window.length > 1) explanation.push(`${window.length} sessions with context in the window; the first came from ${describeContext(first.context)}.`);
  return {
    method,
    context: { ...last.context },
    firstContext: { ...first.context },
    visitorId: last.visitorId,
    sessionId: last.sessionId,
    profileId,
    explanation,
    mismatches: [],
  };
}

/** Applies the six rules of SPEC §5 in order and returns the first that applies. */
export function attribute(facts: PaymentFacts, candidates: AttributionCandidates): Attribution {
  const explanation: string[] = [];
  const { metadata } = facts;
  const lookback = `${facts.lookbackDays} days`;
  const visitorWindow = touchesInWindow(candidates.visitorTouches, facts);
  const visitorFirst = (fallback: AttributionContext) => (visitorWindow[0] ? { ...visitorWindow[0].context } : { ...fallback });

  // A refund or dispute is the sale's money going back: it reduces whatever the sale was credited to.
  if ((facts.kind === "refund" || facts.kind === "dispute") && candidates.orderPrior && candidates.orderPrior.method !== "unattributed") {
    return inherit(candidates.orderPrior, explanation, `${facts.kind === "refund" ? "Refund" : "Dispute"} of ${facts.orderLabel ?? "an earlier payment"}`);
  }

  if (metadata.linkId) {
    if (candidates.link) {
      const { context, mismatches, filled } = mergeLinkAndMetadata(candidates.link, metadata);
      const title = candidates.link.title ? ` (“${candidates.link.title}”)` : "";
      explanation.push(`Checkout metadata names link ${candidates.link.linkId}${title}: ${describeContext(context)}.`);
      if (filled.length) explanation.push(`Metadata fills what the link leaves empty: ${filled.join(", ")}.`);
      for (const m of mismatches) {
        explanation.push(`Mismatch: metadata says ${FIELD_WORDS[m.field]} “${m.metadata}” but the link says “${m.link}”; the link's value is kept.`);
      }
      return {
        method: "metadata_link",
        context,
        firstContext: visitorFirst(context),
        visitorId: metadata.visitorId ?? visitorWindow.at(-1)?.visitorId ?? null,
        sessionId: metadata.sessionId,
        profileId: null,
        explanation,
        mismatches,
      };
    }
    explanation.push(`Checkout metadata names link ${metadata.linkId}, which is not a link of this project; it is ignored.`);
  }

  const fromMetadata = metadataContext(metadata);
  if (hasContext(fromMetadata)) {
    explanation.push(`Checkout metadata carries ${describeContext(fromMetadata)} without a known link.`);
    return {
      method: "metadata_context",
      context: fromMetadata,
      firstContext: visitorFirst(fromMetadata),
      visitorId: metadata.visitorId ?? visitorWindow.at(-1)?.visitorId ?? null,
      sessionId: metadata.sessionId,
      profileId: null,
      explanation,
      mismatches: [],
    };
  }

  // A renewal belongs to the subscription that the first payment started.
  if (facts.kind === "renewal" && candidates.orderPrior && candidates.orderPrior.method !== "unattributed") {
    return inherit(candidates.orderPrior, explanation, `Renewal of ${facts.orderLabel ?? "a subscription"}`);
  }

  if (metadata.visitorId || metadata.sessionId) {
    const named = [metadata.visitorId && `visitor ${metadata.visitorId}`, metadata.sessionId && `session ${metadata.sessionId}`].filter(Boolean).join(" and ");
    const last = visitorWindow.at(-1);
    if (last) {
      explanation.push(
        `The checkout names ${named}; the last session with context within ${lookback} (${last.sessionId}, started ${day(last.startedAt)}) came from ${describeContext(last.context)}.`,
      );
      return fromWindow("session", visitorWindow, null, explanation);
    }
    explanation.push(`The checkout names ${named}, but no session of that visitor carries context within ${lookback} before the payment.`);
  }

  if (facts.email) {
    if (candidates.profiles.length === 0) {
      explanation.push(
        facts.verifiedEmailsOnly
          ? `The customer's email ${facts.email} matches no profile identified by the API or a signed identify (the project attributes by email only from verified identify).`
          : `The customer's email ${facts.email} matches no identified profile.`,
      );
    } else {
      const all = touchesInWindow(
        candidates.profiles.flatMap((p) => p.touches),
        facts,
      );
      const last = all.at(-1);
      const ids = candidates.profiles.map((p) => p.profileId).join(", ");
      if (last) {
        const profileId = candidates.profiles.find((p) => p.touches.some((t) => t.sessionId === last.sessionId))?.profileId ?? null;
        explanation.push(
          `The customer's email ${facts.email} matches profile ${ids}; the last session with context within ${lookback} (${last.sessionId}, visitor ${last.visitorId}, started ${day(last.startedAt)}) came from ${describeContext(last.context)}.`,
        );
        return fromWindow("identify_email", all, profileId, explanation);
      }
      explanation.push(`The customer's email ${facts.email} matches profile ${ids}, but none of its visitors' sessions carries context within ${lookback} before the payment.`);
    }
  }

  if (facts.kind !== "sale") {
    const prior = candidates.orderPrior && candidates.orderPrior.method !== "unattributed" ? candidates.orderPrior : candidates.customerPrior;
    if (prior && prior.method !== "unattributed") {
      return inherit(prior, explanation, prior === candidates.orderPrior ? `Belongs to ${facts.orderLabel ?? "an earlier payment"}` : "Same customer");
    }
  }

  explanation.push(
    facts.email || metadata.visitorId || metadata.sessionId || metadata.linkId
      ? "No rule applies: unattributed."
      : "No checkout metadata, no visitor and no customer email: unattributed.",
  );
  return {
    method: "unattributed",
    context: { ...EMPTY_CONTEXT },
    firstContext: { ...EMPTY_CONTEXT },
    visitorId: metadata.visitorId,
    sessionId: metadata.sessionId,
    profileId: null,
    explanation,
    mismatches: [],
  };
}
