import { describe, expect, test } from "bun:test";
import { barChart, formatCompact, niceScale, timeSeriesChart } from "./charts.ts";

const day = 86_400_000;
const start = Date.UTC(2026, 10, 1);
const points = (values: number[]) => values.map((value, i) => ({ t: start + i * day, value }));

describe("time series chart", () => {
  test("is an accessible SVG whose title names the chart and its totals", () => {
    const svg = timeSeriesChart({ title: "Visitors", series: [{ label: "Visitors", points: points([1, 5, 3]) }], bucketMs: day });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('role="img"');
    expect(svg).toMatch(/<title id="chart-[a-z0-9]+-chart-wide">Visitors \(Visitors: 9\)<\/title>/);
    expect(svg).toContain("aria-labelledby=");
  });

  test("is drawn for a card and for a phone, each with its own title id", () => {
    const svg = timeSeriesChart({ title: "Visitors", series: [{ label: "Visitors", points: points([1, 5, 3]) }], bucketMs: day });
    expect(svg.match(/<svg class="chart chart-time chart-wide" viewBox="0 0 520 /g)).toHaveLength(1);
    expect(svg.match(/<svg class="chart chart-time chart-narrow" viewBox="0 0 340 /g)).toHaveLength(1);
    const ids = [...svg.matchAll(/<title id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(2);
  });

  test("labels the x axis with dates and the y axis with round numbers up to the maximum", () => {
    const svg = timeSeriesChart({ title: "Clicks", series: [{ label: "Clicks", points: points([0, 37, 12]) }], bucketMs: day });
    expect(svg).toContain(">Nov 1<");
    expect(svg).toContain(">Nov 3<");
    expect(svg).toContain(">40<"); // 37 rounds up to a 40 top tick
    expect(svg).toContain(">0<");
  });

  test("hourly buckets are labelled with the hour in the project's time zone", () => {
    const svg = timeSeriesChart({
      title: "Today",
      series: [{ label: "Clicks", points: [{ t: Date.UTC(2026, 10, 1, 8), value: 1 }] }],
      bucketMs: 3_600_000,
      timeZone: "Europe/Berlin",
    });
    expect(svg).toContain(">09:00<");
  });

  test("draws in currentColor so it reads in light and dark mode", () => {
    const svg = timeSeriesChart({ title: "Revenue", series: [{ label: "Net", points: points([1, 2]) }], bucketMs: day, area: true });
    expect(svg).toContain('stroke="currentColor"');
    expect(svg).toContain('class="chart-area"');
    expect(svg).not.toMatch(/#[0-9a-f]{3,6}"/i);
    expect(svg).not.toContain("style=");
  });

  test("escapes labels and formatted values", () => {
    const svg = timeSeriesChart({
      title: "<script>alert(1)</script>",
      series: [{ label: "<img src=x onerror=alert(1)>", points: points([1, 2]) }],
      bucketMs: day,
      formatValue: (v) => `<b>${v}</b>`,
    });
    expect(svg).not.toContain("<script>");
    expect(svg).not.toContain("<img");
    expect(svg).not.toContain("<b>");
    expect(svg).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  test("an empty range still draws axes instead of failing", () => {
    const svg = timeSeriesChart({ title: "Nothing", series: [{ label: "x", points: [] }], bucketMs: day });
    expect(svg).toContain("<svg");
    expect(svg).toContain("chart-grid");
  });
});

describe("bar chart", () => {
  test("bars are proportional to their values and show their note", () => {
    const svg = barChart({ title: "Funnel", bars: [{ label: "Clicks", value: 100 }, { label: "Signups", value: 25, note: "25 (25 %)" }] });
    const widths = [...svg.matchAll(/<rect class="chart-series-1"[^>]*width="([\d.]+)%"/g)].map((m) => Number(m[1]));
    expect(widths).toEqual([100, 25]);
    // No viewBox: labels keep their real size on a phone.
    expect(svg).not.toContain("viewBox");
    expect(svg).toContain(">25 (25 %)<");
  });

  test("escapes bar labels", () => {
    const svg = barChart({ title: "t", bars: [{ label: "<img src=x onerror=alert(1)>", value: 1 }] });
    expect(svg).not.toContain("<img");
  });
});

describe("axis numbers", () => {
  test("niceScale picks round steps", () => {
    expect(niceScale(37)).toEqual({ max: 40, step: 10 });
    expect(niceScale(0)).toEqual({ max: 4, step: 1 });
    expect(niceScale(3)).toEqual({ max: 3, step: 1 });
    expect(niceScale(1234)).toEqual({ max: 1500, step: 500 });
  });

  test("formatCompact shortens large numbers", () => {
    expect(formatCompact(999)).toBe("999");
    expect(formatCompact(12_300)).toBe("12.3k");
    expect(formatCompact(2_500_000)).toBe("2.5M");
  });
});
