// What both sides of migrate-to agree on: the tables copied, their columns, and how a table is fingerprinted.

export class MigrateToError extends Error {}

/** How a column is added up to check the copy: integers exactly, floats within rounding, text and bytes by length. */
export type ColumnKind = "integer" | "float" | "text" | "bytes";

export interface CopiedColumn {
  name: string;
  kind: ColumnKind;
}

export interface CopiedTable {
  name: string;
  columns: CopiedColumn[];
}

/** Per column: how many values are not NULL, and their sum (integers, floats) or total length (text, bytes). */
export interface ColumnFingerprint {
  column: string;
  values: bigint;
  total: bigint | number;
}

/** The first difference between two fingerprints of one table, in words; null when they agree. */
export function fingerprintDifference(table: string, sqlite: ColumnFingerprint[], postgres: ColumnFingerprint[]): string | null {
  for (const expected of sqlite) {
    const found = postgres.find((f) => f.column === expected.column);
    if (!found) return `table ${table}: column ${expected.column} is missing in PostgreSQL`;
    if (found.values !== expected.values) {
      return `table ${table}: column ${expected.column} has ${expected.values} values in SQLite but ${found.values} in PostgreSQL`;
    }
    if (!totalsAgree(expected.total, found.total)) {
      return `table ${table}: column ${expected.column} adds up to ${expected.total} in SQLite but ${found.total} in PostgreSQL`;
    }
  }
  return null;
}

function totalsAgree(a: bigint | number, b: bigint | number): boolean {
  if (typeof a === "bigint" && typeof b === "bigint") return a === b;
  // Float sums differ in their last bits when the engines add in another order.
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
}
