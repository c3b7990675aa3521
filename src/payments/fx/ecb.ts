// The ECB euro reference rates feed (eurofxref XML: daily, 90-day or full history), parsed into
// fixings. Read as XML attributes in either quote style; anything else in the document is ignored.
import { normalizeCurrency } from "../money.ts";
import { parseRate, type EcbFixing } from "./convert.ts";

export const ECB_90_DAY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml";

const TAG = /<Cube\b([^>]*?)\/?>/g;
const ATTRIBUTE = /([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function attributes(text: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of text.matchAll(ATTRIBUTE)) found[match[1]!] = match[2] ?? match[3] ?? "";
  return found;
}

/** Every `<Cube time=…>` block with its rates, oldest first. Throws when the document holds none. */
export function parseEcbXml(xml: string): EcbFixing[] {
  const fixings: { date: string; perEur: Record<string, string> }[] = [];
  let current: { date: string; perEur: Record<string, string> } | null = null;
  for (const match of xml.matchAll(TAG)) {
    const attrs = attributes(match[1] ?? "");
    if (attrs.time !== undefined) {
      current = /^\d{4}-\d{2}-\d{2}$/.test(attrs.time) ? { date: attrs.time, perEur: {} } : null;
      if (current) fixings.push(current);
    } else if (current && attrs.currency !== undefined && attrs.rate !== undefined) {
      const code = normalizeCurrency(attrs.currency);
      if (code && code !== "EUR" && parseRate(attrs.rate)) current.perEur[code] = attrs.rate.trim();
    }
  }
  const complete = fixings.filter((f) => Object.keys(f.perEur).length > 0);
  if (complete.length === 0) throw new Error("the document has no ECB reference rates (no <Cube time=…> with rates)");
  return complete.sort((a, b) => a.date.localeCompare(b.date));
}

/** The last TARGET working day whose rates should be out at `now` (published around 16:00 CET). */
export function lastPublishedWorkingDay(now: number): string {
  // CET is UTC+1 (+2 in summer); 15:00 UTC is after 16:00 CET all year round.
  let day = new Date(now - 15 * 3_600_000);
  for (;;) {
    const date = day.toISOString().slice(0, 10);
    if (!isTargetClosingDay(date)) return date;
    day = new Date(day.getTime() - 86_400_000);
  }
}

/** Saturdays, Sundays, 1 Jan, Good Friday, Easter Monday, 1 May, 25 and 26 Dec: no fixing. */
export function isTargetClosingDay(date: string): boolean {
  const d = new Date(`${date}T00:00:00Z`);
  const weekday = d.getUTCDay();
  if (weekday === 0 || weekday === 6) return true;
  const monthDay = date.slice(5);
  if (["01-01", "05-01", "12-25", "12-26"].includes(monthDay)) return true;
  const easter = easterSunday(d.getUTCFullYear());
  const offset = Math.round((d.getTime() - easter) / 86_400_000);
  return offset === -2 || offset === 1;
}

/** Western Easter Sunday (anonymous Gregorian algorithm), unix ms at UTC midnight. */
function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return Date.UTC(year, month - 1, day);
}
