// The MRR page: the last twelve months of recurring revenue in the reporting currency, per month
// and per attribution key of each subscription's first sale.
import { renderPage, type DashboardRouter } from "../routing.ts";
import { barChart, formatCompact, timeSeriesChart } from "../charts.ts";
import { formatMinorUnits } from "../../payments/money.ts";
import { GROUP_BY, type GroupBy } from "../../reports/attribution.ts";
import { monthSpans, mrrMovements, subscriptionsOn } from "../../subscriptions/mrr.ts";
import { reportDb } from "../../reports/source.ts";
import { dataPage } from "../../../views/pages/parts.ts";
import { mrrPage } from "../../../views/pages/mrr.ts";

const YEAR_MS = 365 * 86_400_000;
/** What the page groups MRR by unless asked otherwise. */
export const MRR_GROUP_BY: GroupBy = "campaign";

export function mrrPages(router: DashboardRouter): void {
  router.get("/mrr", async (req) => {
    const now = req.ctx.now();
    const { currency, timezone } = req.project;
    const requested = req.query.get("groupBy");
    const groupBy: GroupBy = (GROUP_BY as readonly string[]).includes(requested ?? "") ? (requested as GroupBy) : MRR_GROUP_BY;
    const months = monthSpans(now - YEAR_MS + 31 * 86_400_000, now, timezone);
    // One read serves both: the totals are the same subscriptions without their keys.
    const subs = await subscriptionsOn(reportDb(req.ctx), req.project.id, groupBy, now);
    const totals = mrrMovements(subs.map((sub) => ({ ...sub, key: null })), months, now, currency);
    const current = months.slice(-1);
    const byKey = mrrMovements(subs, current, now, currency)
      .filter((r) => r.mrr || r.new || r.churned || r.expansion || r.contraction)
      .sort((a, b) => b.mrr - a.mrr);
    const major = (minor: number) => Number(formatMinorUnits(minor, currency));
    const mrrChart = timeSeriesChart({
      title: `MRR in ${currency}`,
      series: [{ label: "MRR", points: totals.map((r, i) => ({ t: months[i]!.start, value: major(r.mrr) })) }],
      bucketMs: 86_400_000,
      timeZone: timezone,
      area: true,
      formatValue: formatCompact,
    });
    const keyChart = barChart({
      title: `MRR by ${groupBy} in ${currency}`,
      bars: byKey.slice(0, 10).map((r) => ({ label: r.key ?? `no ${groupBy}`, value: major(r.mrr) })),
    });
    const body = mrrPage({
      currency,
      months: totals,
      byKey,
      groupBy,
      groupByOptions: GROUP_BY,
      mrrChart,
      keyChart,
      keyHref: (key) => (groupBy === "link" ? req.href(`/links/${encodeURIComponent(key)}`) : req.href(`/${groupBy}s/${encodeURIComponent(key)}`)),
    });
    return renderPage(req, { title: "MRR", body: dataPage(body) });
  });
}
