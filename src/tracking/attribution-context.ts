// The attribution context a click, a session and an event carry (SPEC §2), and its storage forms.

export interface AttributionContext {
  linkId: string | null;
  campaignId: string | null;
  source: string | null;
  medium: string | null;
  content: string | null;
  leadId: string | null;
}

export const EMPTY_CONTEXT: AttributionContext = Object.freeze({
  linkId: null,
  campaignId: null,
  source: null,
  medium: null,
  content: null,
  leadId: null,
});

/** Columns link_id … lead_id as sessions, events and links store them. */
export interface ContextColumns {
  link_id: string | null;
  campaign_id: string | null;
  source: string | null;
  medium: string | null;
  content: string | null;
  lead_id: string | null;
}

export function contextFromColumns(row: ContextColumns): AttributionContext {
  return {
    linkId: row.link_id,
    campaignId: row.campaign_id,
    source: row.source,
    medium: row.medium,
    content: row.content,
    leadId: row.lead_id,
  };
}

export function contextValues(context: AttributionContext): [string | null, string | null, string | null, string | null, string | null, string | null] {
  return [context.linkId, context.campaignId, context.source, context.medium, context.content, context.leadId];
}

export function isEmptyContext(context: AttributionContext): boolean {
  return contextValues(context).every((value) => value === null);
}

export function sameContext(a: AttributionContext, b: AttributionContext): boolean {
  const left = contextValues(a);
  const right = contextValues(b);
  return left.every((value, i) => value === right[i]);
}

/** The rollup key: '' stands for "none" so every part can be in a primary key. */
export function contextKey(context: AttributionContext): string {
  return contextValues(context).map((value) => value ?? "").join("|");
}

/** Empty strings count as absent (SPEC §5); the same holds wherever a context is read from outside. */
export function blankToNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}
