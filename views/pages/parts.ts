// Building blocks of the data pages: stat tiles with their change, chart cards, sortable tables, money.
import { html, raw, type Html, type HtmlValue } from "../../src/dashboard/html.ts";
import { formatMoney } from "../../src/payments/money.ts";
import css from "./pages.css" with { type: "text" };

const style = raw(`<style>${css}</style>`);

/** Wraps a data page's content with its stylesheet (inline: the layout's CSP allows inline styles). */
export function dataPage(...content: HtmlValue[]): Html {
  return html`${style}${content}`;
}

const counts = new Intl.NumberFormat("en");
export const formatCount = (n: number) => counts.format(n);

/** "+12 %" / "−40 %" / "new" against the previous period, coloured by direction. */
export function change(current: number, previous: number, label = "vs previous"): Html {
  if (previous === 0 && current === 0) return html`<span class="change">no change ${label}</span>`;
  if (previous === 0) return html`<span class="change up">new ${label}</span>`;
  const pct = ((current - previous) / Math.abs(previous)) * 100;
  const rounded = Math.abs(pct) >= 10 ? Math.round(pct) : Math.round(pct * 10) / 10;
  const direction = rounded > 0 ? "up" : rounded < 0 ? "down" : "";
  const arrow = rounded > 0 ? "▲" : rounded < 0 ? "▼" : "";
  const text = `${arrow} ${rounded > 0 ? "+" : rounded < 0 ? "−" : ""}${Math.abs(rounded)} % ${label}`.trim();
  return html`<span class="change ${direction}">${text}</span>`;
}

export interface StatTile {
  label: string;
  value: HtmlValue;
  current?: number;
  previous?: number;
}

export function statTiles(tiles: StatTile[]): Html {
  return html`<div class="stats">${tiles.map(
    (t) => html`<div class="stat"><div class="label">${t.label}</div><div class="value">${t.value}</div>${
      t.current !== undefined && t.previous !== undefined ? change(t.current, t.previous) : null
    }</div>`,
  )}</div>`;
}

/** A card with a title, a chart, and what reads beneath it (`after`). */
export function chartCard(title: string, chart: string, legend: string[] = [], after: HtmlValue = null): Html {
  return html`<section class="card chart-card">
    <h2>${title}${legend.length > 1 ? html`<span class="legend">${legend.map((l, i) => html`<span class="s${i + 1}">${l}</span>`)}</span>` : null}</h2>
    ${raw(chart)}${after}
  </section>`;
}

/**
 * A net in the reporting currency, with the payments it leaves out for want of a rate counted beneath
 * it (never added in), and the original currencies in its tooltip.
 */
export function convertedMoney(v: { net: number; currency: string; unconverted: number; byCurrency?: { currency: string; net: number }[] }): Html {
  const originals = (v.byCurrency ?? []).filter((m) => m.net !== 0).map((m) => formatMoney(m.net, m.currency));
  return html`<span title="${originals.length ? `In original currencies: ${originals.join(", ")}` : ""}">${formatMoney(v.net, v.currency)}</span>${
    v.unconverted ? html`<br><small class="muted" title="Payments without a rate into ${v.currency}, left out of this sum">+ ${v.unconverted} not converted</small>` : null
  }`;
}

/** "2 payments in AED not converted: add a rate." with the link to Settings → Exchange rates. */
export function notConverted(byCurrency: { currency: string; payments: number }[], ratesHref: string): Html {
  return html`${byCurrency.map((c, i) => html`${i ? "; " : ""}<strong>${c.payments} payment${c.payments === 1 ? "" : "s"} in ${c.currency} not converted</strong>`)}: <a href="${ratesHref}">add a rate</a>.`;
}

export interface Column<Row> {
  key: string;
  label: string;
  numeric?: boolean;
  /** Sort value; columns without one cannot be sorted. */
  sort?: (row: Row) => number | string;
  cell: (row: Row) => HtmlValue;
  hideOnPhone?: boolean;
}

export interface SortState {
  key: string;
  dir: "asc" | "desc";
}

/** Reads ?sort=key&dir=asc|desc, falling back to `fallback` for unknown keys. */
export function readSort<Row>(query: URLSearchParams, columns: Column<Row>[], fallback: SortState): SortState {
  const key = query.get("sort") ?? "";
  const column = columns.find((c) => c.key === key && c.sort);
  if (!column) return fallback;
  return { key, dir: query.get("dir") === "asc" ? "asc" : "desc" };
}

export function sortRows<Row>(rows: Row[], columns: Column<Row>[], sort: SortState): Row[] {
  const column = columns.find((c) => c.key === sort.key);
  if (!column?.sort) return rows;
  const value = column.sort;
  const factor = sort.dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * factor;
  });
}

/**
 * A table whose sortable headers are links (sorting survives reload and sharing);
 * `sortHref(key, dir)` builds each header's URL with the page's range and filters.
 */
export function dataTable<Row>(options: {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  sort?: SortState;
  sortHref?: (key: string, dir: "asc" | "desc") => string;
  empty: HtmlValue;
  footer?: Html;
}): Html {
  const { columns, rows, sort, sortHref } = options;
  const th = (c: Column<Row>) => {
    const cls = [c.numeric ? "num" : "", c.hideOnPhone ? "hide-phone" : ""].filter(Boolean).join(" ");
    const active = sort?.key === c.key;
    const ariaSort = active ? (sort!.dir === "asc" ? "ascending" : "descending") : null;
    if (!c.sort || !sortHref) return html`<th scope="col" class="${cls}">${c.label}</th>`;
    const nextDir = active && sort!.dir === "desc" ? "asc" : "desc";
    return html`<th scope="col" class="${cls}" ${ariaSort ? html`aria-sort="${ariaSort}"` : null}><a href="${sortHref(c.key, nextDir)}">${c.label}${active ? (sort!.dir === "asc" ? " ↑" : " ↓") : ""}</a></th>`;
  };
  const td = (c: Column<Row>, row: Row) =>
    html`<td class="${[c.numeric ? "num" : "", c.hideOnPhone ? "hide-phone" : "", c.key === "key" || c.key === "when" ? c.key : ""].filter(Boolean).join(" ")}">${c.cell(row)}</td>`;
  return html`<div class="table-wrap"><table>
    <caption class="skip">${options.caption}</caption>
    <thead><tr>${columns.map(th)}</tr></thead>
    <tbody>${rows.length === 0 ? html`<tr><td colspan="${columns.length}" class="empty">${options.empty}</td></tr>` : rows.map((row) => html`<tr>${columns.map((c) => td(c, row))}</tr>`)}</tbody>
    ${options.footer ?? null}
  </table></div>`;
}

/** "12.5 %" of `part` in `whole`, or "—" when there is nothing to divide by. */
export function percent(part: number, whole: number): string {
  if (whole <= 0) return "—";
  const pct = (part / whole) * 100;
  return `${pct >= 10 ? Math.round(pct) : Math.round(pct * 10) / 10} %`;
}

/** A context value as text, with "(none)" for traffic that had none. */
export function contextValue(value: string | null | undefined): Html {
  return value ? html`${value}` : html`<span class="muted">(none)</span>`;
}

