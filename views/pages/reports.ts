// Breakdown tables: one row per campaign, source, link, page, country… with its people, customers,
// conversion and net revenue, an in-row bar of its visitors, and a totals row counted distinct over
// the period (so it is not the sum of the rows: a visitor through two sources counts once).
import { formatMoney } from "../../src/payments/money.ts";
import { html, type Html, type HtmlValue } from "../../src/dashboard/html.ts";
import type { AttributionReportRow } from "../../src/reports/attribution.ts";
import type { Summary } from "../../src/reports/summary.ts";
import { convertedMoney, dataTable, formatCount, percent, type Column, type SortState } from "./parts.ts";

/** What every breakdown row has, attribution and traffic alike. */
export type BreakdownRow = Pick<AttributionReportRow, "key" | "visitors" | "signups" | "customers" | "conversionRate" | "net" | "currency"> & {
  label?: string;
  clicks?: number;
  pageviews?: number;
  revenuePerVisitor?: number;
  unconverted: number;
  /** The original amounts, in the converted net's tooltip. */
  byCurrency?: { currency: string; net: number }[];
};

export interface BreakdownOptions<Row extends BreakdownRow> {
  caption: string;
  /** The first column's heading: "Campaign", "Page"… */
  label: string;
  rows: Row[];
  /** Distinct over the period; omitted where a total would mislead. */
  totals?: Summary | null;
  href?: (row: Row) => string | null;
  /** Which optional columns to show. */
  show: { clicks?: boolean; pageviews?: boolean; revenuePerVisitor?: boolean; compact?: boolean };
  sort?: SortState;
  sortHref?: (key: string, dir: "asc" | "desc") => string;
  empty: HtmlValue;
  /** Shows at most this many rows (the overview's top tables). */
  limit?: number;
  /** What a row without a value is called: "(none)" for attribution, "(unknown)" for a country or device. */
  noneLabel?: string;
}

/** Sorts by visitors unless the table says otherwise: the bar then reads as a ranking. */
export function breakdownColumns<Row extends BreakdownRow>(options: BreakdownOptions<Row>): Column<Row>[] {
  const maxVisitors = Math.max(1, ...options.rows.map((r) => r.visitors));
  const none = options.noneLabel ?? "(none)";
  const name = (row: Row) => row.label ?? row.key ?? none;
  const columns: (Column<Row> | false | undefined)[] = [
    {
      key: "key",
      label: options.label,
      sort: (r) => name(r),
      cell: (r) => {
        const href = options.href?.(r) ?? null;
        const text = r.key === null ? html`<span class="muted">${none}</span>` : r.label && r.label !== r.key ? html`${r.label} <small class="muted">${r.key}</small>` : html`${r.key}`;
        return html`<span class="bar-cell"><span class="bar" style="width:${((r.visitors / maxVisitors) * 100).toFixed(1)}%"></span><span class="bar-label">${href ? html`<a href="${href}">${text}</a>` : text}</span></span>`;
      },
    },
    { key: "visitors", label: "Visitors", numeric: true, sort: (r) => r.visitors, cell: (r) => formatCount(r.visitors) },
    options.show.clicks && { key: "clicks", label: "Clicks", numeric: true, hideOnPhone: true, sort: (r) => r.clicks ?? 0, cell: (r) => formatCount(r.clicks ?? 0) },
    options.show.pageviews && { key: "pageviews", label: "Pageviews", numeric: true, hideOnPhone: true, sort: (r) => r.pageviews ?? 0, cell: (r) => formatCount(r.pageviews ?? 0) },
    !options.show.compact && { key: "signups", label: "Signups", numeric: true, hideOnPhone: true, sort: (r) => r.signups, cell: (r) => formatCount(r.signups) },
    { key: "customers", label: "Customers", numeric: true, hideOnPhone: options.show.compact, sort: (r) => r.customers, cell: (r) => formatCount(r.customers) },
    { key: "conversion", label: "Conv.", numeric: true, hideOnPhone: true, sort: (r) => r.conversionRate, cell: (r) => (r.visitors ? percent(r.conversionRate, 1) : "—") },
    { key: "net", label: options.show.compact ? "Net" : "Net revenue", numeric: true, sort: (r) => r.net, cell: (r) => convertedMoney(r) },
    options.show.revenuePerVisitor && {
      key: "rpv",
      label: "Per visitor",
      numeric: true,
      hideOnPhone: true,
      sort: (r) => r.revenuePerVisitor ?? 0,
      cell: (r) => (r.visitors ? formatMoney(r.revenuePerVisitor ?? 0, r.currency) : "—"),
    },
  ];
  return columns.filter((c): c is Column<Row> => Boolean(c));
}

function totalsRow<Row extends BreakdownRow>(columns: Column<Row>[], totals: Summary): Html {
  const cell = (key: string): HtmlValue => {
    switch (key) {
      case "key":
        return "Total (distinct)";
      case "visitors":
        return formatCount(totals.visitors);
      case "clicks":
        return formatCount(totals.clicks);
      case "signups":
        return formatCount(totals.signups);
      case "customers":
        return formatCount(totals.customers);
      case "conversion":
        return totals.visitors ? percent(totals.conversionRate, 1) : "—";
      case "net":
        return convertedMoney(totals);
      case "rpv":
        return totals.visitors ? formatMoney(totals.revenuePerVisitor, totals.currency) : "—";
      default:
        return "";
    }
  };
  return html`<tfoot><tr>${columns.map((c) => html`<td class="${[c.numeric ? "num" : "", c.hideOnPhone ? "hide-phone" : ""].filter(Boolean).join(" ")}">${cell(c.key)}</td>`)}</tr></tfoot>`;
}

export function breakdownTable<Row extends BreakdownRow>(options: BreakdownOptions<Row>): Html {
  const columns = breakdownColumns(options);
  return dataTable({
    caption: options.caption,
    columns,
    rows: options.limit ? options.rows.slice(0, options.limit) : options.rows,
    sort: options.sort,
    sortHref: options.sortHref,
    empty: options.empty,
    footer: options.totals && options.rows.length > 0 ? totalsRow(columns, options.totals) : undefined,
  });
}

export function modelSwitch(current: "last" | "first", href: (model: "last" | "first") => string): Html {
  return html`<div class="range" role="group" aria-label="Attribution model">
    <a href="${href("last")}" ${current === "last" ? html`aria-current="true"` : null}>Last touch</a>
    <a href="${href("first")}" ${current === "first" ? html`aria-current="true"` : null}>First touch</a>
  </div>`;
}

