// The one way capability code reaches its tables on either engine: SQLite (the embedded default) or
// PostgreSQL (several nodes, SPEC §11). SQL is written once with `?` placeholders, in the subset both
// engines read alike (ON CONFLICT upserts, RETURNING, CAST(... AS BIGINT) around sums); where they
// differ, `engine` picks the text (see ./dialect.ts). Every call is async, as PostgreSQL's are.

export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

export type Engine = "sqlite" | "postgres";

export interface Storage {
  readonly engine: Engine;
  /** Every row. Integers come back as numbers on both engines (PostgreSQL sends BIGINT as text). */
  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** The first row, or null. */
  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | null>;
  /** A statement whose rows are not wanted: how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /**
   * `work` in one transaction, committed when it resolves and rolled back when it throws. `work` awaits
   * only calls on `tx`: on SQLite every other caller waits for the transaction to end.
   */
  transaction<T>(work: (tx: Storage) => Promise<T>): Promise<T>;
}
