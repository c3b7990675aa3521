// The PostgreSQL side of migrate-to: the database it fills, and the ledger there that lets a re-run resume.
import type { SQL } from "bun";
import { insertJsonRowsSql, moveIdentityPastSql, quoteIdentifier as q } from "../postgres/dialect.ts";
import { MigrateToError, type ColumnFingerprint, type ColumnKind, type CopiedTable } from "./model.ts";

/** The ledger's own tables: which SQLite file is copied here, and how far each table has come. */
const LEDGER = ["migrate_to_source", "migrate_to_progress"];

const KINDS: Record<string, ColumnKind> = {
  bigint: "integer",
  integer: "integer",
  smallint: "integer",
  "double precision": "float",
  text: "text",
  bytea: "bytes",
};

export interface TargetTable extends CopiedTable {
  identityColumns: string[];
  /** Tables its foreign keys point to: they are copied first. */
  references: string[];
  hasTriggers: boolean;
}

export interface TableProgress {
  lastKey: string | null;
  copiedRows: number;
  done: boolean;
}

/** Any fixed number: held by the copying session, so a second migrate-to into the same database stops at once. */
const COPY_LOCK = 2_024_011;

export class PostgresTarget {
  /** `sql` must hold one connection: the copy lock belongs to it. */
  constructor(private readonly sql: SQL) {}

  /** Takes the copy lock for this session; false when another migrate-to holds it. */
  async claim(): Promise<boolean> {
    const [row] = await this.sql.unsafe<{ claimed: boolean }[]>(`SELECT pg_try_advisory_lock(${COPY_LOCK}) AS claimed`);
    return row!.claimed;
  }

  /** The SQLite file a run recorded here, or null when no run of migrate-to started on this database. */
  async recordedSource(): Promise<string | null> {
    const [ledger] = await this.sql.unsafe<{ exists: boolean }[]>("SELECT to_regclass('migrate_to_source') IS NOT NULL AS exists");
    if (!ledger!.exists) return null;
    const [row] = await this.sql.unsafe<{ source: string }[]>("SELECT source FROM migrate_to_source");
    return row?.source ?? null;
  }

  /** Why this database cannot be filled (a table that is not Bantico's, or rows already there), or null when it is empty. */
  async reasonNotEmpty(banticoTables: readonly string[]): Promise<string | null> {
    const tables = await this.sql.unsafe<{ name: string }[]>("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename");
    for (const { name } of tables) {
      if (name !== "schema_migrations" && !banticoTables.includes(name)) return `it has a table ${name} that is not Bantico's`;
      const [row] = await this.sql.unsafe<{ filled: boolean }[]>(`SELECT EXISTS (SELECT 1 FROM ${q(name)}) AS filled`);
      if (row!.filled && name !== "schema_migrations") return `its table ${name} already has rows`;
    }
    return null;
  }

  /** Records that migrate-to fills this database from `source`, with a progress row per table. */
  async start(source: string, tables: readonly string[], now: number): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx.unsafe(`CREATE TABLE migrate_to_source (
        source     TEXT NOT NULL,
        started_at BIGINT NOT NULL
      )`);
      await tx.unsafe(`CREATE TABLE migrate_to_progress (
        table_name  TEXT PRIMARY KEY,
        last_key    TEXT,                      -- JSON array: the SQLite key of the last row copied
        copied_rows BIGINT NOT NULL DEFAULT 0,
        done        BOOLEAN NOT NULL DEFAULT false,
        -- JSON array of the CREATE INDEX statements of the indexes dropped while the table is copied
        deferred_indexes TEXT
      )`);
      await tx.unsafe("INSERT INTO migrate_to_source (source, started_at) VALUES ($1, $2)", [source, now]);
      await tx.unsafe("INSERT INTO migrate_to_progress (table_name) SELECT unnest($1::text[])", [`{${tables.join(",")}}`]);
    });
  }

  /** Bantico's tables in an order that copies every table after the tables its foreign keys point to. */
  async tablesInCopyOrder(): Promise<TargetTable[]> {
    const columns = await this.sql.unsafe<{ table_name: string; column_name: string; data_type: string; is_identity: string }[]>(
      `SELECT table_name, column_name, data_type, is_identity FROM information_schema.columns
       WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
    );
    const references = await this.sql.unsafe<{ child: string; parent: string }[]>(
      `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
       WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace AND k.conrelid <> k.confrelid`,
    );
    const triggered = await this.sql.unsafe<{ name: string }[]>(
      `SELECT DISTINCT c.relname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace`,
    );
    const tables = new Map<string, TargetTable>();
    for (const c of columns) {
      if (c.table_name === "schema_migrations" || LEDGER.includes(c.table_name)) continue;
      const table = tables.get(c.table_name) ?? { name: c.table_name, columns: [], identityColumns: [], references: [], hasTriggers: false };
      const kind = KINDS[c.data_type];
      if (!kind) throw new MigrateToError(`table ${c.table_name}: column ${c.column_name} has the type ${c.data_type}, which migrate-to does not copy`);
      table.columns.push({ name: c.column_name, kind });
      if (c.is_identity === "YES") table.identityColumns.push(c.column_name);
      tables.set(c.table_name, table);
    }
    for (const r of references) tables.get(r.child)?.references.push(r.parent);
    for (const t of triggered) tables.get(t.name)!.hasTriggers = true;
    return dependencyOrder([...tables.values()]);
  }

  async progress(table: string): Promise<TableProgress> {
    const [row] = await this.sql.unsafe<{ last_key: string | null; copied_rows: string; done: boolean }[]>(
      "SELECT last_key, copied_rows, done FROM migrate_to_progress WHERE table_name = $1",
      [table],
    );
    if (!row) throw new MigrateToError(`table ${table} is not in this database's migrate-to ledger: copy into an empty database instead`);
    return { lastKey: row.last_key, copiedRows: Number(row.copied_rows), done: row.done };
  }

  /**
   * Drops the table's non-unique indexes until it is copied (finishTable builds them again): building an
   * index once over all rows took about 30 % less time than keeping it up to date row by row.
   * Idempotent: what an earlier run dropped stays recorded.
   */
  async deferIndexes(table: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      const [progress] = await tx.unsafe<{ deferred_indexes: string | null }[]>(
        "SELECT deferred_indexes FROM migrate_to_progress WHERE table_name = $1 FOR UPDATE",
        [table],
      );
      if (progress!.deferred_indexes !== null) return;
      const indexes = await tx.unsafe<{ name: string; definition: string }[]>(
        `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = $1::regclass AND NOT i.indisunique ORDER BY c.relname`,
        [q(table)],
      );
      for (const index of indexes) await tx.unsafe(`DROP INDEX ${q(index.name)}`);
      await tx.unsafe("UPDATE migrate_to_progress SET deferred_indexes = $1 WHERE table_name = $2", [JSON.stringify(indexes.map((i) => i.definition)), table]);
    });
  }

  /** Inserts one batch (a JSON array of rows) and moves the table's progress past it in one transaction: a re-run never copies a row twice. */
  async copyBatch(table: TargetTable, rowsJson: string, rowCount: number, lastKey: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      // Safe without waiting for the WAL flush: a crash loses the batch and its progress together, and a re-run copies it again.
      await tx.unsafe("SET LOCAL synchronous_commit = off");
      // The rows already hold what triggers would derive (payment_stats_periods is copied too).
      if (table.hasTriggers) await tx.unsafe(`ALTER TABLE ${q(table.name)} DISABLE TRIGGER USER`);
      await tx.unsafe(
        insertJsonRowsSql(
          table.name,
          table.columns.map((c) => c.name),
        ),
        [rowsJson],
      );
      if (table.hasTriggers) await tx.unsafe(`ALTER TABLE ${q(table.name)} ENABLE TRIGGER USER`);
      await tx.unsafe("UPDATE migrate_to_progress SET last_key = $1, copied_rows = copied_rows + $2 WHERE table_name = $3", [lastKey, rowCount, table.name]);
    });
  }

  async finishTable(table: TargetTable): Promise<void> {
    await this.sql.begin(async (tx) => {
      for (const column of table.identityColumns) await tx.unsafe(moveIdentityPastSql(table.name, column));
      const [progress] = await tx.unsafe<{ deferred_indexes: string | null }[]>("SELECT deferred_indexes FROM migrate_to_progress WHERE table_name = $1", [table.name]);
      for (const definition of JSON.parse(progress!.deferred_indexes ?? "[]") as string[]) await tx.unsafe(definition);
      await tx.unsafe("UPDATE migrate_to_progress SET done = true, deferred_indexes = NULL WHERE table_name = $1", [table.name]);
    });
  }

  async countRows(table: string): Promise<number> {
    const [row] = await this.sql.unsafe<{ rows: string }[]>(`SELECT count(*) AS rows FROM ${q(table)}`);
    return Number(row!.rows);
  }

  async fingerprint(table: CopiedTable): Promise<ColumnFingerprint[]> {
    const parts = table.columns.map((c, i) => {
      const col = q(c.name);
      const total = c.kind === "integer" || c.kind === "float" ? `sum(${col})` : `sum(length(${col}))`;
      return `count(${col})::text AS n${i}, ${total}::text AS t${i}`;
    });
    const [row] = await this.sql.unsafe<Record<string, string | null>[]>(`SELECT ${parts.join(", ")} FROM ${q(table.name)}`);
    return table.columns.map((c, i) => ({
      column: c.name,
      values: BigInt(row![`n${i}`]!),
      total: c.kind === "float" ? Number(row![`t${i}`] ?? 0) : BigInt(row![`t${i}`] ?? 0),
    }));
  }
}

function dependencyOrder(tables: TargetTable[]): TargetTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: TargetTable[] = [];
  const placed = new Set<string>();
  const place = (table: TargetTable) => {
    if (placed.has(table.name)) return;
    placed.add(table.name);
    for (const parent of table.references) place(byName.get(parent)!);
    ordered.push(table);
  };
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) place(table);
  return ordered;
}
