// Dashboard pages at scale: seeds 10M events and 1M payments (with their rollups) into a temp data dir,
// then requests every data page for a 30-day range on the real server and prints each page's p95
// beside /healthz on the same server. Goal: every page under 300 ms, its first view after a start too.
// The server folds the last year in the background after it starts: the bench prints how long
// that takes and the slowest /healthz answer meanwhile (what a redirect would wait), then measures
// each page's first view and p95, for the last 30 days and the last 365 days.
//
//   npx bun bench/dashboard.ts [--events N] [--payments N] [--requests N] [--keep DIR] [--engine postgres]
//
// --keep DIR seeds into DIR once and reuses it on the next run (seeding is most of the time).
// --engine postgres copies the seeded data dir into a new PostgreSQL database (`migrateTo`, as `bantico
// migrate-to` does; a throwaway cluster as the tests start, or the server BANTICO_TEST_DATABASE_URL
// names) and serves from it; the server warms the 30-day views there (src/dashboard/pages/warmup.ts),
// so that range alone is measured (a year is read by the pages that ask for it).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { startServer } from "../src/server.ts";
import { listProjects } from "../src/projects/service.ts";
import { databasePath } from "../src/db/database.ts";
import { signIn } from "../src/dashboard/test-client.ts";
import { createApiKey } from "../src/auth/api-keys.ts";
import { addDays, localDate, startOfLocalDay } from "../src/dashboard/range.ts";
import { HOUR_MS } from "../src/dashboard/pages/time.ts";
import { foldWarmer } from "../src/dashboard/pages/warmup.ts";
import { seedDataDir } from "./seed-dashboard.ts";
import { percentile } from "./lib.ts";
import { readText } from "../src/db/postgres/dialect.ts";
import { migrateTo } from "../src/db/migrate-to/index.ts";
import { freshPostgresDatabase } from "../src/testing/postgres.ts";

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const EVENTS = Number(flag("events", "10000000"));
const PAYMENTS = Number(flag("payments", "1000000"));
const REQUESTS = Number(flag("requests", "20"));
const ENGINE = flag("engine", "sqlite");
if (ENGINE !== "sqlite" && ENGINE !== "postgres") throw new Error(`--engine sqlite or postgres, not ${ENGINE}`);
const DAYS = 90;
const keep = flag("keep", "");
const dataDir = keep || mkdtempSync(join(tmpdir(), "bantico-bench-dashboard-"));
const EMAIL = "bench@example.com";
const PASSWORD = "benchmark password";

// The history ends at the next full hour so "the last 30 days" is full of data.
const end = Math.ceil(Date.now() / HOUR_MS) * HOUR_MS;

async function main(): Promise<void> {
  const seedStart = performance.now();
  if (!existsSync(databasePath(dataDir))) await seedDataDir(dataDir, { events: EVENTS, payments: PAYMENTS, end, days: DAYS, owner: { email: EMAIL, password: PASSWORD } });
  else console.log(`reusing seeded data in ${dataDir}`);
  console.log(`seeding total: ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  let onPostgres: Record<string, string> = {};
  if (ENGINE === "postgres") {
    const url = await freshPostgresDatabase();
    const copy = await migrateTo({ sqlitePath: databasePath(dataDir), postgresUrl: url });
    console.log(`copied into PostgreSQL: ${copy.rows.toLocaleString("en")} rows in ${copy.seconds} s (${copy.rowsPerSecond.toLocaleString("en")} rows/s)`);
    onPostgres = { BANTICO_DATABASE_URL: url, BANTICO_SECRET: "bench-secret-of-the-dashboard-bench-0123456789" };
  }

  const server = await startServer(loadConfig({ BANTICO_DATA_DIR: dataDir, PORT: "0", ...onPostgres }), { hostname: "127.0.0.1" });
  try {
    const storage = server.instance.ctx.storage;
    const first = async <T>(sql: string, params: string[]) => (await storage.get<T>(readText(() => sql)[storage.engine], params))!;
    const project = (await listProjects(storage))[0]!;
    const client = await signIn(server, EMAIL, PASSWORD);
    const topLink = (await first<{ link_id: string }>("SELECT link_id FROM clicks WHERE project_id = ? ORDER BY ts DESC LIMIT 1", [project.id])).link_id;
    const payment = (await first<{ id: string }>("SELECT id FROM payments WHERE project_id = ? ORDER BY occurred_at DESC LIMIT 1", [project.id])).id;
    const profile = (await first<{ id: string }>("SELECT id FROM profiles WHERE project_id = ? LIMIT 1", [project.id])).id;
    const base = `/dashboard/${project.id}`;
    const warmup = foldWarmer(server.instance.ctx)!.ready;
    let warmed = false;
    void warmup.then(() => (warmed = true));
    const healthz: number[] = [];
    for (let i = 0; i < 100_000 && !warmed; i++) {
      const t = performance.now();
      await (await client.get("/healthz")).arrayBuffer();
      healthz.push(performance.now() - t);
    }
    const stats = await warmup;
    healthz.sort((a, b) => a - b);
    console.log(
      `\nwarm-up after start (${storage.engine}): ${stats.days} days folded in ${(stats.ms / 1000).toFixed(2)} s, longest slice ${stats.longestSliceMs.toFixed(1)} ms; ` +
        `/healthz meanwhile: ${healthz.length} requests, p50 ${percentile(healthz, 50).toFixed(1)} ms, max ${healthz.at(-1)?.toFixed(1)} ms`,
    );
    const memory = process.memoryUsage();
    console.log(`memory after the warm-up: ${(memory.rss / 1e6).toFixed(0)} MB resident, ${(memory.heapUsed / 1e6).toFixed(0)} MB of JavaScript heap`);
    const pages: [string, string][] = [
      ["/healthz (baseline)", "/healthz"],
      // The overview's top tables load as their own requests after the page, as a browser asks for them.
      ["overview", base],
      ...topTables(base, ""),
      ["overview, filtered by source", `${base}?source=twitter`],
      ...topTables(base, "?source=twitter", ", filtered"),
      ["links", `${base}/links`],
      ["link page", `${base}/links/${topLink}`],
      ["campaigns", `${base}/campaigns`],
      ["campaign drill-down", `${base}/campaigns/campaign_1`],
      ["sources", `${base}/sources`],
      ["mediums", `${base}/mediums`],
      ["contents", `${base}/contents`],
      ["leads", `${base}/leads`],
      ["traffic: pages", `${base}/traffic`],
      ["traffic: referrers", `${base}/traffic?by=referrer`],
      ["traffic: entry pages", `${base}/traffic?by=entryPage`],
      ["traffic: countries", `${base}/traffic?by=country`],
      ["traffic: devices", `${base}/traffic?by=device`],
      ["traffic: browsers", `${base}/traffic?by=browser`],
      ["traffic: OS", `${base}/traffic?by=os`],
      ["funnel", `${base}/funnel`],
      ["funnel, filtered by campaign", `${base}/funnel?campaign=campaign_1`],
      ["payments", `${base}/payments`],
      ["payments, method=session", `${base}/payments?method=session`],
      ["payment page", `${base}/payments/${payment}`],
      ["profiles", `${base}/profiles`],
      ["profile page", `${base}/profiles/${encodeURIComponent(profile)}`],
      ["live events", `${base}/live`],
      ["live feed (poll)", `${base}/live/feed`],
      // The REST API's reports, with an API key: the 30 days by default, or the 365 calendar days through today.
      ["API reports/summary", "/api/v1/reports/summary"],
      ["API reports/attribution by link", "/api/v1/reports/attribution?groupBy=link"],
      ["API reports/attribution by campaign", "/api/v1/reports/attribution?groupBy=campaign"],
      ["API reports/traffic by referrer", "/api/v1/reports/traffic?groupBy=referrer"],
      ["API reports/traffic by page", "/api/v1/reports/traffic?groupBy=page"],
      ["API reports/funnel", "/api/v1/reports/funnel"],
      ["API reports/funnel, by source", "/api/v1/reports/funnel?source=twitter"],
    ];
    const apiKey = (await createApiKey(server.instance.ctx.storage, project.id, "bench")).key;
    const withRange = (path: string, range: string | null) => {
      if (range === null || path === "/healthz") return path;
      const yearAgo = startOfLocalDay(addDays(localDate(Date.now(), project.timezone), -364), project.timezone);
      const param = path.startsWith("/api/") ? `from=${new Date(yearAgo).toISOString()}` : `range=${range}`;
      return `${path}${path.includes("?") ? "&" : "?"}${param}`;
    };
    const get = (path: string) => client.get(path, path.startsWith("/api/") ? { authorization: `Bearer ${apiKey}` } : undefined);
    let over = 0;
    // PostgreSQL: the warm-up reads ahead the 30 days only (see the top).
    const ranges = ENGINE === "postgres" ? ([["30-day range (default)", null]] as const) : ([["30-day range (default)", null], ["365-day range", "365d"]] as const);
    for (const [label, range] of ranges) {
      console.log(`\n${label}, first view after warm-up, then ${REQUESTS} sequential requests per page; goal first and p95 < 300 ms`);
      console.log(`${"page".padEnd(32)} ${"first".padStart(9)} ${"p50".padStart(9)} ${"p95".padStart(9)}`);
      for (const [name, page] of pages) {
        const path = withRange(page, range);
        let t = performance.now();
        const firstView = await get(path);
        await firstView.arrayBuffer();
        const firstMs = performance.now() - t;
        if (firstView.status !== 200) {
          // Said, not thrown: one page that does not answer should not lose a whole run's figures.
          console.log(`${name.padEnd(32)} answered ${firstView.status}`);
          if (name !== "/healthz (baseline)") over++;
          continue;
        }
        const times: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
          t = performance.now();
          const response = await get(path);
          await response.arrayBuffer();
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        const p95 = percentile(times, 95);
        const slow = Math.max(p95, firstMs) >= 300;
        if (name !== "/healthz (baseline)" && slow) over++;
        console.log(`${name.padEnd(32)} ${firstMs.toFixed(1).padStart(6)} ms ${percentile(times, 50).toFixed(1).padStart(6)} ms ${p95.toFixed(1).padStart(6)} ms${slow ? "  over goal" : ""}`);
      }
    }
    console.log(over === 0 ? `\nevery page under 300 ms, first view and p95, ${ranges.length === 1 ? "30 days" : "both ranges"}` : `\n${over} page(s) over 300 ms (first view or p95) or not answering`);

    // Live traffic: a few tracker events land before each view, so the last hours change under every request.
    const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let sent = 0;
    const collect = async () => {
      for (let i = 0; i < 5; i++, sent++) {
        const body = JSON.stringify({ t: project.token, n: "page_view", u: `https://site.example/live?utm_source=live${sent % 7}`, r: "https://news.example/" });
        const response = await fetch(`${server.url}/api/collect`, { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8", "User-Agent": `${UA} v${sent}` } });
        if (!response.ok) throw new Error(`collect answered ${response.status}`);
      }
    };
    console.log(`\nunder live traffic (5 tracker events before each request), ${REQUESTS} requests per page after one to settle`);
    console.log(`${"page".padEnd(32)} ${"p50".padStart(9)} ${"p95".padStart(9)}`);
    for (const [label, range] of ENGINE === "postgres" ? ([["30 days", null]] as const) : ([["30 days", null], ["365 days", "365d"]] as const)) {
      for (const [name, page] of pages.filter(([name]) => ["overview", "links", "sources", "campaigns", "funnel"].includes(name))) {
        const path = withRange(page, range);
        await collect();
        await (await client.get(path)).arrayBuffer();
        const times: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
          await collect();
          const t = performance.now();
          await (await client.get(path)).arrayBuffer();
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        console.log(`${`${name}, ${label}`.padEnd(32)} ${percentile(times, 50).toFixed(1).padStart(6)} ms ${percentile(times, 95).toFixed(1).padStart(6)} ms`);
      }
    }
  } finally {
    await server.stop();
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

/** The overview's four top tables, each its own request. */
function topTables(base: string, query: string, note = ""): [string, string][] {
  return ["sources", "campaigns", "referrers", "countries"].map((card) => [`  its top ${card}${note}`, `${base}/overview/${card}${query}`]);
}
