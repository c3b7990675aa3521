// Pieces shared by the overview, the per-link page and the reports: the summary tiles (people counted
// distinct over the period), and revenue charts per currency.
import { html, type Html } from "../html.ts";
import { timeSeriesChart } from "../charts.ts";
import { formatMinorUnits } from "../../payments/money.ts";
import { bucketize, type Buckets } from "./time.ts";
import type { Revenue } from "./payments.sql.ts";
import { chartCard, formatCount, moneyLines, percent, type StatTile } from "../../../views/pages/parts.ts";
import { people, revenue as revenueOf, traffic, type RollupQuery } from "./rollups.ts";

const sum = (rows: Revenue[], pick: (r: Revenue) => number) => rows.reduce((total, r) => total + pick(r), 0);

/** The tiles a data page opens with: people, clicks, customers and conversion, then payments and revenue, each against the previous period. */
export function summaryTiles(q: RollupQuery, previousQ: RollupQuery, first: "visitors" | "clicks" = "visitors"): StatTile[] {
  const period = (query: RollupQuery) => ({ clicks: traffic(query).clicks, ...people(query) });
  const current = period(q);
  const previous = period(previousQ);
  const tile = (label: string, pick: (counts: typeof current) => number, format: (n: number) => string = formatCount): StatTile => ({
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
    ...revenueTiles(revenueOf(q, q.currency), revenueOf(previousQ, q.currency)),
  ];
}

/** Payments (a count, fine to add up) and net revenue per currency, with change in the first currency. */
function revenueTiles(current: Revenue[], previous: Revenue[]): StatTile[] {
  const main = current[0]?.currency ?? previous[0]?.currency;
  const net = (rows: Revenue[]) => rows.find((r) => r.currency === main)?.net ?? 0;
  return [
    { label: "Payments", value: formatCount(sum(current, (r) => r.payments)), current: sum(current, (r) => r.payments), previous: sum(previous, (r) => r.payments) },
    {
      label: "Net revenue",
      value: moneyLines(current.map((r) => ({ currency: r.currency, amount: r.net })), "0"),
      ...(main ? { current: net(current), previous: net(previous) } : {}),
    },
  ];
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
