// Upgrading a ledger recorded before reporting currencies: renewals already in the rollups are
// counted apart, and every project's history is queued for conversion.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { migrate } from "../../db/migrate.ts";
import { migrations } from "../../db/migrations.ts";

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
