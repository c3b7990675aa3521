// migrate-to's copy rate: seeds a data dir (1M events and 100k payments by default, with their sessions,
// clicks, profiles and rollups), then runs the real `bantico migrate-to` into a new PostgreSQL database
// and prints rows per second, overall and for the events table. Needs PostgreSQL: a throwaway cluster
// (src/testing/postgres.ts, fsync off) or the server BANTICO_TEST_DATABASE_URL names.
//
//   npx bun bench/migrate-to.ts [--events N] [--payments N] [--batch-rows N] [--keep DIR]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databasePath } from "../src/db/database.ts";
import { DEFAULT_BATCH_ROWS, migrateTo } from "../src/db/migrate-to/index.ts";
import { freshPostgresDatabase } from "../src/testing/postgres.ts";
import { seedDataDir } from "./seed-dashboard.ts";

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const keep = flag("keep", "");
const dataDir = keep || mkdtempSync(join(tmpdir(), "bantico-bench-migrate-to-"));
const batchRows = Number(flag("batch-rows", String(DEFAULT_BATCH_ROWS)));

if (!existsSync(databasePath(dataDir))) {
  const events = Number(flag("events", "1000000"));
  await seedDataDir(dataDir, { events, payments: Number(flag("payments", "100000")), end: Date.now(), days: 90 });
} else console.log(`reusing seeded data in ${dataDir}`);

const url = await freshPostgresDatabase();
const summary = await migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url, batchRows });
const events = summary.tables.find((t) => t.table === "events")!;
console.log(
  `migrate-to, batches of ${batchRows} rows: ${summary.rows.toLocaleString("en")} rows in ${summary.seconds} s including verification = ` +
    `${summary.rowsPerSecond.toLocaleString("en")} rows/s; events ${events.rows.toLocaleString("en")} rows in ${events.seconds} s = ` +
    `${Math.round(events.rows / events.seconds).toLocaleString("en")} rows/s (indexes rebuilt, not verified)`,
);
if (!keep) rmSync(dataDir, { recursive: true, force: true });
