// Redirect and collect throughput with the data in PostgreSQL (SPEC §11), one node and two nodes on one
// database, beside one node on SQLite and a bare Bun.serve answering the same requests in the same run.
// Each node is a server process (src/testing/node-process.ts); two nodes get one wrk each, at half the
// threads and connections, and their rates add up. Every answered click and event is checked on disk.
// Needs wrk and PostgreSQL's server binaries (a throwaway cluster on loopback, as the tests start).
// Usage: npx bun bench/postgres.ts   Env: BENCH_SECONDS (default 5) per phase, BENCH_RUNS (default 2).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { bareServer, collectScript, median, redirectScript, wrk, type WrkResult } from "./lib.ts";
import { freshPostgresDatabase } from "../src/testing/postgres.ts";
import { connectPostgres } from "../src/db/postgres/connection.ts";
import { migratePostgres } from "../src/db/postgres/migrate.ts";
import { postgresMigrations } from "../src/db/postgres/migrations.ts";
import { postgresStorage } from "../src/db/storage/postgres.ts";
import { openDatabase } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import { migrations } from "../src/db/migrations.ts";
import { sqliteStorage } from "../src/db/storage/sqlite.ts";
import type { Storage } from "../src/db/storage/storage.ts";
import { createProject } from "../src/projects/service.ts";
import { createLink } from "../src/links/service.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const LINKS = 10_000;
const SECRET = "bench-secret-shared-by-every-node-0123456789";
const NODE_ENTRY = join(import.meta.dir, "..", "src", "testing", "node-process.ts");

const work = mkdtempSync(join(tmpdir(), "bantico-bench-pg-"));

interface Setup {
  name: string;
  storage: Storage;
  env: Record<string, string>;
  nodes: number;
}

/** One project with ten thousand links, written before any node starts, so every node loads them. */
async function seed(storage: Storage): Promise<{ token: string; slugs: string[] }> {
  const project = await createProject(storage, { name: "Bench" });
  const slugs: string[] = [];
  for (let i = 0; i < LINKS; i++) {
    const link = await createLink(storage, project.id, { destinationUrl: `https://example.com/p/${i}?ref=bench#top`, campaignId: `c${i % 50}`, source: "bench", medium: "email" });
    slugs.push(link.slug);
  }
  return { token: project.token, slugs };
}

async function startNode(env: Record<string, string>): Promise<{ url: string; process: Subprocess }> {
  const child = Bun.spawn([process.execPath, NODE_ENTRY], {
    env: { ...process.env, PORT: "0", BANTICO_SECRET: SECRET, BANTICO_FX_URL: "off", ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("a node exited before listening");
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void child.stdout.pipeTo(new WritableStream());
  return { url: (JSON.parse(out.split("\n")[0]!) as { url: string }).url, process: child };
}

/** Several wrk at once, one per URL, sharing wrk -t2 -c32 between them; their rates add up. */
async function load(urls: string[], script: string): Promise<WrkResult> {
  const share = { threads: Math.max(1, 2 / urls.length), connections: 32 / urls.length };
  const results = await Promise.all(urls.map((url) => wrk(url, script, SECONDS, share)));
  return {
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    cpuMicrosPerRequest: 0,
    perSecond: results.reduce((sum, r) => sum + r.perSecond, 0),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    non2xx3xx: results.reduce((sum, r) => sum + r.non2xx3xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

const count = async (storage: Storage, sql: string) => (await storage.get<{ n: number }>(`SELECT CAST(count(*) AS BIGINT) AS n FROM ${sql}`))!.n;

const sqliteDir = join(work, "sqlite");
mkdirSync(sqliteDir);
const sqliteDb = openDatabase(join(sqliteDir, "bantico.sqlite"));
migrate(sqliteDb, migrations);
const postgresUrl = await freshPostgresDatabase();
const postgres = connectPostgres(postgresUrl, { integers: true });
await migratePostgres(postgres, postgresMigrations);

const setups: Setup[] = [
  { name: "SQLite, one node", storage: sqliteStorage(sqliteDb), env: { BANTICO_DATA_DIR: sqliteDir }, nodes: 1 },
  { name: "PostgreSQL, one node", storage: postgresStorage(postgres), env: { BANTICO_DATABASE_URL: postgresUrl, BANTICO_DATA_DIR: work }, nodes: 1 },
  { name: "PostgreSQL, two nodes", storage: postgresStorage(postgres), env: { BANTICO_DATABASE_URL: postgresUrl, BANTICO_DATA_DIR: work }, nodes: 2 },
];
const seeded = new Map<Storage["engine"], { token: string; slugs: string[] }>();
const rows: { name: string; redirect: number[]; collect: number[]; redirectP99: number[]; collectP99: number[]; bareRedirect: number[]; bareCollect: number[] }[] = [];
let verified = true;
const baseline = bareServer();
try {
  for (const setup of setups) {
    if (!seeded.has(setup.storage.engine)) {
      // The SQLite file is closed here before its node opens it: one process writes it at a time.
      seeded.set(setup.storage.engine, await seed(setup.storage));
      if (setup.storage.engine === "sqlite") sqliteDb.close();
    }
    const { token, slugs } = seeded.get(setup.storage.engine)!;
    const redirectFile = join(work, "redirect.lua");
    const collectFile = join(work, "collect.lua");
    writeFileSync(redirectFile, redirectScript(slugs));
    writeFileSync(collectFile, collectScript(token));
    const nodes = await Promise.all(Array.from({ length: setup.nodes }, () => startNode(setup.env)));
    const reading = setup.storage.engine === "sqlite" ? sqliteStorage(openDatabase(join(sqliteDir, "bantico.sqlite"))) : setup.storage;
    const row = { name: setup.name, redirect: [] as number[], collect: [] as number[], redirectP99: [] as number[], collectP99: [] as number[], bareRedirect: [] as number[], bareCollect: [] as number[] };
    try {
      for (let run = 1; run <= RUNS; run++) {
        const clicksBefore = await count(reading, "clicks");
        const redirect = await load(nodes.map((n) => n.url), redirectFile);
        const clicksStored = (await count(reading, "clicks")) - clicksBefore;
        const eventsBefore = await count(reading, "events WHERE name = 'page_view'");
        const collect = await load(nodes.map((n) => n.url), collectFile);
        const eventsStored = (await count(reading, "events WHERE name = 'page_view'")) - eventsBefore;
        const ok = redirect.non2xx3xx + collect.non2xx3xx === 0 && clicksStored >= redirect.requests && eventsStored >= collect.requests;
        verified &&= ok;
        row.redirect.push(redirect.perSecond);
        row.redirectP99.push(redirect.p99Ms);
        row.collect.push(collect.perSecond);
        row.collectP99.push(collect.p99Ms);
        row.bareRedirect.push((await wrk(baseline.url, redirectFile, SECONDS)).perSecond);
        row.bareCollect.push((await wrk(baseline.url, collectFile, SECONDS)).perSecond);
        console.log(
          `${setup.name}, run ${run}: redirect ${redirect.perSecond.toFixed(0)}/s (${redirect.requests} answered, ${clicksStored} clicks on disk); ` +
            `collect ${collect.perSecond.toFixed(0)}/s (${collect.requests} answered, ${eventsStored} events on disk)${ok ? "" : "  MISMATCH"}`,
        );
      }
    } finally {
      for (const node of nodes) node.process.kill("SIGTERM");
      await Promise.all(nodes.map((node) => node.process.exited));
    }
    rows.push(row);
  }
} finally {
  baseline.stop();
  await postgres.close();
  rmSync(work, { recursive: true, force: true });
}

console.log(`\nmedians of ${RUNS} runs, wrk -t2 -c32 -d${SECONDS}s on loopback (two nodes: one wrk -t1 -c16 each); ratio = this setup / bare Bun.serve in the same run`);
for (const row of rows) {
  const cell = (ours: number[], p99: number[], bare: number[]) => {
    const rate = median(ours);
    return `${rate.toFixed(0).padStart(7)}/s p99 ${median(p99).toFixed(1).padStart(6)} ms (${((rate / median(bare)) * 100).toFixed(1).padStart(5)} % of ${median(bare).toFixed(0)}/s)`;
  };
  console.log(`${row.name.padEnd(24)} redirect ${cell(row.redirect, row.redirectP99, row.bareRedirect)}   collect (each on disk) ${cell(row.collect, row.collectP99, row.bareCollect)}`);
}
console.log(`every answered click and event found in the database: ${verified ? "yes" : "NO"}`);
if (!verified) process.exitCode = 1;
