// The one way capability code reaches its tables on either engine: SQLite (the embedded default) or
// PostgreSQL (several nodes, SPEC §11). SQL is written once with `?` placeholders, in the subset both
// engines read alike (ON CONFLICT upserts, RETURNING, CAST(... AS BIGINT) around sums); where they
// differ, `engine` picks the text. Every call is async, as PostgreSQL's are; writes that share a group
// commit are jobs (./jobs.ts).

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
  /**
   * PostgreSQL only, where several nodes share the database (SPEC §11); SQLite's file has one node. Tells
   * every node listening on `channel`, this one included; on a transaction's storage, once it commits.
   */
  notify?(channel: string, payload: string): Promise<void>;
  /**
   * PostgreSQL only, and not on a transaction's storage: `onNotice` gets each payload sent on `channel`.
   * `onListening` runs once listening and again after each reconnect: notices sent while the
   * connection was down are lost.
   */
  listen?(channel: string, onNotice: (payload: string) => void, onListening?: () => void): Promise<{ unlisten(): Promise<void> }>;
}

/** A UNIQUE constraint refused the row, as either engine reports it. */
export function isUniqueViolation(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  return code === "SQLITE_CONSTRAINT_UNIQUE" || errno === "23505";
}
