// The MRR page: recurring revenue as of each month's end, its movements, and who brought it.
import { html, raw, type Html } from "../../src/dashboard/html.ts";
import { formatMoney } from "../../src/payments/money.ts";
import { chartCard, contextValue, dataTable, formatCount, statTiles } from "./parts.ts";
import type { MrrRow } from "../../src/subscriptions/mrr.ts";

export interface MrrPageView {
  currency: string;
  /** One row per month, oldest first (the total over every key). */
  months: MrrRow[];
  /** The current month's rows per key of `groupBy`. */
  byKey: MrrRow[];
  groupBy: string;
  groupByOptions: readonly string[];
  mrrChart: string;
  keyChart: string;
  keyHref: (key: string) => string | null;
}

export function mrrPage(v: MrrPageView): Html {
  const money = (minor: number) => formatMoney(minor, v.currency);
  const latest = v.months.at(-1);
  const previous = v.months.at(-2);
  return html`<p class="hint stats-hint">Subscriptions' recurring amounts normalised to a month (a year ÷ 12, a week × 52/12), in ${v.currency}, as of each month's end. A subscription churns when cancelled or when a period ends without a renewal within 3 days. Each is credited to its first sale's attribution.</p>
    ${statTiles([
      { label: "MRR", value: money(latest?.mrr ?? 0), current: latest?.mrr ?? 0, previous: previous?.mrr ?? 0 },
      { label: "Active subscriptions", value: formatCount(latest?.activeSubscriptions ?? 0), current: latest?.activeSubscriptions ?? 0, previous: previous?.activeSubscriptions ?? 0 },
      { label: "New MRR this month", value: money(latest?.new ?? 0) },
      { label: "Churned MRR this month", value: money(latest?.churned ?? 0) },
    ])}
    <div class="charts">
      ${chartCard("MRR by month", v.mrrChart)}
      <section class="card chart-card">
        <h2>MRR by ${v.groupBy}</h2>
        <form method="get" class="toolbar">
          <div class="field"><label for="f-groupBy">Credited to</label><select id="f-groupBy" name="groupBy">${v.groupByOptions.map(
            (g) => html`<option value="${g}" ${g === v.groupBy ? html`selected` : null}>${g}</option>`,
          )}</select></div>
          <button type="submit">Show</button>
        </form>
        ${v.byKey.length ? raw(v.keyChart) : html`<p class="muted">No subscription yet.</p>`}
      </section>
    </div>
    <section class="card">
      <h2>Movements per month</h2>
      ${dataTable({
        caption: "MRR and its movements per month",
        rows: [...v.months].reverse(),
        empty: "No subscription yet.",
        columns: [
          { key: "month", label: "Month", cell: (r) => r.month },
          { key: "mrr", label: "MRR", numeric: true, cell: (r) => money(r.mrr) },
          { key: "new", label: "New", numeric: true, cell: (r) => money(r.new) },
          { key: "expansion", label: "Expansion", numeric: true, hideOnPhone: true, cell: (r) => money(r.expansion) },
          { key: "contraction", label: "Contraction", numeric: true, hideOnPhone: true, cell: (r) => money(r.contraction) },
          { key: "churned", label: "Churned", numeric: true, cell: (r) => money(r.churned) },
          { key: "active", label: "Active", numeric: true, hideOnPhone: true, cell: (r) => formatCount(r.activeSubscriptions) },
        ],
      })}
    </section>
    <section class="card">
      <h2>This month by ${v.groupBy}</h2>
      ${dataTable({
        caption: `MRR this month by ${v.groupBy}`,
        rows: v.byKey,
        empty: "No subscription yet.",
        columns: [
          { key: "key", label: v.groupBy, cell: (r) => (r.key && v.keyHref(r.key) ? html`<a href="${v.keyHref(r.key)!}">${r.key}</a>` : contextValue(r.key)) },
          { key: "mrr", label: "MRR", numeric: true, cell: (r) => money(r.mrr) },
          { key: "new", label: "New", numeric: true, hideOnPhone: true, cell: (r) => money(r.new) },
          { key: "churned", label: "Churned", numeric: true, hideOnPhone: true, cell: (r) => money(r.churned) },
          { key: "active", label: "Active", numeric: true, cell: (r) => formatCount(r.activeSubscriptions) },
        ],
      })}
    </section>`;
}
