// CSV exports of links, payments and events: streamed page by page, guarded against formula injection.
import type { DashboardRouter } from "../routing.ts";
import { csvResponse, csvStream } from "../export.ts";
import { LINK_SELECT, toLink, type LinkRow } from "../../links/rows.ts";
import { shortUrl } from "../../links/api.ts";
import { loadPayments } from "../../payments/service.ts";
import { perEngine } from "../../db/postgres/dialect.ts";
import { formatMinorUnits } from "../../payments/money.ts";
import { ATTRIBUTION_METHODS, type AttributionMethod } from "../../attribution/engine.ts";
import { PROVIDERS, type Provider } from "../../payments/types.ts";
import { eventsAfter } from "./journeys.sql.ts";

const PAGE = 2000;

/** A page of links after (created_at, id); PostgreSQL compares and orders the ids by bytes as SQLite does. */
const LINKS_AFTER = perEngine((engine) => {
  const id = engine === "sqlite" ? "l.id" : 'l.id COLLATE "C"';
  return `${LINK_SELECT} WHERE l.project_id = ? AND (l.created_at > ? OR (l.created_at = ? AND ${id} > ?)) ORDER BY l.created_at, ${id} LIMIT ?`;
});
const iso = (ms: number) => new Date(ms).toISOString();
const oneOf = <T extends string>(values: readonly T[], value: string | null): T | undefined => ((values as readonly string[]).includes(value ?? "") ? (value as T) : undefined);

export function exportPages(router: DashboardRouter): void {
  router
    .get("/export/links.csv", (req) => {
      const header = ["linkId", "slug", "shortUrl", "destinationUrl", "title", "campaignId", "source", "medium", "content", "leadId", "archived", "clicks", "createdAt"];
      const stream = csvStream<{ createdAt: number; id: string }>(header, async (after) => {
        const rows = (
          await req.ctx.storage.all<LinkRow>(LINKS_AFTER[req.ctx.storage.engine], [req.project.id, after?.createdAt ?? -1, after?.createdAt ?? -1, after?.id ?? "", PAGE])
        ).map(toLink);
        const last = rows.at(-1);
        return {
          rows: rows.map((l) => [l.linkId, l.slug, shortUrl(req.baseUrl, l.slug), l.destinationUrl, l.title, l.campaignId, l.source, l.medium, l.content, l.leadId, l.archived, l.clicks, iso(l.createdAt)]),
          last: last ? { createdAt: last.createdAt, id: last.linkId } : null,
        };
      });
      return csvResponse(`bantico-links-${req.project.id}.csv`, stream);
    })
    .get("/export/payments.csv", (req) => {
      const method = oneOf<AttributionMethod>(ATTRIBUTION_METHODS, req.query.get("method"));
      const provider = oneOf<Provider>(PROVIDERS, req.query.get("provider"));
      const header = ["paymentId", "occurredAt", "provider", "kind", "amount", "tax", "net", "currency", "email", "method", "linkId", "campaignId", "source", "medium", "content", "leadId", "providerKey", "explanation",
        "reportingCurrency", "reportingAmount", "reportingNet", "rate", "rateSource", "rateDate"];
      const stream = csvStream<string>(header, async (cursor) => {
        const page = await loadPayments(req.ctx.storage, req.project.id, { from: req.range.from, to: req.range.to, method, provider, cursor: cursor ?? undefined, limit: 1000 });
        const last = page.payments.at(-1);
        return {
          rows: page.payments.map((p) => {
            const a = p.attribution;
            const major = (minor: number) => Number(formatMinorUnits(minor, p.currency));
            const r = p.reporting;
            const reporting = (minor: number | null | undefined) => (r && minor !== null && minor !== undefined ? Number(formatMinorUnits(minor, r.currency)) : null);
            return [p.id, p.occurredAt, p.provider, p.kind, major(p.amount), major(p.tax), major(p.net), p.currency, p.email, a.method, a.linkId, a.campaignId, a.source, a.medium, a.content, a.leadId, p.providerIds.key, a.explanation,
              r?.currency ?? null, reporting(r?.amount), reporting(r?.net), r?.rate ?? null, r?.rateSource ?? null, r?.rateDate ?? null];
          }),
          // listPayments pages by "occurredAt_id" of the last entry; an empty next page ends the file.
          last: last ? `${Date.parse(last.occurredAt)}_${last.id}` : null,
        };
      });
      return csvResponse(`bantico-payments-${req.range.fromDate}-${req.range.toDate}.csv`, stream);
    })
    .get("/export/events.csv", (req) => {
      const header = ["eventId", "timestamp", "name", "visitorId", "sessionId", "profileId", "path", "props", "linkId", "campaignId", "source", "medium", "content", "leadId"];
      const stream = csvStream<{ ts: number; id: number }>(header, async (after) => {
        const events = await eventsAfter(req.ctx.storage, req.project.id, req.range, after, PAGE);
        const last = events.at(-1);
        return {
          rows: events.map((e) => [e.id, iso(e.ts), e.name, e.visitorId, e.sessionId, e.profileId, e.path, e.props, e.linkId, e.campaignId, e.source, e.medium, e.content, e.leadId]),
          last: last ? { ts: last.ts, id: last.id } : null,
        };
      });
      return csvResponse(`bantico-events-${req.range.fromDate}-${req.range.toDate}.csv`, stream);
    });
}
