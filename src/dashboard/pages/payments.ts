// Payments pages: the ledger with attribution and filters by method and provider, one payment's
// explanation trail, and the raw provider events behind it.
import { html } from "../html.ts";
import { rangeQuery } from "../range.ts";
import { DashboardError, renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { getPayment, listPayments, listRawEvents, rawEventsForPayment } from "../../payments/service.ts";
import { ATTRIBUTION_METHODS, type AttributionMethod } from "../../attribution/engine.ts";
import { PROVIDERS, type Provider } from "../../payments/types.ts";
import { explanationTrail } from "./payments.sql.ts";
import { keyLabels } from "../../reports/attribution.ts";
import { findProfileIdByEmail } from "../../tracking/profiles.ts";
import { runJobOnSqlite } from "../../db/storage/jobs.ts";
import { dataPage } from "../../../views/pages/parts.ts";
import { convertedSummary, paymentDetail, paymentFilters, paymentsTable, rawEventList, type PaymentLinks } from "../../../views/pages/payments.ts";
import type { ConvertedTotals } from "../../payments/fx/sums.ts";
import { emptyEntry, rollupSums } from "../../reports/attribution.ts";
import { conversionProgress } from "../../payments/fx/stored.ts";

/** The period's converted money from the rollups (the ledger itself is a million rows on a large project). */
function rangeTotals(req: DashboardRequest): ConvertedTotals {
  const { project, range } = req;
  const entry = rollupSums(req.ctx.db, project.id, { groupBy: null, from: range.from, to: range.to }, project.countRenewals, { timeZone: range.timezone, now: req.ctx.now() }).get("") ?? emptyEntry();
  const { revenue, refunds, net, unconverted } = entry.reporting;
  const unconvertedByCurrency = entry.unconvertedByCurrency.sort((a, b) => b.payments - a.payments || a.currency.localeCompare(b.currency));
  return { currency: project.currency, revenue, refunds, net, unconverted, unconvertedByCurrency };
}

export function paymentLinks(req: DashboardRequest): PaymentLinks {
  let titles: Map<string, string> | null = null;
  return {
    payment: (id) => req.href(`/payments/${encodeURIComponent(id)}`),
    link: (linkId) => req.href(`/links/${encodeURIComponent(linkId)}`),
    linkTitle: (linkId) => (titles ??= keyLabels(req.ctx.db, req.project.id, "link")).get(linkId) ?? null,
    visitor: (visitorId) => req.href(`/visitors/${encodeURIComponent(visitorId)}`),
    profile: (profileId) => req.href(`/profiles/${encodeURIComponent(profileId)}`),
    profileOfEmail: (email) => runJobOnSqlite(req.ctx.db, (tx) => findProfileIdByEmail(tx, req.project.id, email)),
    timezone: req.project.timezone,
  };
}

const oneOf = <T extends string>(values: readonly T[], value: string | null): T | undefined => (values as readonly string[]).includes(value ?? "") ? (value as T) : undefined;

function ledger(req: DashboardRequest) {
  const method = oneOf<AttributionMethod>(ATTRIBUTION_METHODS, req.query.get("method"));
  const provider = oneOf<Provider>(PROVIDERS, req.query.get("provider"));
  const cursor = req.query.get("cursor") ?? undefined;
  const page = listPayments(req.ctx.db, req.project.id, {
    from: req.range.from,
    to: req.range.to,
    method,
    provider,
    linkId: req.range.filters.link,
    cursor,
    limit: 50,
  });
  const keep = Object.fromEntries(rangeQuery(req.range));
  const progress = conversionProgress(req.ctx.db, req.project.id);
  return html`${convertedSummary({
      totals: rangeTotals(req),
      progress: progress.running ? progress : null,
      ratesHref: `/dashboard/${req.project.id}/settings/rates`,
    })}
    <div class="toolbar">
      ${paymentFilters({ action: req.url.pathname, method: method ?? "", provider: provider ?? "", keep })}
      <div class="actions">
        <a class="button" href="${req.href("/payments/events")}">Provider events</a>
        <a class="button" href="${req.href("/export/payments.csv", { method: method ?? null, provider: provider ?? null })}" download>Export CSV</a>
      </div>
    </div>
    ${paymentsTable(page.payments, paymentLinks(req), method || provider ? "No payment matches these filters in this period." : "No payments in this period.")}
    <nav class="pager" aria-label="Pages">
      ${cursor ? html`<a class="button" href="${req.href("/payments", { method: method ?? null, provider: provider ?? null, cursor: null })}">Newest</a>` : null}
      ${page.nextCursor ? html`<a class="button" href="${req.href("/payments", { method: method ?? null, provider: provider ?? null, cursor: page.nextCursor })}">Older →</a>` : null}
    </nav>`;
}

export function paymentsPages(router: DashboardRouter): void {
  router
    .get("/payments", (req) => renderPage(req, { title: "Payments", showRange: true, body: dataPage(ledger(req)) }))
    .get("/payments/events", (req) => {
      const provider = oneOf<Provider>(PROVIDERS, req.query.get("provider"));
      const events = listRawEvents(req.ctx.db, req.project.id, { provider, limit: 100 });
      const body = html`<p class="muted">The last 100 webhook and pull events from Stripe and Polar, newest first, with what each did. Open one to read its payload.</p>
        <section class="card">${rawEventList(events, paymentLinks(req), "No provider event has arrived yet. Connect Stripe or Polar in Settings.")}</section>`;
      return renderPage(req, { title: "Provider events", body: dataPage(body) });
    })
    .get("/payments/:paymentId", (req) => {
      const payment = getPayment(req.ctx.db, req.project.id, req.params.paymentId ?? "");
      if (!payment) throw new DashboardError(404, "There is no such payment in this project.");
      const body = paymentDetail({
        payment,
        trail: explanationTrail(req.ctx.db, req.project.id, payment.id),
        rawEvents: rawEventsForPayment(req.ctx.db, req.project.id, payment.id),
        links: paymentLinks(req),
        parentHref: payment.parentPaymentId ? req.href(`/payments/${encodeURIComponent(payment.parentPaymentId)}`) : null,
      });
      return renderPage(req, { title: `Payment ${payment.providerIds.key}`, body: dataPage(body) });
    });
}
