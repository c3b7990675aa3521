// The attribution report as a sortable table (one row per campaign, source, medium, content or lead,
// money per currency on its own line), and the drill-down header of one value.
import { formatMoney } from "../../src/payments/money.ts";
import { html, type Html } from "../../src/dashboard/html.ts";
import { contextValue, dataTable, formatCount, percent, type Column, type SortState } from "./parts.ts";

export interface ReportRow {
  key: string | null;
  clicks: number;
  visitors: number;
  signups: number;
  payments: number;
  /** Per currency, the reporting currency first. */
  money: { currency: string; revenue: number; refunds: number; net: number }[];
}

const amounts = (row: ReportRow, pick: (m: ReportRow["money"][number]) => number) =>
  row.money.length === 0 ? html`<span class="muted">—</span>` : html`${row.money.map((m, i) => html`${i ? html`<br>` : null}${formatMoney(pick(m), m.currency)}`)}`;

export function reportColumns(label: string, drillHref: (key: string | null) => string): Column<ReportRow>[] {
  const first = (row: ReportRow, pick: (m: ReportRow["money"][number]) => number) => (row.money[0] ? pick(row.money[0]) : 0);
  return [
    { key: "key", label, sort: (r) => r.key ?? "", cell: (r) => html`<a href="${drillHref(r.key)}">${contextValue(r.key)}</a>` },
    { key: "clicks", label: "Clicks", numeric: true, hideOnPhone: true, sort: (r) => r.clicks, cell: (r) => formatCount(r.clicks) },
    { key: "visitors", label: "Visitors", numeric: true, hideOnPhone: true, sort: (r) => r.visitors, cell: (r) => formatCount(r.visitors) },
    { key: "signups", label: "Signups", numeric: true, hideOnPhone: true, sort: (r) => r.signups, cell: (r) => formatCount(r.signups) },
    { key: "payments", label: "Payments", numeric: true, hideOnPhone: true, sort: (r) => r.payments, cell: (r) => formatCount(r.payments) },
    { key: "revenue", label: "Revenue", numeric: true, hideOnPhone: true, sort: (r) => first(r, (m) => m.revenue), cell: (r) => amounts(r, (m) => m.revenue) },
    { key: "refunds", label: "Refunds", numeric: true, hideOnPhone: true, sort: (r) => first(r, (m) => m.refunds), cell: (r) => amounts(r, (m) => -m.refunds) },
    { key: "net", label: "Net", numeric: true, sort: (r) => first(r, (m) => m.net), cell: (r) => amounts(r, (m) => m.net) },
    { key: "conversion", label: "Conversion", numeric: true, sort: (r) => (r.visitors ? r.payments / r.visitors : 0), cell: (r) => percent(r.payments, r.visitors) },
  ];
}

export function reportTable(options: { label: string; rows: ReportRow[]; sort: SortState; sortHref: (key: string, dir: "asc" | "desc") => string; drillHref: (key: string | null) => string }): Html {
  return dataTable({
    caption: `Attribution report by ${options.label}`,
    columns: reportColumns(options.label, options.drillHref),
    rows: options.rows,
    sort: options.sort,
    sortHref: options.sortHref,
    empty: "No traffic and no payments in this period.",
  });
}

export function modelSwitch(current: "last" | "first", href: (model: "last" | "first") => string): Html {
  return html`<div class="range" role="group" aria-label="Attribution model">
    <a href="${href("last")}" ${current === "last" ? html`aria-current="true"` : null}>Last touch</a>
    <a href="${href("first")}" ${current === "first" ? html`aria-current="true"` : null}>First touch</a>
  </div>`;
}
