// Pieces shared by the overview, the per-link page and the reports: the summary tiles (people counted
// distinct over the period), and revenue charts per currency.
import { html, type Html, type HtmlValue } from "../html.ts";
import { timeSeriesChart } from "../charts.ts";
import { formatMinorUnits } from "../../payments/money.ts";
import { bucketize, type Buckets } from "./time.ts";
import type { Revenue } from "./payments.sql.ts";
import { chartCard, formatCount, moneyLines, percent, type StatTile } from "../../../views/pages/parts.ts";
import type { RollupQuery } from "./rollups.ts";
import { summaryReport, type Summary } from "../../reports/summary.ts";
import { formatMoney } from "../../payments/money.ts";

/** The tiles a data page opens with: people, clicks, customers and conversion, then payments and revenue, each against the previous period. */
/** A page's range and filters as the summary report reads them. */
export function summaryOf(q: RollupQuery): Summary {
  return summaryReport(
    q.db,
    { id: q.projectId, currency: q.currency, timezone: q.timeZone, countRenewals: q.countRenewals },
    { from: q.range.from, to: q.range.to, filter: q.filter },
    q.now,
  );
}

export function summaryTiles(current: Summary, previous: Summary, first: "visitors" | "clicks" = "visitors"): StatTile[] {
  const tile = (label: string, pick: (totals: Summary) => number, format: (n: number) => HtmlValue = formatCount): StatTile => ({
    label,
    value: format(pick(current)),
    current: pick(current),
    previous: pick(previous),
  });
  const visitors = tile("Visitors", (c) => c.visitors);
  const clicks = tile("Clicks", (c) => c.clicks);
  return [
    ...(first === "visitors" ? [visitors, clicks] : [clicks, visitors]),
    tile("Signups", (c) => c.signups),
    tile("Customers", (c) => c.customers),
    tile("Conversion", (c) => c.conversionRate, (rate) => percent(rate, 1)),
    tile("Net revenue", (c) => c.net, (net) => netValue(net, current)),
  ];
}

/** The net in the reporting currency, and what it leaves out for want of a rate, in the original currencies. */
function netValue(net: number, totals: Summary): Html {
  const others = totals.byCurrency.filter((m) => m.currency !== totals.currency && m.net !== 0);
  return html`${formatMoney(net, totals.currency)}${
    totals.unconverted ? html`<small class="muted" title="No rate to ${totals.currency} yet: add one in Settings">+ ${moneyLines(others.map((m) => ({ currency: m.currency, amount: m.net })))} not converted</small>` : null
  }`;
}

/** One net-revenue chart per currency (at most `max`), amounts in major units on the axis. */
export function revenueCharts(hourly: (Revenue & { hour: number })[], totals: Revenue[], buckets: Buckets, timeZone: string, max = 2): Html {
  const charts = totals.slice(0, max).map((total) => {
    const rows = hourly.filter((r) => r.currency === total.currency);
    const title = `Net revenue (${total.currency})`;
    return chartCard(
      title,
      timeSeriesChart({
        title,
        series: [{ label: "Net revenue", points: bucketize(rows, buckets, (r) => Number(formatMinorUnits(r.net, r.currency))) }],
        bucketMs: buckets.bucketMs,
        timeZone,
        area: true,
        formatValue: compactMoney(total.currency),
      }),
    );
  });
  return charts.length ? html`${charts}` : html``;
}

/** "$1.2K" on axes and tooltips; the tiles and tables show exact amounts. */
function compactMoney(currency: string): (major: number) => string {
  try {
    const format = new Intl.NumberFormat("en", { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 });
    return (major) => format.format(major);
  } catch {
    return (major) => `${major.toFixed(0)} ${currency}`;
  }
}
