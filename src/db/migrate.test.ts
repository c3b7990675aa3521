// SQLite only: SQLite's migrations (src/db/migrations.ts); PostgreSQL's are tested in src/db/postgres/migrate.test.ts.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { openDatabase } from "./database.ts";
import { appliedVersions, migrate, MigrationError, type Migration } from "./migrate.ts";
import { migrations } from "./migrations.ts";
import { tempDataDir } from "../testing/harness.ts";
import { attributionReport } from "../reports/attribution.ts";

function withDatabase(run: (db: Database, path: string) => void) {
  const data = tempDataDir("migrate");
  const path = join(data.dir, "test.sqlite");
  const db = openDatabase(path);
  try {
    run(db, path);
  } finally {
    db.close();
    data.remove();
  }
}

const tableNames = (db: Database) =>
  db
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);

describe("migrations", () => {
  test("a fresh database gets every migration, in order, recorded once", () => {
    withDatabase((db) => {
      const applied = migrate(db, migrations);
      expect(applied).toEqual(migrations.map((m) => m.name));
      expect(appliedVersions(db)).toEqual(migrations.map((m) => m.version));
      expect(tableNames(db)).toContain("projects");
      expect(migrate(db, migrations)).toEqual([]);
    });
  });

  test("a database from an earlier version migrates forward and keeps its data", () => {
    withDatabase((db, path) => {
      migrate(db, migrations.slice(0, 1));
      db.query("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_old', 'Old', 'tok_old', 1)").run();
      db.close();
      const reopened = openDatabase(path);
      try {
        expect(migrate(reopened, migrations)).toEqual(migrations.slice(1).map((m) => m.name));
        expect(reopened.query("SELECT name FROM projects WHERE id = 'prj_old'").get()).toEqual({ name: "Old" });
      } finally {
        reopened.close();
      }
    });
  });

  test("a database of the release before login limits and job leases (026) migrates forward, keeps its owner and takes both", () => {
    withDatabase((db) => {
      migrate(db, migrations.filter((m) => m.version <= 26));
      db.query("INSERT INTO users (id, email, password_hash, role, created_at) VALUES ('usr_old', 'owner@example.com', 'x', 'owner', 1)").run();
      expect(migrate(db, migrations)).toEqual(["027_login_failures.sql", "028_job_leases.sql"]);
      expect(db.query("SELECT email, role FROM users").all()).toEqual([{ email: "owner@example.com", role: "owner" }]);
      db.query("INSERT INTO login_failures (key, at, expires_at) VALUES ('k', 1, 2)").run();
      db.query("INSERT INTO job_leases (name, holder, expires_at) VALUES ('fx-fetch', 'sqlite', 2)").run();
      expect(db.query("SELECT count(*) AS n FROM login_failures").get()).toEqual({ n: 1 });
      expect(db.query("SELECT holder FROM job_leases").get()).toEqual({ holder: "sqlite" });
    });
  });

  test("signups started before the signup_started rollup existed are counted in it after the upgrade", () => {
    withDatabase((db) => {
      const before = migrations.filter((m) => m.version < 8);
      migrate(db, before);
      db.query("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_a', 'A', 'tok_a', 1)").run();
      const at = Date.UTC(2026, 10, 3, 14, 30);
      const insert = db.prepare("INSERT INTO events (project_id, ts, name, campaign_id) VALUES ('prj_a', ?, ?, ?)");
      insert.run(at, "signup_started", "spring");
      insert.run(at + 60_000, "signup_started", "spring");
      insert.run(at, "signup_started", null);
      insert.run(at, "page_view", "spring");
      migrate(db, migrations);
      const sum = (sql: string) => db.query<{ n: number }, []>(sql).get()!.n;
      expect(sum("SELECT sum(signups_started) AS n FROM context_stats_hourly WHERE campaign_id = 'spring'")).toBe(2);
      expect(sum("SELECT sum(signups_started) AS n FROM context_stats_hourly")).toBe(3);
      expect(sum("SELECT sum(signups_started) AS n FROM context_stats_periods WHERE grain = 'day'")).toBe(3);
      expect(sum("SELECT sum(signups_started) AS n FROM context_stats_periods WHERE grain = 'month' AND campaign_id = 'spring'")).toBe(2);
    });
  });

  test("a broken migration names its file and leaves the database as it was", () => {
    withDatabase((db) => {
      migrate(db, migrations.slice(0, 1));
      const before = tableNames(db);
      const broken: Migration[] = [
        ...migrations.slice(0, 1),
        { version: 50, name: "050_good.sql", sql: "CREATE TABLE good_one (id INTEGER);" },
        { version: 51, name: "051_broken.sql", sql: "CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1);" },
      ];
      expect(() => migrate(db, broken)).toThrow(MigrationError);
      expect(() => migrate(db, broken)).toThrow(/051_broken\.sql/);
      expect(tableNames(db)).toEqual(before);
      expect(appliedVersions(db)).toEqual([1]);
    });
  });

  test("a database written by a newer Bantico is refused rather than damaged", () => {
    withDatabase((db) => {
      migrate(db, [...migrations, { version: 999, name: "999_future.sql", sql: "CREATE TABLE future (id INTEGER);" }]);
      expect(() => migrate(db, migrations)).toThrow(/999/);
    });
  });
  test("widening the provider checks keeps every payment, integration and column another migration added", () => {
    withDatabase((db) => {
      migrate(db, migrations.filter((m) => m.version < 23));
      // A column another branch's migration may add before 023 runs.
      db.exec("ALTER TABLE payments ADD COLUMN settlement TEXT");
      db.query("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_w', 'W', 'tok_w', 1)").run();
      db.query(
        `INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, tax, net, currency, occurred_at, received_at, method, attributed_at, settlement)
         VALUES ('pay_w', 'prj_w', 'stripe', 'sale', 'pi:w', 100, 0, 100, 'USD', 1, 1, 'unattributed', 1, '{"currency":"EUR"}')`,
      ).run();
      db.query("INSERT INTO integrations (project_id, provider, status, connected_at, updated_at) VALUES ('prj_w', 'polar', 'webhook_only', 1, 1)").run();
      migrate(db, migrations);
      expect(db.query("SELECT provider, settlement FROM payments WHERE id = 'pay_w'").get()).toEqual({ provider: "stripe", settlement: '{"currency":"EUR"}' });
      expect(db.query("SELECT status FROM integrations WHERE project_id = 'prj_w'").get()).toEqual({ status: "webhook_only" });
      const indexes = db.query<{ name: string }, []>("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'payments' AND sql IS NOT NULL").all().map((r) => r.name);
      expect(indexes).toContain("payments_subscription");
      db.query("INSERT INTO integrations (project_id, provider, status, connected_at, updated_at) VALUES ('prj_w', 'creem', 'webhook_only', 1, 1)").run();
      expect(() => db.query("INSERT INTO integrations (project_id, provider, status, connected_at, updated_at) VALUES ('prj_w', 'paypal', 'x', 1, 1)").run()).toThrow(/CHECK/);
      expect(db.query("PRAGMA foreign_key_check").all()).toEqual([]);
    });
  });
  test("a database of the previous release, with journeys, payments and counters, migrates forward and its people are counted from its events", () => {
    withDatabase((db) => {
      // The previous release stopped at 011.
      migrate(db, migrations.filter((m) => m.version <= 11));
      const day = Date.UTC(2026, 10, 3, 12);
      db.query("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_old', 'Old', 'tok_old', 1)").run();
      db.query("INSERT INTO profiles (project_id, id, email, created_at, updated_at) VALUES ('prj_old', 'user_1', 'ada@example.com', 1, 1)").run();
      db.query("INSERT INTO profile_visitors (project_id, visitor_id, profile_id, identified_at) VALUES ('prj_old', 'visitor_phone_01', 'user_1', 1)").run();
      const event = db.prepare("INSERT INTO events (project_id, ts, name, visitor_id, campaign_id) VALUES ('prj_old', ?, 'page_view', ?, 'spring')");
      for (const [visitor, offset] of [["visitor_phone_01", 0], ["visitor_phone_01", 86_400_000], ["visitor_other_01", 0]] as const) event.run(day + offset, visitor);
      db.query("INSERT INTO counted_visitors (project_id, day, visitor_id, context_key) VALUES ('prj_old', '2026-11-03', 'visitor_phone_01', '|spring||||')").run();
      db.query(
        `INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, tax, net, currency, occurred_at, received_at, method, attributed_at, profile_id, campaign_id)
         VALUES ('pay_old', 'prj_old', 'api', 'sale', 'api:old', 4900, 0, 4900, 'USD', ?, ?, 'metadata_context', 1, 'user_1', 'spring')`,
      ).run(day, day);
      migrate(db, migrations);
      expect(tableNames(db)).not.toContain("counted_visitors");
      expect(db.query("SELECT count(*) AS n FROM events").get()).toEqual({ n: 3 });
      expect(db.query("SELECT provider, net, profile_id FROM payments WHERE id = 'pay_old'").get()).toEqual({ provider: "api", net: 4900, profile_id: "user_1" });
      const project = { id: "prj_old", currency: "USD", timezone: "UTC" };
      const [row] = attributionReport(db, project, { groupBy: "campaign", from: day - 86_400_000, to: day + 2 * 86_400_000 }, day + 2 * 86_400_000);
      // Two visitors, one of them the customer: counted from the stored events, nothing to rebuild.
      expect(row).toMatchObject({ key: "spring", visitors: 2, customers: 1, conversionRate: 0.5 });
    });
  });
});
