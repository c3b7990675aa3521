// What PostgreSQL says differently from SQLite, for code that writes the same rows to either engine.
import type { Engine } from "../storage/storage.ts";

/** A table or column name as both engines read it. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Inserts many rows in one statement with one parameter: a JSON array of row objects, whose keys are
 * matched to the table's columns by name (unknown keys are ignored) and whose values go through each
 * column type's text input. One parameter avoids the 65,535-parameter limit of a wide multi-row VALUES.
 */
export function insertJsonRowsSql(table: string, columns: readonly string[]): string {
  const list = columns.map(quoteIdentifier).join(", ");
  return `INSERT INTO ${quoteIdentifier(table)} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${quoteIdentifier(table)}, $1::json)`;
}

/** After rows were inserted with explicit ids, the next generated id follows the largest one. */
export function moveIdentityPastSql(table: string, column: string): string {
  const quotedTable = quoteIdentifier(table);
  return `SELECT setval(pg_get_serial_sequence('${quotedTable.replaceAll("'", "''")}', '${column.replaceAll("'", "''")}'), COALESCE(max(${quoteIdentifier(column)}), 0) + 1, false) FROM ${quotedTable}`;
}

/** A statement's text for each engine, built once, where the two say something differently. */
export function perEngine(build: (engine: Engine) => string): Readonly<Record<Engine, string>> {
  return { sqlite: build("sqlite"), postgres: build("postgres") };
}

/** The larger of two values: SQLite's two-argument max(), PostgreSQL's GREATEST (its max() is only an aggregate). */
export function greatest(engine: Engine, a: string, b: string): string {
  return `${engine === "sqlite" ? "max" : "GREATEST"}(${a}, ${b})`;
}

/** `column IN` the strings of a JSON array passed as one parameter: SQLite's json_each, PostgreSQL's jsonb_array_elements_text. */
export function inJsonList(engine: Engine, column: string): string {
  return engine === "sqlite" ? `${column} IN (SELECT value FROM json_each(?))` : `${column} IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)))`;
}

/**
 * A read's SQLite text as PostgreSQL reads it alike: camelCase names quoted (PostgreSQL folds unquoted
 * names to lower case, so `AS pricingViews` would come back as `pricingviews`), and each `sum(column)`
 * cast back to BIGINT (PostgreSQL's sum of a BIGINT is a NUMERIC, which arrives as text). Quoted text
 * is left alone; a sum over an expression with parentheses is not rewritten and must be written
 * per engine.
 */
export function postgresText(sqlite: string): string {
  return sqlite
    .split(/('(?:[^']|'')*')/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(/\b([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)\b/g, '"$1"').replace(/\b(sum)\(([^()]*)\)/gi, "CAST($1($2) AS BIGINT)"),
    )
    .join("");
}

/** A read's text for each engine: built once per engine, PostgreSQL's through `postgresText`. */
export function readText(build: (engine: Engine) => string): Readonly<Record<Engine, string>> {
  return { sqlite: build("sqlite"), postgres: postgresText(build("postgres")) };
}
