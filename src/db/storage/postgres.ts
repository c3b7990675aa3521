// Storage over PostgreSQL through Bun.SQL: the same SQL text, with `?` numbered as PostgreSQL wants.
import type { SQL, TransactionSQL } from "bun";
import type { SqlValue, Storage } from "./storage.ts";
import { badRequest } from "../../http/errors.ts";

/** `sql` must be opened with `bigint: true` (connectPostgres's `integers` option), so BIGINT values are told apart from text. */
export function postgresStorage(sql: SQL, inTransaction = false): Storage {
  return {
    engine: "postgres",
    notify: (channel, payload) => sql.notify(channel, payload),
    // LISTEN holds a connection of its own, opened by the pool, not the transaction's.
    listen: inTransaction ? undefined : (channel, onNotice, onListening) => sql.listen(channel, onNotice, onListening),
    async all<Row>(text: string, params: readonly SqlValue[] = []) {
      return rowsOf<Row>(await sql.unsafe(numberedPlaceholders(text), storable(params)));
    },
    async get<Row>(text: string, params: readonly SqlValue[] = []) {
      return rowsOf<Row>(await sql.unsafe(numberedPlaceholders(text), storable(params)))[0] ?? null;
    },
    async run(text, params = []) {
      const result = await sql.unsafe(numberedPlaceholders(text), storable(params));
      return { changes: (result as unknown as { count: number }).count ?? 0 };
    },
    async transaction(work) {
      // Nested, a savepoint on the transaction's own connection.
      const inside = (tx: TransactionSQL) => work(postgresStorage(tx, true));
      if (inTransaction) return (sql as TransactionSQL).savepoint(inside) as Promise<never>;
      return sql.begin(inside) as Promise<never>;
    },
  };
}

/**
 * PostgreSQL's text cannot hold NUL (SQLite's can): refused as bad input (400), not left to become the
 * server error PostgreSQL's own refusal would be.
 */
function storable(params: readonly SqlValue[]): SqlValue[] {
  for (const value of params) if (typeof value === "string" && value.includes("\0")) throw badRequest("text may not contain the NUL character", "invalid_text");
  return params as SqlValue[];
}

/** BIGINT (counts, timestamps, money in minor units) as a number, as bun:sqlite gives it. */
function rowsOf<Row>(rows: Record<string, unknown>[]): Row[] {
  const out = new Array<Row>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (const key in row) if (typeof row[key] === "bigint") row[key] = Number(row[key]);
    out[i] = row as Row;
  }
  return out;
}

const numbered = new Map<string, string>();

/** `?` outside quotes and comments becomes `$1`, `$2`, …; the result is kept per text. */
export function numberedPlaceholders(text: string): string {
  let out = numbered.get(text);
  if (out !== undefined) return out;
  out = "";
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = closingQuote(text, i, c);
      out += text.slice(i, end + 1);
      i = end;
    } else if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop - 1;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop);
      i = stop - 1;
    } else if (c === "$" && text[i + 1] === "$") {
      throw new Error("dollar-quoted text in storage SQL: its quotes are not followed; write a '…' literal");
    } else if (c === "?") out += `$${++n}`;
    else out += c;
  }
  if (numbered.size < 10_000) numbered.set(text, out);
  return out;
}

/** The index of the quote closing the one at `start` (a doubled quote stays inside). */
function closingQuote(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i;
    } else i++;
  }
  return text.length - 1;
}
