import { afterEach, describe, expect, test } from "bun:test";
import type { SQL } from "bun";
import { MigrationError } from "../migrate.ts";
import { migrations as sqliteMigrations } from "../migrations.ts";
import { openDatabase } from "../database.ts";
import { migrate } from "../migrate.ts";
import { connectPostgres } from "./connection.ts";
import { migratePostgres } from "./migrate.ts";
import { postgresMigrations } from "./migrations.ts";
import { freshPostgresDatabase } from "../../testing/postgres.ts";

const open: SQL[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((sql) => sql.close()));
});

async function freshDatabase(): Promise<SQL> {
  const sql = connectPostgres(await freshPostgresDatabase());
  open.push(sql);
  return sql;
}

const columnsOf = (db: ReturnType<typeof openDatabase>, table: string) =>
  db.query<{ name: string }, [string]>("SELECT name FROM pragma_table_info(?) ORDER BY name").all(table).map((c) => c.name);

describe("PostgreSQL migrations", () => {
  test("a fresh database gets every migration, recorded once, and a second run applies nothing", async () => {
    const sql = await freshDatabase();
    expect(await migratePostgres(sql, postgresMigrations)).toEqual(postgresMigrations.map((m) => m.name));
    const recorded = await sql.unsafe<{ version: number; name: string }[]>("SELECT version, name FROM schema_migrations ORDER BY version");
    expect(recorded.map((r) => ({ version: r.version, name: r.name }))).toEqual(postgresMigrations.map((m) => ({ version: m.version, name: m.name })));
    expect(await migratePostgres(sql, postgresMigrations)).toEqual([]);
  });

  test("a database at 026, the schema before login limits and job leases, migrates forward and keeps its rows", async () => {
    const sql = await freshDatabase();
    await migratePostgres(sql, postgresMigrations.filter((m) => m.version <= 26));
    await sql.unsafe("INSERT INTO users (id, email, password_hash, role, created_at) VALUES ('usr_old', 'owner@example.com', 'x', 'owner', 1)");
    expect(await migratePostgres(sql, postgresMigrations)).toEqual(["027_login_failures.sql", "028_job_leases.sql"]);
    expect(await sql.unsafe("SELECT email, role FROM users")).toEqual([{ email: "owner@example.com", role: "owner" }] as never);
    await sql.unsafe("INSERT INTO login_failures (key, at, expires_at) VALUES ('k', 1, 2)");
    await sql.unsafe("INSERT INTO job_leases (name, holder, expires_at) VALUES ('fx-fetch', 'node-a', 2)");
    expect(await sql.unsafe("SELECT holder FROM job_leases")).toEqual([{ holder: "node-a" }] as never);
  });

  test("the PostgreSQL schema is at the SQLite schema's version, with the same tables and columns", async () => {
    const latest = (list: readonly { version: number }[]) => Math.max(...list.map((m) => m.version));
    expect(latest(postgresMigrations)).toBe(latest(sqliteMigrations));
    const sqlite = openDatabase(":memory:");
    migrate(sqlite, sqliteMigrations);
    const sqliteTables = sqlite
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((t) => t.name);
    const sql = await freshDatabase();
    await migratePostgres(sql, postgresMigrations);
    const pgColumns = await sql.unsafe<{ table_name: string; column_name: string }[]>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, column_name",
    );
    const pgTables = [...new Set(pgColumns.map((c) => c.table_name))];
    expect(pgTables).toEqual(sqliteTables);
    for (const table of sqliteTables) {
      // payments' rowid is a real column on PostgreSQL (see the migration's header).
      const pg = pgColumns.filter((c) => c.table_name === table && !(table === "payments" && c.column_name === "rowid")).map((c) => c.column_name);
      expect({ table, columns: pg }).toEqual({ table, columns: columnsOf(sqlite, table) });
    }
    sqlite.close();
  });

  test("the payment-periods trigger keeps day and month rows as SQLite's does", async () => {
    const sql = await freshDatabase();
    await migratePostgres(sql, postgresMigrations);
    const hour = Date.UTC(2026, 1, 14, 15); // 2026-02-14 15:00 UTC
    const insert = (revenue: number, at: number) =>
      sql.unsafe("INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue) VALUES ('p', $1, 'last', 'EUR', 1, $2)", [at, revenue]);
    await insert(1000, hour);
    await insert(500, hour + 3_600_000);
    await sql.unsafe("UPDATE payment_stats_hourly SET revenue = revenue + 250 WHERE hour = $1", [hour]);
    const periods = await sql.unsafe<{ grain: string; period: string; payments: string; revenue: string }[]>(
      "SELECT grain, period, payments, revenue FROM payment_stats_periods ORDER BY grain",
    );
    expect(periods.map((p) => ({ ...p }))).toEqual([
      { grain: "day", period: String(Date.UTC(2026, 1, 14)), payments: "2", revenue: "1750" },
      { grain: "month", period: String(Date.UTC(2026, 1, 1)), payments: "2", revenue: "1750" },
    ]);
  });

  test("a database with a migration this version does not know is refused, and nothing is applied", async () => {
    const sql = await freshDatabase();
    await migratePostgres(sql, postgresMigrations);
    await sql.unsafe("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_future.sql', 0)");
    const extra = { version: 1000, name: "1000_next.sql", sql: "CREATE TABLE next_thing (id INTEGER)" };
    const attempt = migratePostgres(sql, [...postgresMigrations, extra]);
    await expect(attempt).rejects.toThrow(MigrationError);
    await expect(attempt).rejects.toThrow("the database has migration 999 that this version of Bantico does not know: upgrade Bantico, or restore a backup");
    expect(await sql.unsafe("SELECT to_regclass('next_thing') AS t")).toEqual([{ t: null }] as never);
  });

  test("a failing migration names its file and leaves nothing behind", async () => {
    const sql = await freshDatabase();
    const broken = { version: 1, name: "001_broken.sql", sql: "CREATE TABLE half_done (id INTEGER); SELECT * FROM no_such_table" };
    await expect(migratePostgres(sql, [broken])).rejects.toThrow('migration postgres/001_broken.sql failed: relation "no_such_table" does not exist');
    expect(await sql.unsafe("SELECT to_regclass('half_done') AS t, to_regclass('schema_migrations') AS m")).toEqual([{ t: null, m: null }] as never);
  });
});
