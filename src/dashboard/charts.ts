// SVG charts drawn on the server: values over time and horizontal bars, themed by currentColor and CSS classes.
//
// Every text in the markup is escaped here; the result is trusted SVG a page embeds as is.
// Colours come from `currentColor` (the text colour, so light and dark mode both read) and from
// classes `chart-series-N` that the stylesheet may tint; nothing relies on inline styles (CSP).

export interface TimePoint {
  /** Start of the bucket, unix ms. */
  t: number;
  value: number;
}

export interface TimeSeries {
  label: string;
  points: TimePoint[];
}

export interface TimeChartOptions {
  /** Accessible name of the chart, read by screen readers and shown as a tooltip. */
  title: string;
  series: TimeSeries[];
  /** Bucket width in ms: 3_600_000 (hour) or 86_400_000 (day); decides the x-axis labels. */
  bucketMs: number;
  /** IANA time zone for the x-axis labels. */
  timeZone?: string;
  formatValue?: (value: number) => string;
  /** Fill the area under the first series. */
  area?: boolean;
  width?: number;
  height?: number;
}

export interface Bar {
  label: string;
  value: number;
  /** Shown instead of the formatted value, e.g. "45.2 %". */
  note?: string;
}

export interface BarChartOptions {
  title: string;
  bars: Bar[];
  formatValue?: (value: number) => string;
}

const escape = (value: string) => Bun.escapeHTML(value);
const defaultFormat = (value: number) => formatCompact(value);

/** 1234 → "1.2k", 2_500_000 → "2.5M"; small numbers as they are. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trimZero(value / 1e9)}B`;
  if (abs >= 1e6) return `${trimZero(value / 1e6)}M`;
  if (abs >= 1e4) return `${trimZero(value / 1e3)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function trimZero(value: number): string {
  return value.toFixed(1).replace(/\.0$/, "");
}

/** A "nice" upper bound and tick step so axis labels read as round numbers. */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: ticks, step: 1 };
  const rough = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  const nice = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10;
  const step = Math.max(nice * magnitude, Number.isInteger(max) ? 1 : 0);
  return { max: Math.ceil(max / step) * step, step };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl formatters are costly to build (~0.2 ms); a chart labels hundreds of points. */
function dateFormatter(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify(options);
  let formatter = formatters.get(key);
  if (!formatter) formatters.set(key, (formatter = new Intl.DateTimeFormat("en", options)));
  return formatter;
}

function bucketLabel(t: number, bucketMs: number, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions =
    bucketMs < 86_400_000 ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone } : { month: "short", day: "numeric", timeZone };
  return dateFormatter(options).format(t);
}

function fullLabel(t: number, bucketMs: number, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions =
    bucketMs < 86_400_000
      ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone }
      : { weekday: "short", month: "short", day: "numeric", year: "numeric", timeZone };
  return dateFormatter(options).format(t);
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Lines (optionally an area) over time with a y-axis of round numbers and dated x labels. Drawn twice,
 * at about the width each is shown (a half-width card, a phone), so 13-unit text reads as ~13 px on
 * both; the stylesheet shows the one that fits.
 */
export function timeSeriesChart(options: TimeChartOptions): string {
  if (options.width) return drawTimeChart(options, options.width, options.height ?? 220, 6, "");
  return drawTimeChart(options, 520, options.height ?? 220, 6, "chart-wide") + drawTimeChart(options, 340, options.height ?? 200, 4, "chart-narrow");
}

function drawTimeChart(options: TimeChartOptions, width: number, height: number, xLabels: number, variant: string): string {
  const format = options.formatValue ?? defaultFormat;
  const timeZone = options.timeZone ?? "UTC";
  const margin = { top: 12, right: 14, bottom: 28, left: width < 400 ? 48 : 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const first = options.series[0]?.points ?? [];
  const count = first.length;
  const maxValue = Math.max(0, ...options.series.flatMap((s) => s.points.map((p) => p.value)));
  const scale = niceScale(maxValue);
  const x = (i: number) => margin.left + (count <= 1 ? plotW / 2 : (i * plotW) / (count - 1));
  const y = (v: number) => margin.top + plotH - (v / scale.max) * plotH;

  const parts: string[] = [];
  for (let tick = 0; tick <= scale.max + scale.step / 2; tick += scale.step) {
    const ty = round(y(tick));
    parts.push(
      `<line class="chart-grid" x1="${margin.left}" x2="${width - margin.right}" y1="${ty}" y2="${ty}" stroke="currentColor" stroke-opacity="0.12"/>`,
      `<text class="chart-axis" x="${margin.left - 6}" y="${ty + 4}" text-anchor="end" font-size="13" fill="currentColor" fill-opacity="0.75">${escape(format(tick))}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(count / xLabels));
  first.forEach((point, i) => {
    if (i % labelEvery !== 0) return;
    parts.push(
      `<text class="chart-axis" x="${round(x(i))}" y="${height - 8}" text-anchor="middle" font-size="13" fill="currentColor" fill-opacity="0.75">${escape(bucketLabel(point.t, options.bucketMs, timeZone))}</text>`,
    );
  });

  options.series.forEach((series, index) => {
    const coords = series.points.map((p, i) => `${round(x(i))},${round(y(p.value))}`);
    if (coords.length === 0) return;
    const cls = `chart-series chart-series-${index + 1}`;
    parts.push(`<g class="${cls}">`);
    if (options.area && index === 0 && coords.length > 1) {
      const base = round(y(0));
      parts.push(`<path class="chart-area" d="M${round(x(0))},${base} L${coords.join(" L")} L${round(x(coords.length - 1))},${base} Z" fill="currentColor" fill-opacity="0.12" stroke="none"/>`);
    }
    if (coords.length > 1) {
      parts.push(
        `<polyline class="chart-line" points="${coords.join(" ")}" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"${index > 0 ? ' stroke-dasharray="5 4"' : ""}/>`,
      );
    }
    series.points.forEach((point, i) => {
      const tip = `${fullLabel(point.t, options.bucketMs, timeZone)} · ${series.label}: ${format(point.value)}`;
      parts.push(`<circle cx="${round(x(i))}" cy="${round(y(point.value))}" r="${count > 60 ? 1.5 : 3}" fill="currentColor"><title>${escape(tip)}</title></circle>`);
    });
    parts.push("</g>");
  });

  const total = options.series.map((s) => `${s.label}: ${format(s.points.reduce((sum, p) => sum + p.value, 0))}`).join(", ");
  const titleId = `chart-${hashId(options.title)}${variant ? `-${variant}` : ""}`;
  return (
    `<svg class="chart chart-time${variant ? ` ${variant}` : ""}" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="${titleId}" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${titleId}">${escape(`${options.title} (${total})`)}</title>` +
    parts.join("") +
    `</svg>`
  );
}

/**
 * Horizontal bars, each under its label and value. Drawn without a viewBox: positions are percentages
 * and text keeps its real size, so a phone shows the same 13 px labels as a desktop.
 */
export function barChart(options: BarChartOptions): string {
  const rowH = 42;
  const height = Math.max(rowH, options.bars.length * rowH);
  const format = options.formatValue ?? defaultFormat;
  const max = Math.max(0, ...options.bars.map((b) => b.value));
  const parts = options.bars.map((bar, i) => {
    const top = i * rowH;
    const pct = max > 0 ? Math.max(bar.value > 0 ? 0.5 : 0, round((bar.value / max) * 100)) : 0;
    const shown = bar.note ?? format(bar.value);
    return (
      `<g class="chart-bar">` +
      `<text x="0" y="${top + 15}" font-size="13" fill="currentColor">${escape(truncate(bar.label, 40))}</text>` +
      `<text x="100%" y="${top + 15}" text-anchor="end" font-size="13" fill="currentColor">${escape(shown)}</text>` +
      `<rect x="0" y="${top + 22}" width="100%" height="12" rx="3" fill="currentColor" fill-opacity="0.08"/>` +
      `<rect class="chart-series-1" x="0" y="${top + 22}" width="${pct}%" height="12" rx="3" fill="currentColor" fill-opacity="0.8"><title>${escape(`${bar.label}: ${shown}`)}</title></rect>` +
      `</g>`
    );
  });
  const titleId = `chart-${hashId(options.title)}`;
  return (
    `<svg class="chart chart-bars" width="100%" height="${height}" role="img" aria-labelledby="${titleId}" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${titleId}">${escape(options.title)}</title>` +
    parts.join("") +
    `</svg>`
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function hashId(text: string): string {
  return Bun.hash(text).toString(36);
}
