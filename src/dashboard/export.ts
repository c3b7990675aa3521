// CSV export: RFC 4180 quoting, a guard against spreadsheet formula injection, rows streamed in pages.

export type CsvValue = string | number | boolean | null | undefined;

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: numbers as they are, text guarded against formulas and quoted when it needs to be. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}

/** A page of rows and the cursor of its last one. */
export interface CsvPage<Cursor> {
  rows: CsvValue[][];
  last: Cursor | null;
}

/**
 * Streams a CSV: the header, then pages of rows fetched one at a time so a large export never sits
 * in memory. `nextPage(after)` returns (or resolves to: a read through the storage) the rows after the cursor and the cursor of its last row.
 */
export function csvStream<Cursor>(
  header: readonly string[],
  nextPage: (after: Cursor | null) => CsvPage<Cursor> | Promise<CsvPage<Cursor>>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: Cursor | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        // A byte-order mark so spreadsheet apps read UTF-8 names correctly.
        controller.enqueue(encoder.encode(`\uFEFF${csvRow(header)}`));
        return;
      }
      const page = await nextPage(cursor);
      if (page.rows.length === 0 || page.last === null) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(page.rows.map(csvRow).join("")));
      cursor = page.last;
    },
  });
}

/** The HTTP answer for a CSV download named `filename`. */
export function csvResponse(filename: string, body: ReadableStream<Uint8Array>): Response {
  const safeName = filename.replace(/[^A-Za-z0-9._-]/g, "_");
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${safeName}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
