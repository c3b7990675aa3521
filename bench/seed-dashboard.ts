// Seeds a data dir with a realistic journey history (links, clicks, sessions, events, profiles and the
// hourly rollup kept consistent with them) fast enough for a benchmark: batched inserts, one pass in time order.
import { runJobOnSqlite } from "../src/db/storage/jobs.ts";
import type { Database } from "bun:sqlite";
import { loadConfig } from "../src/config.ts";
import { openInstance } from "../src/instance.ts";
import { createProject } from "../src/projects/service.ts";
import { createUser } from "../src/auth/users.ts";
import { DAY_MS, HOUR_MS } from "../src/dashboard/pages/time.ts";
import { bumpRollup } from "../src/tracking/events.ts";
import { sqliteStorage } from "../src/db/storage/sqlite.ts";

export interface SeedOptions {
  projectId: string;
  events: number;
  /** The history ends here (exclusive) and spans `days` before it. */
  end: number;
  days: number;
  links?: number;
  seed?: number;
}

export interface SeedResult {
  events: number;
  sessions: number;
  clicks: number;
  links: number;
  profiles: number;
  rollupRows: number;
}

/** A small deterministic PRNG (mulberry32) so runs are comparable. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SOURCES = ["twitter", "newsletter", "linkedin", "reddit", "youtube", "hn", "producthunt", "google", "partner", "podcast"];
const MEDIUMS = ["social", "email", "cpc", "referral", "video"];
const PATHS = ["/", "/pricing", "/blog/launch", "/docs", "/features", "/about", "/blog/attribution"];

interface Context {
  linkId: string;
  campaignId: string;
  source: string;
  medium: string;
  content: string;
  leadId: string;
}
const NO_CONTEXT: Context = { linkId: "", campaignId: "", source: "", medium: "", content: "", leadId: "" };

export function seedJourneys(db: Database, options: SeedOptions): SeedResult {
  const rnd = random(options.seed ?? 42);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  // Skewed choice: a few links get most of the traffic, like real campaigns.
  const skewed = <T>(items: readonly T[]) => items[Math.floor(items.length * rnd() ** 3)]!;
  const start = options.end - options.days * DAY_MS;
  const linkCount = options.links ?? 2000;

  const contexts: Context[] = [];
  const insertLink = db.prepare(
    `INSERT INTO links (id, project_id, slug, destination_url, campaign_id, source, medium, content, lead_id, title, archived, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < linkCount; i++) {
      const ctx: Context = {
        linkId: `lnk_seed${i}`,
        campaignId: `campaign_${i % 60}`,
        source: SOURCES[i % SOURCES.length]!,
        medium: MEDIUMS[i % MEDIUMS.length]!,
        content: `variant_${i % 25}`,
        leadId: i % 4 === 0 ? `lead_${i}` : "",
      };
      contexts.push(ctx);
      insertLink.run(ctx.linkId, options.projectId, `seed-${i}`, `https://example.com/landing/${i}`, ctx.campaignId, ctx.source, ctx.medium, ctx.content, ctx.leadId || null, `Seed link ${i}`, start, start);
    }
  })();

  // Events go in 100 rows per statement: the per-call overhead dominates single-row inserts.
  const EVENT_BATCH = 100;
  const eventSql = (rows: number) =>
    `INSERT INTO events (project_id, ts, name, visitor_id, session_id, profile_id, path, props, link_id, campaign_id, source, medium, content, lead_id) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`;
  const insertEvents = db.prepare(eventSql(EVENT_BATCH));
  let pending: (string | number | null)[] = [];
  const flushEvents = () => {
    if (pending.length === 0) return;
    const rows = pending.length / 14;
    (rows === EVENT_BATCH ? insertEvents : db.prepare(eventSql(rows))).run(...pending);
    pending = [];
  };
  const insertSession = db.prepare(
    `INSERT INTO sessions (id, project_id, visitor_id, started_at, last_seen_at, click_id, link_id, campaign_id, source, medium, content, lead_id, entry_path, browser, os, device, country)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Chrome', 'macOS', 'desktop', 'DE')`,
  );
  const insertClick = db.prepare(
    `INSERT INTO clicks (id, project_id, link_id, ts, visitor_id, referrer_host, browser, os, device, country) VALUES (?, ?, ?, ?, ?, ?, 'Chrome', 'macOS', 'desktop', 'DE')`,
  );
  const insertProfile = db.prepare(`INSERT OR IGNORE INTO profiles (project_id, id, email, name, traits, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?)`);
  const insertProfileVisitor = db.prepare(`INSERT OR IGNORE INTO profile_visitors (project_id, visitor_id, profile_id, identified_at) VALUES (?, ?, ?, ?)`);

  const hours = options.days * 24;
  const eventsPerHour = options.events / hours;
  const visitorPool = Math.max(1000, Math.round(options.events / 8));
  let events = 0;
  let sessions = 0;
  let clicks = 0;
  let profiles = 0;
  let rollupRows = 0;
  const pid = options.projectId;

  for (let h = 0; h < hours; h++) {
    const hour = start + h * HOUR_MS;
    const rollup = new Map<string, { ctx: Context; c: number[] }>();
    const count = (ctx: Context, field: number, n = 1) => {
      const key = `${ctx.linkId}|${ctx.campaignId}|${ctx.source}|${ctx.medium}|${ctx.content}|${ctx.leadId}`;
      let entry = rollup.get(key);
      if (!entry) rollup.set(key, (entry = { ctx, c: [0, 0, 0, 0, 0, 0, 0] }));
      entry.c[field]! += n;
      return key;
    };
    // Daily rhythm: more traffic in the afternoon, less at night.
    const target = Math.round(eventsPerHour * (0.6 + 0.8 * Math.sin(((h % 24) / 24) * Math.PI)));
    db.transaction(() => {
      let made = 0;
      while (made < target) {
        const sessionId = `ses_${sessions++}`;
        const visitorId = `vis_${Math.floor(rnd() * visitorPool)}`;
        const fromLink = rnd() < 0.55;
        const ctx = fromLink ? skewed(contexts) : rnd() < 0.3 ? { ...NO_CONTEXT, source: pick(SOURCES), medium: "referral" } : NO_CONTEXT;
        let ts = hour + Math.floor(rnd() * (HOUR_MS - 600_000));
        count(ctx, 2);
        const event = (name: string, path: string | null, profileId: string | null = null, props: string | null = null) => {
          pending.push(pid, ts, name, visitorId, sessionId, profileId, path, props, ctx.linkId || null, ctx.campaignId || null, ctx.source || null, ctx.medium || null, ctx.content || null, ctx.leadId || null);
          if (pending.length === EVENT_BATCH * 14) flushEvents();
          ts += 1000 + Math.floor(rnd() * 30_000);
          made++;
        };
        let clickId: string | null = null;
        if (fromLink) {
          clickId = `clk_${clicks++}`;
          insertClick.run(clickId, pid, ctx.linkId, ts, visitorId, pick(["t.co", "mail.google.com", "www.linkedin.com", null]));
          event("link_clicked", null);
          count(ctx, 0);
        }
        const views = 1 + Math.floor(rnd() * 4);
        for (let v = 0; v < views; v++) {
          const path = pick(PATHS);
          event("page_view", path);
          count(ctx, 3);
          if (path === "/pricing") {
            event("pricing_view", path);
            count(ctx, 4);
          }
        }
        if (rnd() < 0.08) {
          event("signup_started", "/signup");
          count(ctx, 6);
          if (rnd() < 0.6) {
            const profileId = `usr_${visitorId}`;
            event("identify", "/signup", profileId, null);
            event("signup_completed", "/welcome", profileId);
            count(ctx, 5);
            profiles += insertProfile.run(pid, profileId, `${visitorId}@example.com`, `User ${visitorId}`, ts, ts).changes;
            insertProfileVisitor.run(pid, visitorId, profileId, ts);
            if (rnd() < 0.3) event("payment_completed", "/welcome", profileId, JSON.stringify({ plan: "pro" }));
          }
        }
        insertSession.run(sessionId, pid, visitorId, hour, ts, clickId, ctx.linkId || null, ctx.campaignId || null, ctx.source || null, ctx.medium || null, ctx.content || null, ctx.leadId || null, "/");
      }
      flushEvents();
      events += made;
      for (const { ctx, c } of rollup.values()) {
        runJobOnSqlite(db, (tx) => bumpRollup(tx, pid, hour, ctx, {
          clicks: c[0]!,
          sessions: c[2]!,
          pageviews: c[3]!,
          pricingViews: c[4]!,
          signups: c[5]!,
          signupsStarted: c[6]!,
        }));
        rollupRows++;
      }
    })();
  }
  // Tracking keeps per-link counters beside the rollup (migration 003); link pages read them.
  db.query(
    `INSERT OR REPLACE INTO link_counters (link_id, project_id, clicks, last_clicked_at)
     SELECT link_id, project_id, count(*), max(ts) FROM clicks WHERE project_id = ? GROUP BY link_id, project_id`,
  ).run(pid);
  return { events, sessions, clicks, links: linkCount, profiles, rollupRows };
}

export interface PaymentSeedOptions {
  projectId: string;
  payments: number;
  end: number;
  days: number;
  seed?: number;
}

/** `rate`: US dollars per whole unit, as an ECB fixing would give; `centsPerMinor` folds in the currency's exponent (JPY has none). */
const CURRENCIES = [
  { code: "USD", weight: 0.8, amounts: [900, 1900, 4900, 9900], rate: 1, centsPerMinor: 1 },
  { code: "EUR", weight: 0.15, amounts: [900, 2900, 7900], rate: 1.08, centsPerMinor: 1.08 },
  { code: "JPY", weight: 0.05, amounts: [1500, 4800, 9800], rate: 1.08 / 160.5, centsPerMinor: (1.08 / 160.5) * 100 },
];
const METHODS = ["metadata_link", "metadata_link", "metadata_context", "session", "identify_email", "customer", "unattributed", "unattributed"] as const;

/**
 * Seeds the payments ledger with its revenue rollup and, for Stripe and Polar entries, the raw provider
 * event (a short payload) each came from. Contexts come from the seeded links so reports join traffic and money.
 */
export function seedPayments(db: Database, options: PaymentSeedOptions): { payments: number; providerEvents: number; rollupRows: number } {
  const rnd = random(options.seed ?? 7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  const skewed = <T>(items: readonly T[]) => items[Math.floor(items.length * rnd() ** 3)]!;
  const start = options.end - options.days * DAY_MS;
  const links = db
    .query<{ id: string; campaign_id: string; source: string; medium: string; content: string; lead_id: string | null }, [string]>(
      "SELECT id, campaign_id, source, medium, content, lead_id FROM links WHERE project_id = ?",
    )
    .all(options.projectId);
  const insertPayment = db.prepare(
    `INSERT INTO payments (id, project_id, provider, kind, payment_key, event_id, order_id, customer_id, customer_email, amount, tax, net, currency,
       metadata, description, occurred_at, received_at, method, link_id, campaign_id, source, medium, content, lead_id,
       first_link_id, first_campaign_id, first_source, first_medium, first_content, first_lead_id, explanation, attributed_at,
       reporting_currency, reporting_amount, reporting_net, rate, rate_source, rate_date)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, ?, ?)`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO provider_events (project_id, provider, event_id, type, via, received_at, outcome, payment_ids, payload) VALUES (?, ?, ?, ?, 'webhook', ?, 'recorded a payment', ?, ?)`,
  );
  const linkEventToPayment = db.prepare("INSERT INTO provider_event_payments (payment_id, event_row) VALUES (?, ?)");
  const insertRollup = db.prepare(
    `INSERT INTO payment_stats_hourly (project_id, hour, model, link_id, campaign_id, source, medium, content, lead_id, currency, payments, revenue, refunds,
       reporting_revenue, reporting_refunds, renewals, renewal_revenue, reporting_renewal_revenue)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (project_id, hour, model, link_id, campaign_id, source, medium, content, lead_id, currency) DO UPDATE SET
       payments = payments + excluded.payments, revenue = revenue + excluded.revenue, refunds = refunds + excluded.refunds,
       reporting_revenue = reporting_revenue + excluded.reporting_revenue, reporting_refunds = reporting_refunds + excluded.reporting_refunds,
       renewals = renewals + excluded.renewals, renewal_revenue = renewal_revenue + excluded.renewal_revenue,
       reporting_renewal_revenue = reporting_renewal_revenue + excluded.reporting_renewal_revenue`,
  );
  const pid = options.projectId;
  const hours = options.days * 24;
  const perHour = options.payments / hours;
  let made = 0;
  let providerEvents = 0;
  let rollupRows = 0;
  for (let h = 0; h < hours && made < options.payments; h++) {
    const hour = start + h * HOUR_MS;
    const target = Math.min(options.payments - made, Math.round(perHour * (h + 1)) - made);
    const rollup = new Map<string, (string | number)[]>();
    db.transaction(() => {
      for (let i = 0; i < target; i++) {
        const n = made + i;
        const r = rnd();
        const currency = r < CURRENCIES[0]!.weight ? CURRENCIES[0]! : r < CURRENCIES[0]!.weight + CURRENCIES[1]!.weight ? CURRENCIES[1]! : CURRENCIES[2]!;
        const k = rnd();
        const kind = k < 0.7 ? "sale" : k < 0.9 ? "renewal" : k < 0.98 ? "refund" : "dispute";
        const gross = pick(currency.amounts);
        const amount = kind === "refund" || kind === "dispute" ? -gross : gross;
        const method = pick(METHODS);
        const link = method === "unattributed" || links.length === 0 ? null : skewed(links);
        const provider = rnd() < 0.6 ? "stripe" : rnd() < 0.5 ? "polar" : "api";
        const id = `pay_seed${n}`;
        const eventId = provider === "api" ? null : `evt_seed${n}`;
        const ts = hour + Math.floor(rnd() * HOUR_MS);
        const email = `customer${Math.floor(rnd() * 200_000)}@example.com`;
        const ctx = link
          ? [method === "metadata_context" ? null : link.id, link.campaign_id, link.source, link.medium, link.content, link.lead_id]
          : [null, null, null, null, null, null];
        const explanation = JSON.stringify(link ? [`Checkout metadata names link ${link.id}.`] : ["No metadata, session or identified email applies."]);
        // Converted as the ledger stores it (a refund at its own day's rate here: the seeded rates do not move).
        const reporting = Math.round(amount * currency.centsPerMinor);
        const rateDate = new Date(ts).toISOString().slice(0, 10);
        insertPayment.run(id, pid, provider, kind, `key_${n}`, eventId, `order_${n}`, `cus_${n % 150_000}`, email, amount, amount, currency.code, link ? JSON.stringify({ linkId: link.id }) : "{}", ts, ts, method, ...ctx, ...ctx, explanation, ts,
          reporting, reporting, currency.rate, currency.code === "USD" ? "same" : "ecb", rateDate);
        if (eventId) {
          const event = insertEvent.run(pid, provider, eventId, provider === "stripe" ? "invoice.paid" : "order.paid", ts, JSON.stringify([id]), JSON.stringify({ id: eventId, type: "invoice.paid", data: { object: { id: `in_${n}`, amount_paid: gross, currency: currency.code.toLowerCase() } } }));
          linkEventToPayment.run(id, Number(event.lastInsertRowid));
          providerEvents++;
        }
        const key = `${ctx.join("|")}|${currency.code}`;
        let entry = rollup.get(key);
        // payments, revenue, refunds, reporting revenue and refunds, renewals, renewal revenue and its reporting value
        if (!entry) rollup.set(key, (entry = [...ctx.map((v) => v ?? ""), currency.code, 0, 0, 0, 0, 0, 0, 0, 0]));
        const sums = entry as number[];
        if (amount >= 0) {
          sums[7]! += 1;
          sums[8]! += amount;
          sums[10]! += reporting;
          if (kind === "renewal") {
            sums[12]! += 1;
            sums[13]! += amount;
            sums[14]! += reporting;
          }
        } else {
          sums[9]! += -amount;
          sums[11]! += -reporting;
        }
      }
      for (const [, entry] of rollup) {
        for (const model of ["last", "first"]) insertRollup.run(pid, hour, model, ...(entry as [string, string, string, string, string, string, string, ...number[]]));
        rollupRows += 2;
      }
    })();
    made += target;
  }
  return { payments: made, providerEvents, rollupRows };
}

/**
 * Fills a new data dir with one project's journeys and payments as a bulk load: no journal, no fsync,
 * indexes built once at the end instead of row by row. Prints what it seeded and how long it took.
 */
export async function seedDataDir(
  dataDir: string,
  options: { events: number; payments: number; end: number; days: number; owner?: { email: string; password: string } },
): Promise<void> {
  const instance = openInstance(loadConfig({ BANTICO_DATA_DIR: dataDir, PORT: "0" }));
  const db = instance.ctx.db;
  const project = await createProject(sqliteStorage(db), { name: "Bench" });
  if (options.owner) await createUser(instance.ctx.storage, { ...options.owner, role: "owner" });
  db.exec("PRAGMA journal_mode = OFF");
  db.exec("PRAGMA synchronous = OFF");
  db.exec("PRAGMA cache_size = -1000000");
  const indexes = db
    .query<{ name: string; sql: string }, []>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('events', 'sessions', 'clicks', 'payments', 'provider_events')",
    )
    .all();
  for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
  const { end, days } = options;
  let t = performance.now();
  const journeys = seedJourneys(db, { projectId: project.id, events: options.events, end, days });
  console.log(
    `seeded ${journeys.events.toLocaleString("en")} events, ${journeys.sessions.toLocaleString("en")} sessions, ${journeys.clicks.toLocaleString("en")} clicks, ` +
      `${journeys.profiles.toLocaleString("en")} profiles, ${journeys.rollupRows.toLocaleString("en")} traffic rollup rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  t = performance.now();
  const payments = seedPayments(db, { projectId: project.id, payments: options.payments, end, days });
  console.log(
    `seeded ${payments.payments.toLocaleString("en")} payments, ${payments.providerEvents.toLocaleString("en")} provider events, ${payments.rollupRows.toLocaleString("en")} revenue rollup rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  t = performance.now();
  for (const index of indexes) db.exec(index.sql);
  console.log(`built ${indexes.length} indexes in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  db.exec("PRAGMA journal_mode = WAL");
  instance.close();
}
