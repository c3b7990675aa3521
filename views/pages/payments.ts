// Views of the payments ledger: the table (also used by drill-downs and profiles) and one payment with its explanation.
import { formatMoney } from "../../src/payments/money.ts";
import { formatDateTime } from "../components.ts";
import { html, type Html } from "../../src/dashboard/html.ts";
import type { PaymentEntry, RawProviderEvent } from "../../src/payments/service.ts";
import { ATTRIBUTION_METHODS } from "../../src/attribution/engine.ts";
import { PROVIDERS } from "../../src/payments/types.ts";
import { contextValue, dataTable, notConverted } from "./parts.ts";

export const METHOD_LABELS: Record<(typeof ATTRIBUTION_METHODS)[number], string> = {
  metadata_link: "Checkout metadata: link",
  metadata_context: "Checkout metadata: context",
  session: "Visitor session",
  identify_email: "Identified email",
  customer: "Same customer",
  unattributed: "Unattributed",
};

export interface PaymentLinks {
  payment: (id: string) => string;
  link: (linkId: string) => string;
  /** A link's title (or slug), null for a link that no longer exists. */
  linkTitle: (linkId: string) => string | null;
  /** A person's journey: a visitor's events, or a profile's. */
  visitor: (visitorId: string) => string;
  profile: (profileId: string) => string;
  profileOfEmail: (email: string) => string | null;
  timezone: string;
}

/** A link named by its title, its id as secondary text. */
function namedLink(links: PaymentLinks, linkId: string): Html {
  const title = links.linkTitle(linkId);
  return html`<a href="${links.link(linkId)}">${title ?? linkId}</a>${title ? html` <small class="muted">${linkId}</small>` : null}`;
}

/** The customer's email, linked to their profile's journey when one has it. */
function customer(links: PaymentLinks, email: string | null): Html {
  if (!email) return html`<span class="muted">unknown</span>`;
  const profileId = links.profileOfEmail(email);
  return profileId ? html`<a href="${links.profile(profileId)}">${email}</a>` : html`${email}`;
}

/** Money of one entry: negative for refunds and disputes, in its own currency. */
export function amount(p: Pick<PaymentEntry, "net" | "currency">): string {
  return formatMoney(p.net, p.currency);
}

const RATE_SOURCE_LABELS = { provider: "the provider's own conversion", same: "same currency", ecb: "ECB reference rate", manual: "manual rate", none: "no rate" } as const;

/** The net in the reporting currency, the original beneath it; a payment without a rate says so instead of guessing. */
export function reportingAmount(p: Pick<PaymentEntry, "net" | "currency" | "reporting">): Html {
  const r = p.reporting;
  if (!r || r.net === null) return html`${amount(p)}<br><small class="badge warn" title="No exchange rate into ${r?.currency ?? "the reporting currency"} yet: add one in Settings">not converted</small>`;
  if (r.rateSource === "same") return html`${formatMoney(r.net, r.currency)}`;
  return html`${formatMoney(r.net, r.currency)}<br><small class="muted">${amount(p)}</small>`;
}

/** "At 1.1 (ECB reference rate of 2026-12-03)": where a converted figure comes from. */
export function rateExplanation(p: Pick<PaymentEntry, "currency" | "reporting">): Html {
  const r = p.reporting;
  if (!r) return html`<span class="muted">being converted…</span>`;
  if (r.rateSource === "none") return html`<span class="muted">No rate from ${p.currency} to ${r.currency} for this day yet: it is left out of totals. Add a manual rate in Settings.</span>`;
  if (r.rateSource === "same") return html`${r.currency}, no conversion`;
  return html`1 ${p.currency} = ${r.rate} ${r.currency} · ${RATE_SOURCE_LABELS[r.rateSource]}${r.rateSource === "ecb" ? html` (Source: ECB)` : null} of ${r.rateDate}`;
}

export function paymentsTable(payments: PaymentEntry[], links: PaymentLinks, empty = "No payments in this period."): Html {
  return dataTable({
    caption: "Payments, newest first",
    rows: payments,
    empty,
    columns: [
      { key: "when", label: "When", cell: (p) => html`<a href="${links.payment(p.id)}">${formatDateTime(Date.parse(p.occurredAt), links.timezone)}</a>` },
      { key: "kind", label: "Kind", hideOnPhone: true, cell: (p) => html`<span class="badge">${p.kind}</span>` },
      { key: "net", label: "Net", numeric: true, cell: (p) => reportingAmount(p) },
      { key: "customer", label: "Customer", hideOnPhone: true, cell: (p) => customer(links, p.email) },
      { key: "method", label: "Attribution", cell: (p) => html`<span class="badge${p.attribution.method === "unattributed" ? "" : " ok"}">${METHOD_LABELS[p.attribution.method]}</span>` },
      {
        key: "context",
        label: "Link · campaign · source",
        hideOnPhone: true,
        cell: (p) => {
          const a = p.attribution;
          const parts = [a.linkId ? namedLink(links, a.linkId) : null, a.campaignId, a.source].filter((x) => x);
          return parts.length ? html`${parts.map((part, i) => html`${i ? " · " : ""}${part}`)}` : html`<span class="muted">—</span>`;
        },
      },
      { key: "provider", label: "Provider", hideOnPhone: true, cell: (p) => p.provider },
    ],
  });
}

export interface PaymentFiltersView {
  action: string;
  method: string;
  provider: string;
  keep: Record<string, string>;
}

export function paymentFilters(v: PaymentFiltersView): Html {
  const select = (name: string, label: string, current: string, options: readonly { value: string; label: string }[]) =>
    html`<div class="field"><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">
      <option value="">All</option>${options.map((o) => html`<option value="${o.value}" ${o.value === current ? html`selected` : null}>${o.label}</option>`)}
    </select></div>`;
  return html`<form method="get" action="${v.action}" class="toolbar">
    ${Object.entries(v.keep).map(([k, value]) => html`<input type="hidden" name="${k}" value="${value}">`)}
    ${select("method", "Attribution method", v.method, ATTRIBUTION_METHODS.map((m) => ({ value: m, label: METHOD_LABELS[m] })))}
    ${select("provider", "Provider", v.provider, PROVIDERS.map((p) => ({ value: p, label: p })))}
    <button type="submit">Filter</button>
  </form>`;
}

export interface PaymentDetailView {
  payment: PaymentEntry;
  trail: string[];
  rawEvents: RawProviderEvent[];
  links: PaymentLinks;
  parentHref: string | null;
}

function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

/** Provider events as received, each expandable to its pretty-printed payload. */
export function rawEventList(events: RawProviderEvent[], links: PaymentLinks, empty: string): Html {
  if (events.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`${events.map(
    (e) => html`<details>
      <summary><code>${e.type}</code> · ${e.provider} ${e.via} · ${formatDateTime(Date.parse(e.receivedAt), links.timezone)} · ${e.outcome}${e.paymentIds.map((id) => html` · <a href="${links.payment(id)}">payment</a>`)}</summary>
      <pre class="raw" tabindex="0"><code>${pretty(e.payload)}</code></pre>
    </details>`,
  )}`;
}

export function paymentDetail(v: PaymentDetailView): Html {
  const p = v.payment;
  const a = p.attribution;
  const context = (label: string, value: string | null) => html`<dt>${label}</dt><dd>${value ?? contextValue(value)}</dd>`;
  const metadata = Object.entries(p.metadata);
  return html`<div class="charts">
    <section class="card">
      <h2>${amount(p)} <span class="badge">${p.kind}</span></h2>
      <dl class="facts">
        <dt>Occurred</dt><dd>${formatDateTime(Date.parse(p.occurredAt), v.links.timezone)}</dd>
        <dt>Amount</dt><dd>${formatMoney(p.amount, p.currency)}${p.tax ? html` incl. ${formatMoney(p.tax, p.currency)} tax` : null}</dd>
        ${p.reporting && p.reporting.net !== null && p.reporting.rateSource !== "same" ? html`<dt>In ${p.reporting.currency}</dt><dd>${formatMoney(p.reporting.net, p.reporting.currency)} net · ${formatMoney(p.reporting.amount!, p.reporting.currency)} gross</dd>` : null}
        <dt>Rate</dt><dd>${rateExplanation(p)}</dd>
        ${p.settlement ? html`<dt>Settled</dt><dd>${formatMoney(p.settlement.amount, p.settlement.currency)} credited by ${p.provider}</dd>` : null}
        <dt>Customer</dt><dd>${customer(v.links, p.email)}</dd>
        <dt>Provider</dt><dd>${p.provider} · <code>${p.providerIds.key}</code></dd>
        ${p.description ? html`<dt>Description</dt><dd>${p.description}</dd>` : null}
        ${v.parentHref ? html`<dt>Belongs to</dt><dd><a href="${v.parentHref}">the original payment</a></dd>` : null}
      </dl>
    </section>
    <section class="card">
      <h2>Attribution: ${METHOD_LABELS[a.method]}</h2>
      <dl class="facts">
        <dt>Link</dt><dd>${a.linkId ? namedLink(v.links, a.linkId) : contextValue(null)}</dd>
        ${context("Campaign", a.campaignId)}
        ${context("Source", a.source)}
        ${context("Medium", a.medium)}
        ${context("Content", a.content)}
        ${context("Lead", a.leadId)}
        ${a.visitorId ? html`<dt>Visitor</dt><dd><a href="${v.links.visitor(a.visitorId)}"><code>${a.visitorId}</code></a> <small class="muted">journey</small></dd>` : null}
        ${a.profileId ? html`<dt>Profile</dt><dd><a href="${v.links.profile(a.profileId)}"><code>${a.profileId}</code></a></dd>` : null}
      </dl>
    </section>
  </div>
  <section class="card">
    <h2>Why this attribution</h2>
    ${v.trail.length ? html`<ol class="trail">${v.trail.map((step) => html`<li>${step}</li>`)}</ol>` : html`<p class="muted">No explanation was recorded.</p>`}
    ${a.mismatches.length
      ? html`<h3>Mismatches kept</h3><ul class="trail">${a.mismatches.map((m) => html`<li>${m.field}: the link says <code>${m.link}</code>, the metadata says <code>${m.metadata}</code></li>`)}</ul>`
      : null}
  </section>
  <section class="card">
    <h2>Checkout metadata</h2>
    ${metadata.length
      ? html`<dl class="facts">${metadata.map(([k, value]) => html`<dt>${k}</dt><dd><code>${value}</code></dd>`)}</dl>`
      : html`<p class="muted">The payment carried no metadata.</p>`}
  </section>
  <section class="card">
    <h2>Raw provider events</h2>
    ${rawEventList(v.rawEvents, v.links, "This payment came without a provider event (it was sent through the API).")}
  </section>`;
}

export interface ConvertedSummaryView {
  totals: { currency: string; revenue: number; refunds: number; net: number; unconverted: number; unconvertedByCurrency: { currency: string; payments: number }[] };
  /** Set while history is being converted into a new reporting currency. */
  progress: { done: number; total: number } | null;
  ratesHref: string;
}

/** One number for the period in the reporting currency, and what it leaves out ("2 payments in AED not converted: add a rate"). */
export function convertedSummary(v: ConvertedSummaryView): Html {
  const t = v.totals;
  return html`<p class="notice${t.unconverted ? " warn" : ""}" role="status">
    Net revenue in this period: <strong>${formatMoney(t.net, t.currency)}</strong>
    (${formatMoney(t.revenue, t.currency)} revenue, ${formatMoney(t.refunds, t.currency)} refunded, in ${t.currency}).
    ${t.unconverted ? notConverted(t.unconvertedByCurrency, v.ratesHref) : null}
    ${v.progress ? html` Converting history into ${t.currency}: ${v.progress.done} of ${v.progress.total} payments.` : null}
  </p>`;
}
