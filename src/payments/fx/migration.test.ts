// Upgrading a ledger recorded before reporting currencies: renewals already in the rollups are
// counted apart, and every project's history is queued for conversion. (How a queued re-conversion
// resumes, on either engine: reconversion-steps.test.ts.)
// SQLite only: SQLite's own migrations 020, 025 and 026, run on ledgers left by its older schemas; PostgreSQL's schema starts at 024.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { migrate } from "../../db/migrate.ts";
import { migrations } from "../../db/migrations.ts";
import { resumConvertedHours, resumConvertedPeriod } from "../ledger.ts";
import { convertChunk } from "./stored.ts";
import { answered, runJobOnSqlite } from "../../db/storage/jobs.ts";

/** One chunk of the re-conversion, run as the write queue runs it on SQLite. */
const chunkOn = (db: Database) => runJobOnSqlite(db, (tx) => convertChunk(tx, () => answered(undefined), { hours: resumConvertedHours, period: resumConvertedPeriod }, 100));

test("migration 020 fills the renewals' share of existing rollups and queues each project's history", () => {
  const db = new Database(":memory:");
  migrate(db, migrations.filter((m) => m.version <= 11));
  db.run("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_old', 'Old', 'bt_pub_old', 0)");
  const hour = Date.parse("2026-11-03T10:00:00Z");
  const payment = (id: string, kind: string, net: number) =>
    db.run(
      `INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, tax, net, currency, occurred_at, received_at, method, campaign_id, attributed_at)
       VALUES (?, 'prj_old', 'api', ?, ?, ?, 0, ?, 'USD', ?, 0, 'metadata_context', 'spring', 0)`,
      [id, kind, id, net, net, hour + 60_000],
    );
  payment("pay_sale", "sale", 3000);
  payment("pay_renewal", "renewal", 2500);
  for (const model of ["last", "first"]) {
    db.run(
      `INSERT INTO payment_stats_hourly (project_id, hour, model, campaign_id, currency, payments, revenue, refunds) VALUES ('prj_old', ?, ?, ?, 'USD', 2, 5500, 0)`,
      [hour, model, model === "last" ? "spring" : ""],
    );
  }
  migrate(db, migrations);
  const hourly = db.query("SELECT model, renewals, renewal_revenue FROM payment_stats_hourly ORDER BY model").all();
  expect(hourly).toEqual([
    { model: "first", renewals: 1, renewal_revenue: 2500 },
    { model: "last", renewals: 1, renewal_revenue: 2500 },
  ]);
  const periods = db.query("SELECT grain, renewals, renewal_revenue, revenue FROM payment_stats_periods WHERE model = 'last' ORDER BY grain").all();
  expect(periods).toEqual([
    { grain: "day", renewals: 1, renewal_revenue: 2500, revenue: 5500 },
    { grain: "month", renewals: 1, renewal_revenue: 2500, revenue: 5500 },
  ]);
  expect(db.query("SELECT project_id, after_rowid, total FROM fx_reconversions").all()).toEqual([{ project_id: "prj_old", after_rowid: 0, total: 2 }]);
  // The recreated trigger keeps the periods in step with later hourly changes.
  db.run("UPDATE payment_stats_hourly SET renewals = renewals + 1, reporting_revenue = 700 WHERE model = 'last'");
  expect(db.query("SELECT renewals, reporting_revenue FROM payment_stats_periods WHERE model = 'last' AND grain = 'month'").get()).toEqual({ renewals: 2, reporting_revenue: 700 });
});

test("migration 025 gives each paid period its payment's converted net, and the periods still follow the ledger's hourly changes", () => {
  const db = new Database(":memory:");
  migrate(db, migrations.filter((m) => m.version <= 24));
  db.run("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_old', 'Old', 'bt_pub_old', 0)");
  const hour = Date.parse("2026-11-03T10:00:00Z");
  db.run(
    `INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, tax, net, currency, occurred_at, received_at, method, attributed_at,
       reporting_currency, reporting_amount, reporting_net, rate, rate_source, rate_date)
     VALUES ('pay_sub', 'prj_old', 'api', 'sale', 'k', 2900, 0, 2900, 'EUR', ?, 0, 'unattributed', 0, 'USD', 3132, 3132, 1.08, 'ecb', '2026-11-03')`,
    [hour],
  );
  db.run("INSERT INTO subscriptions (project_id, provider, id, first_payment_id, interval, created_at, updated_at) VALUES ('prj_old', 'api', 'sub_1', 'pay_sub', 'month', 0, 0)");
  db.run(
    "INSERT INTO subscription_periods (project_id, provider, subscription_id, period_start, period_end, payment_id, interval) VALUES ('prj_old', 'api', 'sub_1', ?, ?, 'pay_sub', 'month')",
    [hour, hour + 30 * 86_400_000],
  );
  db.run("INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue, reporting_revenue) VALUES ('prj_old', ?, 'last', 'EUR', 1, 2900, 3132)", [hour]);
  migrate(db, migrations);
  expect(db.query("SELECT reporting_net FROM subscription_periods").get()).toEqual({ reporting_net: 3132 });
  db.run("UPDATE payment_stats_hourly SET payments = payments + 1, revenue = revenue + 100, reporting_revenue = reporting_revenue + 108");
  expect(db.query("SELECT grain, payments, revenue, reporting_revenue FROM payment_stats_periods ORDER BY grain").all()).toEqual([
    { grain: "day", payments: 2, revenue: 3000, reporting_revenue: 3240 },
    { grain: "month", payments: 2, revenue: 3000, reporting_revenue: 3240 },
  ]);
});

test("migration 026 keeps a re-conversion caught midway through its rollup where it was, and it finishes with day and month rows that match the ledger", () => {
  const db = new Database(":memory:");
  migrate(db, migrations.filter((m) => m.version <= 25));
  db.run("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_old', 'Old', 'bt_pub_old', 0)");
  const hour = Date.parse("2026-11-03T10:00:00Z");
  const day = Date.parse("2026-11-03T00:00:00Z");
  db.run(
    `INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, tax, net, currency, occurred_at, received_at, method, attributed_at,
       reporting_currency, reporting_amount, reporting_net, rate, rate_source, rate_date)
     VALUES ('pay_1', 'prj_old', 'api', 'sale', 'k', 2900, 0, 2900, 'EUR', ?, 0, 'unattributed', 0, 'USD', 3132, 3132, 1.08, 'ecb', '2026-11-03')`,
    [hour],
  );
  // The rollup still holds the value before the switch; the walk over payments is done, the re-sum is at the day's first hour.
  for (const model of ["last", "first"]) {
    db.run("INSERT INTO payment_stats_hourly (project_id, hour, model, currency, payments, revenue, reporting_revenue) VALUES ('prj_old', ?, ?, 'EUR', 1, 2900, 2900)", [hour, model]);
  }
  db.run("INSERT INTO fx_reconversions (project_id, after_rowid, done, total, started_at, rollup_hour, rollup_end) VALUES ('prj_old', 1, 1, 1, 0, ?, ?)", [day, day + 86_400_000]);
  migrate(db, migrations);
  expect(db.query("SELECT rollup_hour, rollup_step FROM fx_reconversions").get()).toEqual({ rollup_hour: day, rollup_step: null });
  let chunks = 0;
  while (chunkOn(db) !== null) chunks++;
  expect(chunks).toBeGreaterThan(8);
  expect(db.query("SELECT count(*) AS n FROM fx_reconversions").get()).toEqual({ n: 0 });
  expect(db.query("SELECT model, grain, reporting_revenue FROM payment_stats_periods ORDER BY model, grain").all()).toEqual([
    { model: "first", grain: "day", reporting_revenue: 3132 },
    { model: "first", grain: "month", reporting_revenue: 3132 },
    { model: "last", grain: "day", reporting_revenue: 3132 },
    { model: "last", grain: "month", reporting_revenue: 3132 },
  ]);
});
