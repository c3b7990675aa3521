// Payments benchmark (`npx bun bench/payments.ts`): signed Stripe webhook deliveries with 50 in
// flight against a bare Bun.serve baseline, and the attribution report over 1,000,000 payments and
// 10,000,000 events. Servers run in child processes on loopback; every loop is bounded.
// Env: BENCH_PAYMENTS, BENCH_EVENTS (row counts), BENCH_ROUNDS, BENCH_DELIVERIES, BENCH_ONLY=webhooks|report.
import { runJobOnSqlite } from "../src/db/storage/jobs.ts";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Stripe from "stripe";
import { median, percentile } from "./lib.ts";
import { bumpRollup } from "../src/tracking/events.ts";

const SECRET = "whsec_bench_payments_secret";
const CONCURRENCY = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 2000);
const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const REPORT_REPEATS = 5;

const mode = process.argv[2];
if (mode === "--serve-bantico") await serveBantico(process.argv[3]!);
else if (mode === "--serve-baseline") serveBaseline();
else await main();

// ---------- child processes ----------

async function serveBantico(dataDir: string) {
  const { loadConfig } = await import("../src/config.ts");
  const { startServer } = await import("../src/server.ts");
  const { createProject } = await import("../src/projects/service.ts");
  const { connectIntegration } = await import("../src/payments/integrations.ts");
  const server = await startServer(loadConfig({ PORT: "0", BANTICO_DATA_DIR: dataDir, BANTICO_SECRET: "bench-secret-bench-secret-bench-secret" }), { hostname: "127.0.0.1" });
  const project = await createProject(server.instance.ctx.storage, { name: "Bench" });
  await connectIntegration(server.instance.ctx, project.id, "stripe", { webhookSecret: SECRET });
  server.instance.ctx.db.query(
    "INSERT INTO links (id, project_id, slug, destination_url, campaign_id, source, created_at, updated_at) VALUES ('lnk_bench', ?, 'bench', 'https://example.com', 'bench', 'bench', 0, 0)",
  ).run(project.id);
  console.log(JSON.stringify({ url: server.url, path: `/webhooks/stripe/${project.id}` }));
}

function serveBaseline() {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      await request.text();
      return Response.json({ received: true });
    },
  });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}`, path: "/webhooks/stripe/x" }));
}

// ---------- measurement ----------

async function spawnServer(args: string[]): Promise<{ url: string; path: string; stop(): void }> {
  const child = Bun.spawn([process.execPath, import.meta.path, ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server process ended before starting");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { ...(JSON.parse(text.split("\n")[0]!) as { url: string; path: string }), stop: () => child.kill() };
}

interface Delivery {
  body: string;
  signature: string;
}

async function signedDeliveries(count: number, round: number): Promise<Delivery[]> {
  const stripe = new Stripe("sk_bench_signing_only");
  const now = Math.floor(Date.now() / 1000);
  const deliveries: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${round}_${i}`;
    const body = JSON.stringify({
      id: `evt_bench_${id}`,
      object: "event",
      type: "checkout.session.completed",
      created: now,
      data: {
        object: {
          id: `cs_bench_${id}`,
          object: "checkout.session",
          mode: "payment",
          payment_status: "paid",
          amount_total: 4900,
          currency: "usd",
          payment_intent: `pi_bench_${id}`,
          customer_details: { email: `buyer${i}@example.com` },
          metadata: { linkId: "lnk_bench", visitorId: `v_${i % 500}` },
          total_details: { amount_tax: 0 },
        },
      },
    });
    deliveries.push({ body, signature: await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: SECRET }) });
  }
  return deliveries;
}

async function deliver(target: { url: string; path: string }, deliveries: Delivery[]): Promise<{ perSecond: number; p50: number; p95: number; failures: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!;
        const t0 = performance.now();
        const response = await fetch(`${target.url}${target.path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "stripe-signature": delivery.signature },
          body: delivery.body,
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (response.status !== 200) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: deliveries.length / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95), failures };
}

async function webhookBenchmark() {
  const dataDir = mkdtempSync(join(tmpdir(), "bantico-bench-payments-"));
  const bantico = await spawnServer(["--serve-bantico", dataDir]);
  const baseline = await spawnServer(["--serve-baseline"]);
  try {
    const results: Record<"bantico" | "baseline", { perSecond: number[]; p50: number[]; p95: number[]; failures: number }> = {
      bantico: { perSecond: [], p50: [], p95: [], failures: 0 },
      baseline: { perSecond: [], p50: [], p95: [], failures: 0 },
    };
    await deliver(bantico, await signedDeliveries(200, -1)); // warm-up
    await deliver(baseline, await signedDeliveries(200, -1));
    for (let round = 0; round < ROUNDS; round++) {
      const deliveries = await signedDeliveries(DELIVERIES, round);
      for (const [name, target] of [["baseline", baseline], ["bantico", bantico]] as const) {
        const r = await deliver(target, deliveries);
        results[name].perSecond.push(r.perSecond);
        results[name].p50.push(r.p50);
        results[name].p95.push(r.p95);
        results[name].failures += r.failures;
      }
    }
    console.log(`\nStripe webhook deliveries, ${CONCURRENCY} concurrent, ${DELIVERIES} distinct signed events per round, median of ${ROUNDS} rounds:`);
    console.log("                          deliveries/s     p50 ms     p95 ms   non-200");
    for (const name of ["baseline", "bantico"] as const) {
      const r = results[name];
      const label = name === "baseline" ? "bare Bun.serve (baseline)" : "Bantico (verify+record) ";
      console.log(
        `${label.padEnd(25)} ${median(r.perSecond).toFixed(0).padStart(12)} ${median(r.p50).toFixed(2).padStart(10)} ${median(r.p95).toFixed(2).padStart(10)} ${String(r.failures).padStart(9)}`,
      );
    }
    console.log(`goal: p95 < 50 ms → ${median(results.bantico.p95) < 50 ? "met" : "NOT met"}`);
  } finally {
    bantico.stop();
    baseline.stop();
    await Bun.sleep(100);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------- the report over seeded data ----------

async function reportBenchmark() {
  const dataDir = mkdtempSync(join(tmpdir(), "bantico-bench-report-"));
  try {
    const { openDatabase } = await import("../src/db/database.ts");
    const { migrate } = await import("../src/db/migrate.ts");
    const { migrations } = await import("../src/db/migrations.ts");
    const { attributionReport, GROUP_BY, MODELS } = await import("../src/reports/attribution.ts");
    const db: Database = openDatabase(join(dataDir, "bantico.sqlite"));
    migrate(db, migrations);
    const now = Date.now();
    const span = 365 * 86_400_000;
    const start = now - span;
    db.query("INSERT INTO projects (id, name, token, created_at) VALUES ('prj_bench', 'Bench', 'bt_pub_bench', 0)").run();

    let t0 = performance.now();
    seedEvents(db, start, span);
    const eventSeconds = (performance.now() - t0) / 1000;
    // 200 links, each with its own context; 20% of payments have none (unattributed).
    const contextColumns = `CASE WHEN c < 200 THEN 'lnk_' || c END, CASE WHEN c < 200 THEN 'campaign_' || (c % 25) END,
      CASE WHEN c < 200 THEN 'source_' || (c % 12) END, CASE WHEN c < 200 THEN 'medium_' || (c % 5) END,
      CASE WHEN c < 200 THEN 'content_' || (c % 40) END, CASE WHEN c < 200 THEN 'lead_' || (c % 150) END`;

    t0 = performance.now();
    db.exec(`WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${PAYMENTS - 1}),
      rows AS MATERIALIZED (SELECT i, abs(random()) % 250 AS c, abs(random()) % 100 AS k, abs(random()) % 10 AS cur FROM seq)
      INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, tax, net, currency, occurred_at, received_at, method,
        link_id, campaign_id, source, medium, content, lead_id, first_link_id, first_campaign_id, first_source, first_medium, first_content, first_lead_id, attributed_at)
      SELECT 'pay_' || i, 'prj_bench', 'stripe', CASE WHEN k < 5 THEN 'refund' WHEN k < 40 THEN 'renewal' ELSE 'sale' END, 'pi_' || i,
        CASE WHEN k < 5 THEN -2900 ELSE 2900 END, 0, CASE WHEN k < 5 THEN -2900 ELSE 2900 END, CASE WHEN cur = 0 THEN 'EUR' ELSE 'USD' END,
        ${start} + i * ${Math.floor(span / PAYMENTS)}, 0, CASE WHEN c < 200 THEN 'metadata_link' ELSE 'unattributed' END,
        ${contextColumns}, ${contextColumns}, 0 FROM rows`);
    for (const model of ["last", "first"]) {
      const prefix = model === "first" ? "first_" : "";
      db.exec(`INSERT INTO payment_stats_hourly (project_id, hour, model, link_id, campaign_id, source, medium, content, lead_id, currency, payments, revenue, refunds)
        SELECT project_id, occurred_at / 3600000 * 3600000, '${model}', ifnull(${prefix}link_id, ''), ifnull(${prefix}campaign_id, ''), ifnull(${prefix}source, ''),
          ifnull(${prefix}medium, ''), ifnull(${prefix}content, ''), ifnull(${prefix}lead_id, ''), currency,
          sum(kind IN ('sale', 'renewal')), sum(CASE WHEN kind IN ('sale', 'renewal') THEN net ELSE 0 END), sum(CASE WHEN kind IN ('refund', 'dispute') THEN -net ELSE 0 END)
        FROM payments GROUP BY 1, 2, 4, 5, 6, 7, 8, 9, 10`);
    }
    db.exec("ANALYZE");
    const paymentSeconds = (performance.now() - t0) / 1000;
    const count = (sql: string) => (db.query(sql).get() as { n: number }).n;
    console.log(
      `\nSeeded ${count("SELECT count(*) AS n FROM events").toLocaleString()} events in ${eventSeconds.toFixed(1)} s and ${count("SELECT count(*) AS n FROM payments").toLocaleString()} payments in ${paymentSeconds.toFixed(1)} s over 365 days;`,
      `rollups: ${count("SELECT count(*) AS n FROM context_stats_hourly").toLocaleString()} traffic rows, ${count("SELECT count(*) AS n FROM payment_stats_hourly").toLocaleString()} revenue rows.`,
    );

    for (const [label, from] of [
      ["last 30 days (the default)", now - 30 * 86_400_000],
      ["last 365 days", start],
    ] as const) {
      console.log(`\nGET /reports/attribution, ${label}: median of ${REPORT_REPEATS} runs (ms); baseline = a bare count over the hourly traffic rows of the range (what a report without daily and monthly rollups would have to read)`);
      const baseline: number[] = [];
      for (let i = 0; i < REPORT_REPEATS; i++) {
        const t = performance.now();
        db.query("SELECT count(*) AS n, sum(clicks) FROM context_stats_hourly WHERE project_id = 'prj_bench' AND hour >= ?").get(from);
        baseline.push(performance.now() - t);
      }
      console.log(`  baseline (hourly rows counted, nothing grouped): ${median(baseline).toFixed(1)} ms`);
      for (const groupBy of GROUP_BY) {
        const line: string[] = [];
        for (const model of MODELS) {
          const times: number[] = [];
          let rows = 0;
          for (let i = 0; i < REPORT_REPEATS; i++) {
            const t = performance.now();
            rows = attributionReport(db, { id: "prj_bench", currency: "USD", timezone: "UTC" }, { groupBy, from, to: now + 1, model }, now).length;
            times.push(performance.now() - t);
          }
          line.push(`${model}: ${median(times).toFixed(1).padStart(7)} ms (${rows} rows)`);
        }
        console.log(`  groupBy=${groupBy.padEnd(9)} ${line.join("   ")}`);
      }
    }
    console.log("goal: < 300 ms");
    db.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The context of link `c` (c >= 200: a visit without context), as the tracker stores it. */
function contextOf(c: number): (string | null)[] {
  if (c >= 200) return [null, null, null, null, null, null];
  return [`lnk_${c}`, `campaign_${c % 25}`, `source_${c % 12}`, `medium_${c % 5}`, `content_${c % 40}`, `lead_${c % 150}`];
}

/**
 * Inserts EVENTS raw events in time order (batched transactions, indexes rebuilt afterwards, as a
 * bulk import would) and the hourly traffic rollup computed from exactly those events.
 */
function seedEvents(db: Database, start: number, span: number) {
  db.exec("DROP INDEX events_project_ts; DROP INDEX events_visitor");
  const insert = db.prepare(
    "INSERT INTO events (project_id, ts, name, visitor_id, session_id, path, link_id, campaign_id, source, medium, content, lead_id) VALUES ('prj_bench', ?, ?, ?, ?, '/', ?, ?, ?, ?, ?, ?)",
  );
  const contexts = Array.from({ length: 201 }, (_, c) => contextOf(c));
  const step = span / EVENTS;
  let random = 0x9e3779b9;
  const next = () => {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return random >>> 0;
  };
  const counters = new Map<number, number[]>(); // per context, this hour: clicks, visitors, pageviews, signups
  const seenToday = new Map<number, Set<number>>(); // per context, visitors counted today
  let hour = -1;
  let day = -1;
  const flushHour = () => {
    for (const [c, [clicks, , pageviews, signups]] of counters) {
      const [linkId, campaignId, source, medium, content, leadId] = contexts[c]!;
      const context = { linkId: linkId ?? null, campaignId: campaignId ?? null, source: source ?? null, medium: medium ?? null, content: content ?? null, leadId: leadId ?? null };
      runJobOnSqlite(db, (tx) => bumpRollup(tx, "prj_bench", hour, context, { clicks, pageviews, signups }));
    }
    counters.clear();
  };
  const BATCH = 20_000;
  for (let offset = 0; offset < EVENTS; offset += BATCH) {
    db.transaction(() => {
      for (let i = offset; i < Math.min(EVENTS, offset + BATCH); i++) {
        const ts = Math.floor(start + i * step);
        const h = ts - (ts % 3_600_000);
        if (h !== hour) {
          if (hour >= 0) flushHour();
          hour = h;
          const d = ts - (ts % 86_400_000);
          if (d !== day) {
            day = d;
            seenToday.clear();
          }
        }
        const r = next();
        const c = Math.min(r % 250, 200); // 200 links, and a fifth of the traffic without context
        const visitor = next() % 400_000;
        const name = r % 10 === 0 ? "link_clicked" : r % 50 === 1 ? "signup_completed" : "page_view";
        insert.run(ts, name, `v_${visitor}`, `s_${visitor}_${day}`, ...(contexts[c] as [string, string, string, string, string, string]));
        const counter = counters.get(c) ?? [0, 0, 0, 0];
        const seen = seenToday.get(c) ?? new Set<number>();
        seenToday.set(c, seen);
        if (!seen.has(visitor)) {
          seen.add(visitor);
          counter[1]! += 1;
        }
        if (name === "link_clicked") counter[0]! += 1;
        else if (name === "page_view") counter[2]! += 1;
        else counter[3]! += 1;
        counters.set(c, counter);
      }
      if (offset + BATCH >= EVENTS) flushHour();
    })();
  }
  db.exec("CREATE INDEX events_project_ts ON events(project_id, ts); CREATE INDEX events_visitor ON events(project_id, visitor_id, ts)");
}

async function main() {
  console.log(`Payments benchmark on ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}`);
  const only = process.env.BENCH_ONLY;
  if (only !== "report") await webhookBenchmark();
  if (only !== "webhooks") await reportBenchmark();
}
