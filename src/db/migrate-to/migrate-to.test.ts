// migrate-to against a real PostgreSQL: a realistic database copied whole and verified, an interrupted copy
// resumed, and the databases it must refuse.
import { afterAll, describe, expect, test } from "bun:test";
import type { SQL } from "bun";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { seedJourneys, seedPayments } from "../../../bench/seed-dashboard.ts";
import { loadConfig } from "../../config.ts";
import { openInstance } from "../../instance.ts";
import { createProject } from "../../projects/service.ts";
import { databasePath } from "../database.ts";
import { connectPostgres } from "../postgres/connection.ts";
import { migratePostgres } from "../postgres/migrate.ts";
import { postgresMigrations } from "../postgres/migrations.ts";
import { freshPostgresDatabase } from "../../testing/postgres.ts";
import { tempDataDir } from "../../testing/harness.ts";
import { migrateTo, type CopyProgress } from "./index.ts";
import { SqliteSource } from "./source.ts";
import { sqliteStorage } from "../storage/sqlite.ts";

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function postgres(): Promise<{ url: string; sql: SQL }> {
  const url = await freshPostgresDatabase();
  const sql = connectPostgres(url);
  cleanups.push(() => sql.close());
  return { url, sql };
}

const BIG_AMOUNT = 6_000_000_000_000_000_000n; // two of them pass 2^63
const DAY = 86_400_000;
const AWKWARD_NAME = "Åsa\tØberg\n\\N \\x00 \r\"quoted\" 🧪";
const END = Date.UTC(2026, 10, 1);

/** A data dir whose SQLite database holds a bit of everything: seeded journeys and payments, and the awkward values. */
async function realisticDataDir(): Promise<string> {
  const data = tempDataDir("migrate-to");
  cleanups.push(() => data.remove());
  const instance = openInstance(loadConfig({ BANTICO_DATA_DIR: data.dir, BANTICO_FX_URL: "off" }));
  const db = instance.ctx.db;
  const project = await createProject(sqliteStorage(db), { name: "Zoë’s Café ☕" }, END - 40 * DAY);
  seedJourneys(db, { projectId: project.id, events: 4000, end: END, days: 30, links: 25 });
  seedPayments(db, { projectId: project.id, payments: 300, end: END, days: 30 });
  const big = (id: string, amount: bigint) =>
    db
      .query(
        `INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, tax, net, currency, metadata, description, occurred_at, received_at,
           method, attributed_at, rate, rate_source, customer_email)
         VALUES (?, ?, 'api', 'sale', ?, ?, 0, ?, 'JPY', ?, ?, ?, ?, 'unattributed', ?, 0.0066123, 'ecb', NULL)`,
      )
      .run(id, project.id, `key_${id}`, amount, amount, '{"plan":"Ünlimited ✓","seats":3,"note":null}', "Großkunde 🎉", END - DAY, END - DAY, END - DAY);
  big("pay_big_1", BIG_AMOUNT);
  big("pay_big_2", BIG_AMOUNT + 1n);
  db.query("INSERT INTO events (project_id, ts, name, visitor_id, path, props) VALUES (?, ?, 'signup_completed', NULL, NULL, ?)").run(
    project.id,
    END - 5,
    '{"emoji":"🚀","quote":"say \\"hi\\"","nested":{"a":[1,2,null]},"long":9007199254740993}',
  );
  db.query("INSERT INTO profiles (project_id, id, email, name, traits, created_at, updated_at) VALUES (?, 'user_ø', NULL, ?, '{\"tier\":\"gold\"}', ?, ?)").run(
    project.id,
    AWKWARD_NAME,
    END,
    END,
  );
  db.query("INSERT INTO users (id, email, password_hash, role, created_at) VALUES ('usr_1', 'Founder@Example.com', '$argon2id$x', 'owner', ?)").run(END);
  db.query("INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ('th', 'usr_1', 'csrf', ?, ?, ?)").run(END, END, END + DAY);
  db.query("INSERT INTO visitor_salts (day, salt, created_at) VALUES ('2026-10-31', ?, ?)").run(new Uint8Array([0, 1, 254, 255, 0, 7]), END);
  db.query(
    "INSERT INTO integrations (project_id, provider, status, connected_at, updated_at, backfill_state, backfill_progress, cursor) VALUES (?, 'stripe', 'connected', ?, ?, 'running', 0.3333333333333333, '{\"after\":\"evt_1\"}')",
  ).run(project.id, END, END);
  db.query("INSERT INTO subscriptions (project_id, provider, id, first_payment_id, interval, interval_count, created_at, updated_at) VALUES (?, 'api', 'sub_1', 'pay_big_1', 'month', 1, ?, ?)").run(project.id, END, END);
  db.query("INSERT INTO subscription_periods (project_id, provider, subscription_id, period_start, period_end, payment_id, interval) VALUES (?, 'api', 'sub_1', ?, ?, 'pay_big_1', 'month')").run(project.id, END, END + 30 * DAY);
  instance.close();
  return data.dir;
}

function sqliteOf(dataDir: string): Database {
  const db = new Database(databasePath(dataDir), { readonly: true, safeIntegers: true });
  cleanups.push(() => db.close());
  return db;
}

const indexesOf = async (sql: SQL) =>
  (await sql.unsafe<{ indexdef: string }[]>("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename NOT LIKE 'migrate_to_%' ORDER BY indexname")).map((i) => i.indexdef);

/** The indexes of a database the migrations alone made. */
async function migratedIndexes(): Promise<string[]> {
  const { sql } = await postgres();
  await migratePostgres(sql, postgresMigrations);
  return indexesOf(sql);
}

const countOf = async (sql: SQL, table: string) => Number((await sql.unsafe<{ n: string }[]>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe("bantico migrate-to", () => {
  test("a realistic database arrives whole: every row, the 64-bit amounts, unicode, JSON text, NULLs and bytes; ids continue after the copied ones", async () => {
    const dataDir = await realisticDataDir();
    const { url, sql } = await postgres();
    const summary = await migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url, batchRows: 700 });
    const sqlite = sqliteOf(dataDir);
    expect(summary.verified).toBe(true);
    expect(summary.resumed).toBe(false);
    for (const { table, rows } of summary.tables) {
      const inSqlite = Number(sqlite.query<{ n: bigint }, []>(`SELECT count(*) AS n FROM ${table}`).get()!.n);
      expect({ table, rows, inPostgres: await countOf(sql, table) }).toEqual({ table, rows: inSqlite, inPostgres: inSqlite });
    }
    expect(summary.tables.find((t) => t.table === "events")!.rows).toBeGreaterThan(4000);

    const amounts = sqlite.query<{ amount: bigint }, []>("SELECT amount FROM payments").all();
    const [pgSum] = await sql.unsafe<{ total: string }[]>("SELECT sum(amount)::text AS total FROM payments");
    expect(BigInt(pgSum!.total)).toBe(amounts.reduce((sum, row) => sum + row.amount, 0n));
    expect(BigInt(pgSum!.total)).toBeGreaterThan(2n ** 63n);

    const [bigPayment] = await sql.unsafe("SELECT amount::text, net::text, metadata, description, customer_email, rate FROM payments WHERE id = 'pay_big_2'");
    expect({ ...bigPayment }).toEqual({
      amount: String(BIG_AMOUNT + 1n),
      net: String(BIG_AMOUNT + 1n),
      metadata: '{"plan":"Ünlimited ✓","seats":3,"note":null}',
      description: "Großkunde 🎉",
      customer_email: null,
      rate: 0.0066123,
    });
    const [event] = await sql.unsafe("SELECT props, path, visitor_id FROM events WHERE name = 'signup_completed' AND props LIKE '%🚀%'");
    expect({ ...event }).toEqual({ props: '{"emoji":"🚀","quote":"say \\"hi\\"","nested":{"a":[1,2,null]},"long":9007199254740993}', path: null, visitor_id: null });
    const [salt] = await sql.unsafe<{ salt: Uint8Array }[]>("SELECT salt FROM visitor_salts");
    expect([...salt!.salt]).toEqual([0, 1, 254, 255, 0, 7]);
    const [integration] = await sql.unsafe("SELECT backfill_progress, cursor FROM integrations");
    expect({ ...integration }).toEqual({ backfill_progress: 0.3333333333333333, cursor: '{"after":"evt_1"}' });
    const [profile] = await sql.unsafe("SELECT name, email FROM profiles WHERE id = 'user_ø'");
    expect({ ...profile }).toEqual({ name: AWKWARD_NAME, email: null });
    const [project] = await sql.unsafe("SELECT name FROM projects");
    expect(project!.name).toBe("Zoë’s Café ☕");

    // The copy carried SQLite's rowids (the FX reconversion walks payments by them) and moved each sequence past them.
    const payments = sqlite.query<{ rowid: bigint; id: string }, []>("SELECT rowid, id FROM payments ORDER BY rowid").all();
    const pgPayments = await sql.unsafe<{ rowid: string; id: string }[]>("SELECT rowid::text AS rowid, id FROM payments ORDER BY payments.rowid");
    expect(pgPayments.map((p) => `${p.rowid}:${p.id}`)).toEqual(payments.map((p) => `${p.rowid}:${p.id}`));
    const maxEventId = sqlite.query<{ id: bigint }, []>("SELECT max(id) AS id FROM events").get()!.id;
    const [next] = await sql.unsafe<{ id: string }[]>("INSERT INTO events (project_id, ts, name) SELECT id, 0, 'page_view' FROM projects RETURNING id");
    expect(BigInt(next!.id)).toBe(maxEventId + 1n);
    // The indexes dropped while their table was copied are all back.
    expect(await indexesOf(sql)).toEqual(await migratedIndexes());
    // The periods rollup was copied as it stood, not derived again by the trigger while copying.
    const [periods] = await sql.unsafe<{ revenue: string }[]>("SELECT sum(revenue)::text AS revenue FROM payment_stats_periods");
    const sqlitePeriods = sqlite.query<{ revenue: bigint }, []>("SELECT sum(revenue) AS revenue FROM payment_stats_periods").get()!;
    expect(BigInt(periods!.revenue)).toBe(sqlitePeriods.revenue);
    expect(await countOf(sql, "payment_stats_periods")).toBe(Number(sqlite.query<{ n: bigint }, []>("SELECT count(*) AS n FROM payment_stats_periods").get()!.n));
  });

  test("an interrupted copy resumes where it stopped: no row twice, none missing", async () => {
    const dataDir = await realisticDataDir();
    const { url, sql } = await postgres();
    const seen: CopyProgress[] = [];
    const interrupted = migrateTo({
      sqlitePath: databasePath(dataDir),
      postgresUrl: url,
      batchRows: 500,
      onProgress(progress) {
        seen.push(progress);
        if (progress.table === "events" && progress.copiedRows >= 1500) throw new Error("power cut");
      },
    });
    await expect(interrupted).rejects.toThrow("power cut");
    const [stopped] = await sql.unsafe<{ copied_rows: string; done: boolean }[]>("SELECT copied_rows, done FROM migrate_to_progress WHERE table_name = 'events'");
    expect({ ...stopped }).toEqual({ copied_rows: "1500", done: false });
    expect(await countOf(sql, "events")).toBe(1500);
    expect(await indexesOf(sql)).not.toContain("CREATE INDEX events_visitor ON public.events USING btree (project_id, visitor_id, ts)");

    const resumed: CopyProgress[] = [];
    const summary = await migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url, batchRows: 500, onProgress: (p) => resumed.push(p) });
    expect(summary.resumed).toBe(true);
    expect(resumed.find((p) => p.table === "clicks")).toMatchObject({ alreadyCopied: true });
    expect(resumed.find((p) => p.table === "events")).toMatchObject({ alreadyCopied: false, copiedRows: 2000 });
    const events = summary.tables.find((t) => t.table === "events")!;
    expect(events.copiedNow).toBe(events.rows - 1500);
    expect(await countOf(sql, "events")).toBe(events.rows);
    expect(await indexesOf(sql)).toEqual(await migratedIndexes());

    // A third run finds everything copied and verifies again.
    const again = await migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url });
    expect(again.copiedNow).toBe(0);
  });

  test("a batch stops at its size cap however few rows it holds, and the next one continues after it", async () => {
    const source = new SqliteSource(databasePath(await realisticDataDir()));
    cleanups.push(() => source.close());
    const table = { name: "provider_events", columns: [{ name: "id", kind: "integer" as const }, { name: "payload", kind: "text" as const }] };
    const first = source.readBatch(table, null, 100, 1);
    const second = source.readBatch(table, first.lastKey, 100, 1);
    expect([first.count, second.count]).toEqual([1, 1]);
    const [a, b] = [JSON.parse(first.json)[0].id, JSON.parse(second.json)[0].id];
    expect(b).toBeGreaterThan(a);
    expect(source.readBatch(table, null, 100).count).toBe(100);
  });

  test("a second migrate-to into the same database at the same time is refused, and the first one finishes", async () => {
    const dataDir = await realisticDataDir();
    const { url } = await postgres();
    let second: Promise<Error | null> | null = null;
    const first = migrateTo({
      sqlitePath: databasePath(dataDir),
      postgresUrl: url,
      batchRows: 500,
      onProgress() {
        second ??= migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url }).then(() => null, (error: Error) => error);
      },
    });
    expect((await first).verified).toBe(true);
    expect((await second!)?.message).toMatch(/^another migrate-to is copying into postgres:\/\/.+: let it finish, or stop it and run this again to resume$/);
  });

  test("a copy that no longer matches SQLite fails verification, naming the table and column", async () => {
    const dataDir = await realisticDataDir();
    const { url, sql } = await postgres();
    await migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url });
    await sql.unsafe("UPDATE payments SET amount = amount + 1 WHERE id = 'pay_big_1'");
    await expect(migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url })).rejects.toThrow(
      `verification failed: table payments: column amount adds up to`,
    );
    await sql.unsafe("DELETE FROM tracker_hosts");
    await sql.unsafe("DELETE FROM dashboard_sessions");
    await expect(migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url })).rejects.toThrow(
      "verification failed: table dashboard_sessions has 1 rows in SQLite but 0 in PostgreSQL; the SQLite database changed since an earlier run copied it",
    );
  });

  test("a database migrate-to did not start is refused when it holds anything, and left as it was", async () => {
    const dataDir = await realisticDataDir();
    const foreign = await postgres();
    await foreign.sql.unsafe("CREATE TABLE invoices (id INTEGER)");
    await expect(migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: foreign.url })).rejects.toThrow(
      /is not empty \(it has a table invoices that is not Bantico's\): migrate-to fills only an empty database/,
    );
    expect(await foreign.sql.unsafe("SELECT to_regclass('projects') AS t")).toEqual([{ t: null }] as never);

    const filled = await postgres();
    await migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: filled.url });
    await filled.sql.unsafe("DROP TABLE migrate_to_progress, migrate_to_source");
    await expect(migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: filled.url })).rejects.toThrow("its table clicks already has rows");
  });

  test("the source must be a Bantico database at this version, and the same one an interrupted copy started from", async () => {
    const { url } = await postgres();
    const empty = tempDataDir("migrate-to-none");
    cleanups.push(() => empty.remove());
    await expect(migrateTo({ sqlitePath: databasePath(empty.dir), postgresUrl: url })).rejects.toThrow(
      `there is no Bantico database at ${join(empty.dir, "bantico.sqlite")}: --data must name the data directory of the instance to copy`,
    );
    const old = new Database(databasePath(empty.dir));
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    old.exec("INSERT INTO schema_migrations VALUES (1, '001_core.sql', 0)");
    old.close();
    await expect(migrateTo({ sqlitePath: databasePath(empty.dir), postgresUrl: url })).rejects.toThrow('is at an older schema than this version of Bantico: run "bantico migrate"');

    const first = await realisticDataDir();
    const other = await realisticDataDir();
    await migrateTo({ sqlitePath: databasePath(first), postgresUrl: url, onProgress: () => {
      throw new Error("stop");
    } }).catch(() => {});
    await expect(migrateTo({ sqlitePath: databasePath(other), postgresUrl: url })).rejects.toThrow(
      `holds a copy of ${databasePath(first)}, not of ${databasePath(other)}: give the same --data to resume it`,
    );
  });
});
