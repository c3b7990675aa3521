// Payments pages: the ledger with attribution and filters by method and provider, one payment's
// explanation trail, and the raw provider events behind it.
import { html } from "../html.ts";
import { rangeQuery } from "../range.ts";
import { DashboardError, renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { loadPayment, loadPayments, loadRawEvents, loadRawEventsForPayment, type PaymentEntry } from "../../payments/service.ts";
import { ATTRIBUTION_METHODS, type AttributionMethod } from "../../attribution/engine.ts";
import { PROVIDERS, type Provider } from "../../payments/types.ts";
import { explanationTrail } from "./payments.sql.ts";
import { emptyEntry, keyLabels, keyLabelsFrom, primeRollupSums, rollupSums } from "../../reports/attribution.ts";
import { PostgresReports, reportDb } from "../../reports/source.ts";
import { findProfileIdByEmail } from "../../tracking/profiles.ts";
import { readJob, runJobOnSqlite } from "../../db/storage/jobs.ts";
import { dataPage } from "../../../views/pages/parts.ts";
import { convertedSummary, paymentDetail, paymentFilters, paymentsTable, rawEventList, type PaymentLinks } from "../../../views/pages/payments.ts";
import type { ConvertedTotals } from "../../payments/fx/sums.ts";
import { readConversionProgress } from "../../payments/fx/stored.ts";

/** The period's converted money from the rollups (the ledger itself is a million rows on a large project); on PostgreSQL primed first. */
async function rangeTotals(req: DashboardRequest): Promise<ConvertedTotals> {
  const { project, range } = req;
  const db = reportDb(req.ctx);
  const query = { groupBy: null, from: range.from, to: range.to };
  const folding = { timeZone: range.timezone, now: req.ctx.now() };
  if (db instanceof PostgresReports) await primeRollupSums(db, project.id, query, folding);
  const entry = rollupSums(db, project.id, query, project.countRenewals, folding).get("") ?? emptyEntry();
  const { revenue, refunds, net, unconverted } = entry.reporting;
  const unconvertedByCurrency = entry.unconvertedByCurrency.sort((a, b) => b.payments - a.payments || a.currency.localeCompare(b.currency));
  return { currency: project.currency, revenue, refunds, net, unconverted, unconvertedByCurrency };
}

function linksOf(req: DashboardRequest, linkTitle: PaymentLinks["linkTitle"], profileOfEmail: PaymentLinks["profileOfEmail"]): PaymentLinks {
  return {
    payment: (id) => req.href(`/payments/${encodeURIComponent(id)}`),
    link: (linkId) => req.href(`/links/${encodeURIComponent(linkId)}`),
    linkTitle,
    visitor: (visitorId) => req.href(`/visitors/${encodeURIComponent(visitorId)}`),
    profile: (profileId) => req.href(`/profiles/${encodeURIComponent(profileId)}`),
    profileOfEmail,
    timezone: req.project.timezone,
  };
}

/**
 * What a payments table links to, with the link titles and the customers' profiles of `payments` read
 * first through the storage (either engine), as the table renders synchronously.
 */
export async function loadPaymentLinks(req: DashboardRequest, payments: readonly PaymentEntry[]): Promise<PaymentLinks> {
  const { storage } = req.ctx;
  const emails = [...new Set(payments.flatMap((p) => (p.email ? [p.email] : [])))];
  const [titles, profiles] = await Promise.all([
    payments.some((p) => p.attribution.linkId) ? keyLabelsFrom(storage, req.project.id, "link") : new Map<string, string>(),
    readJob(storage, function* (tx) {
      const found = new Map<string, string | null>();
      for (const email of emails) found.set(email, yield* findProfileIdByEmail(tx, req.project.id, email));
      return found;
    }),
  ]);
  return linksOf(req, (linkId) => titles.get(linkId) ?? null, (email) => profiles.get(email) ?? null);
}

const oneOf = <T extends string>(values: readonly T[], value: string | null): T | undefined => (values as readonly string[]).includes(value ?? "") ? (value as T) : undefined;

async function ledger(req: DashboardRequest) {
  const method = oneOf<AttributionMethod>(ATTRIBUTION_METHODS, req.query.get("method"));
  const provider = oneOf<Provider>(PROVIDERS, req.query.get("provider"));
  const cursor = req.query.get("cursor") ?? undefined;
  const { storage } = req.ctx;
  const [page, progress, totals] = await Promise.all([
    loadPayments(storage, req.project.id, {
      from: req.range.from,
      to: req.range.to,
      method,
      provider,
      linkId: req.range.filters.link,
      cursor,
      limit: 50,
    }),
    readJob(storage, (tx) => readConversionProgress(tx, req.project.id)),
    rangeTotals(req),
  ]);
  const keep = Object.fromEntries(rangeQuery(req.range));
  const links = await loadPaymentLinks(req, page.payments);
  return html`${convertedSummary({
      totals,
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
    ${paymentsTable(page.payments, links, method || provider ? "No payment matches these filters in this period." : "No payments in this period.")}
    <nav class="pager" aria-label="Pages">
      ${cursor ? html`<a class="button" href="${req.href("/payments", { method: method ?? null, provider: provider ?? null, cursor: null })}">Newest</a>` : null}
      ${page.nextCursor ? html`<a class="button" href="${req.href("/payments", { method: method ?? null, provider: provider ?? null, cursor: page.nextCursor })}">Older →</a>` : null}
    </nav>`;
}

export function paymentsPages(router: DashboardRouter): void {
  router
    .get("/payments", async (req) => renderPage(req, { title: "Payments", showRange: true, body: dataPage(await ledger(req)) }))
    .get("/payments/events", async (req) => {
      const provider = oneOf<Provider>(PROVIDERS, req.query.get("provider"));
      const events = await loadRawEvents(req.ctx.storage, req.project.id, { provider, limit: 100 });
      const body = html`<p class="muted">The last 100 webhook and pull events from Stripe and Polar, newest first, with what each did. Open one to read its payload.</p>
        <section class="card">${rawEventList(events, await loadPaymentLinks(req, []), "No provider event has arrived yet. Connect Stripe or Polar in Settings.")}</section>`;
      return renderPage(req, { title: "Provider events", body: dataPage(body) });
    })
    .get("/payments/:paymentId", async (req) => {
      const { storage } = req.ctx;
      const payment = await loadPayment(storage, req.project.id, req.params.paymentId ?? "");
      if (!payment) throw new DashboardError(404, "There is no such payment in this project.");
      const [trail, rawEvents, links] = await Promise.all([
        explanationTrail(storage, req.project.id, payment.id),
        loadRawEventsForPayment(storage, req.project.id, payment.id),
        loadPaymentLinks(req, [payment]),
      ]);
      const body = paymentDetail({
        payment,
        trail,
        rawEvents,
        links,
        parentHref: payment.parentPaymentId ? req.href(`/payments/${encodeURIComponent(payment.parentPaymentId)}`) : null,
      });
      return renderPage(req, { title: `Payment ${payment.providerIds.key}`, body: dataPage(body) });
    });
}
