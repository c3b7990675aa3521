// The funnel over the core events, link_clicked → payment_completed, with conversion between steps,
// narrowed by the link, campaign and source filters that live in the URL.
import { html, raw } from "../html.ts";
import { renderPage, type DashboardRequest, type DashboardRouter } from "../routing.ts";
import { rangeQuery } from "../range.ts";
import { barChart, formatCompact } from "../charts.ts";
import { revenue, rollupQuery, traffic } from "./rollups.ts";
import { field } from "../../../views/components.ts";
import { dataPage, dataTable, formatCount, percent } from "../../../views/pages/parts.ts";

export interface FunnelStep {
  event: string;
  label: string;
  count: number;
}

export function funnelSteps(req: DashboardRequest): FunnelStep[] {
  const q = rollupQuery(req);
  const totals = traffic(q);
  const payments = revenue(q, req.project.currency).reduce((n, r) => n + r.payments, 0);
  return [
    { event: "link_clicked", label: "Clicked a link", count: totals.clicks },
    { event: "page_view", label: "Visited the site", count: totals.sessions },
    { event: "pricing_view", label: "Viewed pricing", count: totals.pricingViews },
    { event: "signup_started", label: "Started signup", count: totals.signupsStarted },
    { event: "signup_completed", label: "Signed up", count: totals.signups },
    { event: "payment_completed", label: "Paid", count: payments },
  ];
}

function funnel(req: DashboardRequest) {
  const steps = funnelSteps(req);
  const first = steps[0]!.count;
  const filters = req.range.filters;
  const keep = [...rangeQuery({ ...req.range, filters: {} })];
  return html`<form method="get" action="${req.url.pathname}" class="toolbar card" aria-label="Funnel filters">
      ${keep.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
      ${field({ label: "Link id", name: "link", value: filters.link ?? "", placeholder: "lnk_…" })}
      ${field({ label: "Campaign", name: "campaign", value: filters.campaign ?? "", placeholder: "spring_launch" })}
      ${field({ label: "Source", name: "source", value: filters.source ?? "", placeholder: "twitter" })}
      <button type="submit">Apply</button>
    </form>
    <section class="card">
      <h2>From click to payment</h2>
      ${raw(
        barChart({
          title: "Funnel: how many reached each step",
          bars: steps.map((s, i) => ({ label: s.label, value: s.count, note: `${formatCompact(s.count)}${i ? ` · ${percent(s.count, steps[i - 1]!.count)}` : ""}` })),
        }),
      )}
    </section>
    ${dataTable({
      caption: "Funnel steps with conversion",
      rows: steps.map((step, i) => ({ step, previous: i ? steps[i - 1]!.count : null })),
      empty: "",
      columns: [
        { key: "key", label: "Step", cell: (r) => html`${r.step.label} <code class="hide-phone">${r.step.event}</code>` },
        { key: "count", label: "Count", numeric: true, cell: (r) => formatCount(r.step.count) },
        { key: "step", label: "Of previous", numeric: true, cell: (r) => (r.previous === null ? "—" : percent(r.step.count, r.previous)) },
        { key: "overall", label: "Of first", numeric: true, cell: (r) => percent(r.step.count, first) },
      ],
    })}
    <p class="hint">Counts of events in the period. "Visited the site" counts visits (sessions); "Paid" counts sales and renewals attributed to the filtered traffic.</p>`;
}

export function funnelPage(router: DashboardRouter): void {
  router.get("/funnel", (req) => renderPage(req, { title: "Funnel", showRange: true, body: dataPage(funnel(req)) }));
}
