// The SQLite side of migrate-to: the data dir's database, opened read-only and read in one snapshot, so a
// server on the same file keeps writing (WAL readers never block the writer) and the copy stays consistent.
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { quoteIdentifier as q } from "../postgres/dialect.ts";
import { MigrateToError, type ColumnFingerprint, type CopiedColumn, type CopiedTable } from "./model.ts";

/** Tables SQLite keeps for itself or that each engine fills on its own. */
const NOT_COPIED = new Set(["sqlite_sequence", "schema_migrations"]);

/** A batch stops growing past this much JSON text (16M characters), however few rows it holds. */
const BATCH_JSON_CHARACTERS = 16 * 1024 * 1024;

/** The key of a rowid table, and a real column of payments on PostgreSQL. */
const ROWID = "rowid";

interface KeyColumn {
  /** As selected and as named in each row read. */
  name: string;
  integer: boolean;
}

export interface SourceBatch {
  /** The rows as the JSON array text PostgreSQL's json_populate_recordset reads (see insertJsonRowsSql). */
  json: string;
  count: number;
  /** The last row's key, to continue after (JSON); null when the batch is empty. */
  lastKey: string | null;
}

export class SqliteSource {
  private readonly db: Database;

  constructor(readonly path: string) {
    if (!existsSync(path)) throw new MigrateToError(`there is no Bantico database at ${path}: --data must name the data directory of the instance to copy`);
    try {
      this.db = new Database(path, { readonly: true, safeIntegers: true });
      // Every read of this run sees the database as it was now.
      this.db.exec("BEGIN");
      this.db.query("SELECT count(*) FROM sqlite_master").get();
    } catch (error) {
      throw new MigrateToError(`cannot read the SQLite database ${path}: ${(error as Error).message}`);
    }
  }

  appliedVersions(): number[] {
    const ledger = this.db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!ledger) return [];
    return this.db.query<{ version: bigint }, []>("SELECT version FROM schema_migrations ORDER BY version").all().map((row) => Number(row.version));
  }

  tableNames(): string[] {
    return this.db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((row) => row.name)
      .filter((name) => !NOT_COPIED.has(name));
  }

  columnNames(table: string): string[] {
    return this.db.query<{ name: string }, [string]>("SELECT name FROM pragma_table_info(?) ORDER BY cid").all(table).map((row) => row.name);
  }

  countRows(table: string): number {
    return Number(this.db.query<{ rows: bigint }, []>(`SELECT count(*) AS rows FROM ${q(table)}`).get()!.rows);
  }

  /**
   * Rows after `afterKey` in key order (the rowid, or the primary key of a WITHOUT ROWID table): up to
   * `limit` of them, fewer once their JSON passes `maxCharacters` (raw provider payloads can be large).
   * SQLite writes each row's JSON itself, which is several times faster than serializing in JavaScript.
   */
  readBatch(table: CopiedTable, afterKey: string | null, limit: number, maxCharacters = BATCH_JSON_CHARACTERS): SourceBatch {
    const key = this.keyColumns(table.name);
    const keyList = key.map((k) => q(k.name)).join(", ");
    const fields = table.columns.map((c) => `'${c.name}', ${jsonValue(c)}`).join(", ");
    const after = afterKey === null ? null : (JSON.parse(afterKey) as string[]).map((value, i) => (key[i]!.integer ? BigInt(value) : value));
    const where = after === null ? "" : `WHERE (${keyList}) > (${key.map(() => "?").join(", ")})`;
    const rows = this.db.query<Record<string, unknown> & { row_json: string }, (string | bigint)[]>(
      `SELECT ${key.map((k, i) => `${q(k.name)} AS key_${i}`).join(", ")}, json_object(${fields}) AS row_json
       FROM ${q(table.name)} ${where} ORDER BY ${keyList} LIMIT ?`,
    );
    const json: string[] = [];
    let characters = 0;
    let last: Record<string, unknown> | null = null;
    for (const row of rows.iterate(...(after ?? []), BigInt(limit))) {
      json.push(row.row_json);
      characters += row.row_json.length;
      last = row;
      if (characters >= maxCharacters) break;
    }
    return {
      json: `[${json.join(",")}]`,
      count: json.length,
      lastKey: last ? JSON.stringify(key.map((_, i) => String(last[`key_${i}`]))) : null,
    };
  }

  fingerprint(table: CopiedTable): ColumnFingerprint[] {
    // SUM() of 64-bit integers may overflow in SQLite: add the high and low 32 bits apart, each sum fits.
    const parts = table.columns.map((c, i) => {
      const col = q(c.name);
      const total =
        c.kind === "integer" ? `sum(${col} >> 32) AS h${i}, sum(${col} & 4294967295) AS l${i}` : c.kind === "float" ? `total(${col}) AS t${i}` : `sum(length(${col})) AS t${i}`;
      return `count(${col}) AS n${i}, ${total}`;
    });
    const row = this.db.query<Record<string, bigint | number | null>, []>(`SELECT ${parts.join(", ")} FROM ${q(table.name)}`).get()!;
    return table.columns.map((c, i) => ({
      column: c.name,
      values: BigInt(row[`n${i}`] ?? 0),
      total: c.kind === "integer" ? (BigInt(row[`h${i}`] ?? 0) << 32n) + BigInt(row[`l${i}`] ?? 0) : c.kind === "float" ? Number(row[`t${i}`]) : BigInt(row[`t${i}`] ?? 0),
    }));
  }

  close(): void {
    this.db.exec("COMMIT");
    this.db.close();
  }

  private keyColumns(table: string): KeyColumn[] {
    const withoutRowid = this.db.query<{ wr: bigint }, [string]>("SELECT wr FROM pragma_table_list WHERE name = ? AND schema = 'main'").get(table)!.wr === 1n;
    if (!withoutRowid) return [{ name: ROWID, integer: true }];
    return this.db
      .query<{ name: string; type: string }, [string]>("SELECT name, type FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")
      .all(table)
      .map((c) => ({ name: c.name, integer: c.type.toUpperCase().includes("INT") }));
  }
}

/**
 * A column's value as json_object takes it, for PostgreSQL to read back exactly: 64-bit integers and text
 * go as they are, floats with 17 significant digits (SQLite's JSON keeps only 15), blobs in bytea's hex form.
 */
function jsonValue(column: CopiedColumn): string {
  const col = q(column.name);
  if (column.kind === "float") return `CASE WHEN ${col} IS NULL THEN NULL ELSE printf('%!.17g', ${col}) END`;
  if (column.kind === "bytes") return `CASE WHEN ${col} IS NULL THEN NULL ELSE '\\x' || hex(${col}) END`;
  return col;
}
