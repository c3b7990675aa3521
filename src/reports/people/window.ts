// Who was there in a window of time, read from the raw journey and the ledger: one visit per visitor,
// session and attribution context with the first time it reached each funnel step, and the window's
// payments with the person they belong to. What reports count people from (SPEC §10).
import type { Database } from "bun:sqlite";
import { readText } from "../../db/postgres/dialect.ts";
import type { Engine, Storage } from "../../db/storage/storage.ts";
import { NotPrimed } from "../source.ts";
import { hashId } from "./distinct.ts";
import { COOKIELESS_ID_PATTERN } from "../../tracking/visitors.ts";
import { internString, internTuple } from "../interned.ts";

/** The attribution dimensions, in the order of a context tuple. */
export const ATTRIBUTION_DIMENSIONS = ["link", "campaign", "source", "medium", "content", "lead"] as const;
export type AttributionDimension = (typeof ATTRIBUTION_DIMENSIONS)[number];
/** What a session says about a visit beside its attribution. */
export const VISIT_DIMENSIONS = ["referrer", "entryPage", "country", "device", "browser", "os"] as const;
export type VisitDimension = (typeof VISIT_DIMENSIONS)[number];

/** link, campaign, source, medium, content, lead; '' where none. */
export type Context = readonly [string, string, string, string, string, string];
/** referrer, entry page, country, device, browser, os; '' where unknown. */
export type VisitTraits = readonly [string, string, string, string, string, string];

/** The journey steps a visit records, in journey order (payment_completed comes from the ledger). */
export const VISIT_STEPS = ["link_clicked", "page_view", "pricing_view", "signup_started", "signup_completed"] as const;
export const SIGNED_UP = VISIT_STEPS.indexOf("signup_completed");

/** A sale, its payer's fields inline. */
export interface Sale extends Payer {
  at: number;
  /** Index into the window's contexts: last touch and first touch. */
  context: number;
  firstContext: number;
}

/** Who paid: the visitor attribution found (resolved to its person when counting), else a profile, email or the payment itself. */
export interface Payer {
  visitor: number | null;
  person: number;
}

/** A payment, its payer's fields inline (one object per payment, not two). */
export interface Money extends Payer {
  /** sale, renewal, refund or dispute */
  kind: string;
  at: number;
  currency: string;
  /** Net of tax, minor units; negative for refunds and disputes. */
  net: number;
  /** The same in the reporting currency; null while no rate is known (SPEC §5). */
  reportingNet: number | null;
  context: number;
  firstContext: number;
}

export interface PeopleWindow {
  /** Unique per reading: what results computed from this window are remembered by. */
  id: number;
  start: number;
  end: number;
  contexts: Context[];
  traits: VisitTraits[];
  /** One entry per visit, column by column. */
  visitor: Float64Array;
  context: Uint32Array;
  trait: Uint32Array;
  /** VISIT_STEPS.length entries per visit: when the visit first reached each step, NaN if it did not. */
  stepAt: Float64Array;
  pageviews: Uint32Array;
  sales: Sale[];
  money: Money[];
  /** Whether any visitor here has a cookieless id (a new id each day). */
  cookieless: boolean;
  pages: PagesViewed;
}

/** Pages viewed: one row per visitor and page (per part of a window read in parts), as read. */
interface PageRows {
  paths: string[];
  visitor: Float64Array;
  path: Uint32Array;
  views: Uint32Array;
}

/** Page rows ordered by `floor(visitor / visitorScale)`: a visitor's rows are found by a binary search (`eachPageOf`). */
export interface PageViews extends PageRows {
  visitorScale: number;
}

/** A visitor's person: the profile it identified as, else itself (`size`: how many visitors are linked to a profile). */
export type PersonOf = ((visitor: number) => number) & { size: number };

export const payerPerson = (payer: Payer, personOf: PersonOf) => (payer.visitor === null ? payer.person : personOf(payer.visitor));

export const visitorHash = (visitorId: string) => hashId(visitorId);
export const profileHash = (profileId: string) => hashId(`\u0001profile\u0001${profileId}`);
const emailHash = (email: string) => hashId(`\u0001email\u0001${email}`);
const paymentHash = (paymentId: string) => hashId(`\u0001payment\u0001${paymentId}`);

// Server-made journey rows are not visits: a payment_completed is written by attribution, not by the person.
// A click whose landing never reported has no session: its click row says where it came from and on what device.
const VISITS = readText((engine) => `SELECT v.visitor_id AS visitorId, v.link_id AS link, v.campaign_id AS campaign, v.source, v.medium, v.content, v.lead_id AS lead,
    v.clicked, v.viewed, v.pricing, v.started, v.signed, v.pageviews,
    coalesce(s.referrer_host, c.referrer_host) AS referrer, s.entry_path AS entryPage, coalesce(s.country, c.country) AS country,
    coalesce(s.device, c.device) AS device, coalesce(s.browser, c.browser) AS browser, coalesce(s.os, c.os) AS os
  FROM (SELECT visitor_id, session_id, link_id, campaign_id, source, medium, content, lead_id,
      CASE WHEN session_id IS NULL THEN max(CASE name WHEN 'link_clicked' THEN ${engine === "sqlite" ? "props ->> '$.clickId'" : "CAST(props AS jsonb) ->> 'clickId'"} END) END AS clickId,
      min(CASE name WHEN 'link_clicked' THEN ts END) AS clicked, min(CASE name WHEN 'page_view' THEN ts END) AS viewed,
      min(CASE name WHEN 'pricing_view' THEN ts END) AS pricing, min(CASE name WHEN 'signup_started' THEN ts END) AS started,
      min(CASE name WHEN 'signup_completed' THEN ts END) AS signed, ${engine === "sqlite" ? "sum(name = 'page_view')" : "count(*) FILTER (WHERE name = 'page_view')"} AS pageviews
    FROM events WHERE project_id = ? AND ts >= ? AND ts < ? AND visitor_id IS NOT NULL AND name <> 'payment_completed'
    GROUP BY visitor_id, session_id, link_id, campaign_id, source, medium, content, lead_id) v
  LEFT JOIN sessions s ON s.id = v.session_id
  LEFT JOIN clicks c ON c.id = v.clickId`);

type Nullable<T> = { [K in keyof T]: T[K] | null };
type VisitRow = Nullable<Record<AttributionDimension | VisitDimension, string>> & {
  visitorId: string;
  clicked: number | null;
  viewed: number | null;
  pricing: number | null;
  started: number | null;
  signed: number | null;
  pageviews: number;
};

// A payment's person (SPEC §10): the profile or visitor its attribution found, else the profile with the customer's email, else that email.
const PAYMENTS = readText((engine) => `SELECT p.id, p.kind, p.occurred_at AS at, p.currency, p.net, CASE WHEN p.rate_source IN ('none') OR p.rate_source IS NULL THEN NULL ELSE p.reporting_net END AS reportingNet, p.profile_id AS profileId, p.visitor_id AS visitorId,
    p.customer_email AS email, (SELECT min(pe.id) FROM profiles pe${engine === "sqlite" ? " INDEXED BY profiles_email" : ""} WHERE pe.project_id = p.project_id AND pe.email = p.customer_email) AS emailProfile,
    p.link_id AS link, p.campaign_id AS campaign, p.source, p.medium, p.content, p.lead_id AS lead,
    p.first_link_id AS firstLink, p.first_campaign_id AS firstCampaign, p.first_source AS firstSource, p.first_medium AS firstMedium,
    p.first_content AS firstContent, p.first_lead_id AS firstLead
  FROM payments p WHERE p.project_id = ? AND p.occurred_at >= ? AND p.occurred_at < ?`);

type PaymentRow = Nullable<Record<AttributionDimension, string>> & {
  id: string;
  kind: string;
  at: number;
  currency: string;
  net: number;
  reportingNet: number | null;
  profileId: string | null;
  visitorId: string | null;
  email: string | null;
  emailProfile: string | null;
  firstLink: string | null;
  firstCampaign: string | null;
  firstSource: string | null;
  firstMedium: string | null;
  firstContent: string | null;
  firstLead: string | null;
};

const HOUR_MS = 3_600_000;
const PAGES = readText(() => `SELECT visitor_id AS visitorId, path, count(*) AS views FROM events
  WHERE project_id = ? AND ts >= ? AND ts < ? AND name = 'page_view' AND visitor_id IS NOT NULL GROUP BY visitor_id, path`);

/** Interns tuples so a window keeps each distinct context (or set of traits) once. */
/** Numbers a window's distinct tuples; the tuples kept are the copies shared across windows. */
class Interner<T extends readonly string[]> {
  readonly list: T[] = [];
  private readonly index = new Map<string, number>();
  of(tuple: T): number {
    const key = tuple.join("\u0000");
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(internTuple(tuple, key));
      this.index.set(key, i);
    }
    return i;
  }
}

let windowsRead = 0;

/** A window with room for `n` visits, each read gets a new id. */
function emptyWindow(start: number, end: number, n: number, contexts: Interner<Context>, traits: Interner<VisitTraits>, pages: PagesViewed): PeopleWindow {
  return {
    id: ++windowsRead,
    start,
    end,
    contexts: contexts.list,
    traits: traits.list,
    visitor: new Float64Array(n),
    context: new Uint32Array(n),
    trait: new Uint32Array(n),
    stepAt: new Float64Array(n * VISIT_STEPS.length),
    pageviews: new Uint32Array(n),
    sales: [],
    money: [],
    cookieless: false,
    pages,
  };
}

/** Reads the window [start, end) of a project. */
export function readWindow(db: Database, projectId: string, start: number, end: number): PeopleWindow {
  const visits = db.query<VisitRow, [string, number, number]>(VISITS.sqlite).all(projectId, start, end);
  const payments = db.query<PaymentRow, [string, number, number]>(PAYMENTS.sqlite).all(projectId, start, end);
  return windowOf(start, end, visits, payments, new PagesViewed(db, projectId, start, end));
}

/** The same window read through a storage (PostgreSQL's prime): the same SQL, the same structure from the same rows. */
export async function readWindowFrom(storage: Storage, projectId: string, start: number, end: number): Promise<PeopleWindow> {
  const params = [projectId, start, end];
  const [visits, payments] = await Promise.all([storage.all<VisitRow>(VISITS[storage.engine], params), storage.all<PaymentRow>(PAYMENTS[storage.engine], params)]);
  return windowOf(start, end, visits, payments, new PagesViewed(null, projectId, start, end, storage));
}

/** A window from its rows: one per visit (VISITS) and one per payment (PAYMENTS). */
function windowOf(start: number, end: number, rows: VisitRow[], payments: PaymentRow[], pages: PagesViewed): PeopleWindow {
  const contexts = new Interner<Context>();
  const traits = new Interner<VisitTraits>();
  const n = rows.length;
  const window = emptyWindow(start, end, n, contexts, traits, pages);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    window.visitor[i] = visitorHash(r.visitorId);
    if (!window.cookieless && COOKIELESS_ID_PATTERN.test(r.visitorId)) window.cookieless = true;
    window.context[i] = contexts.of([r.link ?? "", r.campaign ?? "", r.source ?? "", r.medium ?? "", r.content ?? "", r.lead ?? ""]);
    window.trait[i] = traits.of([r.referrer ?? "", r.entryPage ?? "", r.country ?? "", r.device ?? "", r.browser ?? "", r.os ?? ""]);
    const at = i * VISIT_STEPS.length;
    window.stepAt[at] = r.clicked ?? NaN;
    window.stepAt[at + 1] = r.viewed ?? NaN;
    window.stepAt[at + 2] = r.pricing ?? NaN;
    window.stepAt[at + 3] = r.started ?? NaN;
    window.stepAt[at + 4] = r.signed ?? NaN;
    window.pageviews[i] = r.pageviews;
  }
  for (const p of payments) {
    const visitor = !p.profileId && p.visitorId ? visitorHash(p.visitorId) : null;
    const person = p.profileId ? profileHash(p.profileId) : p.emailProfile ? profileHash(p.emailProfile) : p.email ? emailHash(p.email) : paymentHash(p.id);
    const context = contexts.of([p.link ?? "", p.campaign ?? "", p.source ?? "", p.medium ?? "", p.content ?? "", p.lead ?? ""]);
    const firstContext = contexts.of([p.firstLink ?? "", p.firstCampaign ?? "", p.firstSource ?? "", p.firstMedium ?? "", p.firstContent ?? "", p.firstLead ?? ""]);
    const money: Money = { visitor, person, kind: internString(p.kind), at: p.at, currency: internString(p.currency), net: p.net, reportingNet: p.reportingNet, context, firstContext };
    window.money.push(money);
    // A sale is its money row, not a copy: a million payments are a million objects fewer to keep and collect.
    if (p.kind === "sale") window.sales.push(money);
  }
  return window;
}

/**
 * The pages viewed in a window, read on first use: they are the largest part of a window and only
 * the pages report needs them.
 */
export class PagesViewed {
  private views: PageViews | null = null;
  /** `db` null: a window read through `storage`, whose pages its prime (`prime`) or the warm-up (`warm`) reads. */
  constructor(
    private readonly db: Database | null,
    private readonly projectId: string,
    private readonly start: number,
    private readonly end: number,
    private readonly storage: Storage | null = null,
  ) {}

  /** The pages of another span of the same project (a window merged from parts). */
  over(start: number, end: number): PagesViewed {
    return new PagesViewed(this.db, this.projectId, start, end, this.storage);
  }

  private sqlite(): Database {
    if (!this.db) throw new NotPrimed("a window's pages viewed");
    return this.db;
  }

  read(): PageViews {
    return (this.views ??= byVisitor(readPages(this.sqlite(), this.projectId, this.start, this.end)));
  }

  /** PostgreSQL's prime: reads them through the storage, once per window read (the same SQL and rows as `read`). */
  async prime(storage: Storage): Promise<void> {
    if (this.views) return;
    const rows = await storage.all<PageRow>(PAGES[storage.engine], [this.projectId, this.start, this.end]);
    this.views ??= byVisitor(pageRowsOf(rows));
  }

  /**
   * Reads them an hour at a time, awaiting `pause()` between hours (a recent day's page views read at
   * once held the event loop ~200 ms); a window read through a storage reads them through it (the
   * warm-up on PostgreSQL).
   */
  async warm(pause: () => Promise<unknown>): Promise<void> {
    const parts: PageRows[] = [];
    const slice = this.db ? HOUR_MS : STORAGE_SLICE_HOURS * HOUR_MS;
    for (let from = this.start; from < this.end && !this.views; from += slice) {
      const to = Math.min(this.end, from + slice);
      parts.push(this.db || !this.storage ? readPages(this.sqlite(), this.projectId, from, to) : pageRowsOf(await this.storage.all<PageRow>(PAGES[this.storage.engine], [this.projectId, from, to])));
      await pause();
    }
    this.views ??= byVisitor(mergePages(parts));
  }
}

/**
 * The rows sorted by visitor, natively: each key packs the top bits of the visitor's 52-bit hash
 * above the row's index, within the 53 bits a double holds exactly.
 */
function byVisitor(rows: PageRows): PageViews {
  const n = rows.visitor.length;
  const indexScale = 2 ** Math.ceil(Math.log2(n + 1));
  // A hash is at most 2^52, so a key is at most 2^52 + n.
  const visitorScale = indexScale;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = Math.floor(rows.visitor[i]! / visitorScale) * indexScale + i;
  keys.sort();
  const out: PageViews = { paths: rows.paths, visitor: new Float64Array(n), path: new Uint32Array(n), views: new Uint32Array(n), visitorScale };
  for (let k = 0; k < n; k++) {
    const i = keys[k]! % indexScale;
    out.visitor[k] = rows.visitor[i]!;
    out.path[k] = rows.path[i]!;
    out.views[k] = rows.views[i]!;
  }
  return out;
}

/** Calls `each` with the index of each row of `visitor`. */
export function eachPageOf(pages: PageViews, visitor: number, each: (row: number) => void): void {
  const top = Math.floor(visitor / pages.visitorScale);
  let lo = 0;
  let hi = pages.visitor.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Math.floor(pages.visitor[mid]! / pages.visitorScale) < top) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < pages.visitor.length && Math.floor(pages.visitor[i]! / pages.visitorScale) === top; i++) if (pages.visitor[i] === visitor) each(i);
}

type PageRow = { visitorId: string; path: string | null; views: number };

function readPages(db: Database, projectId: string, start: number, end: number): PageRows {
  return pageRowsOf(db.query<PageRow, [string, number, number]>(PAGES.sqlite).all(projectId, start, end));
}

/** Page rows from PAGES' rows, on either engine. */
function pageRowsOf(rows: PageRow[]): PageRows {
  const paths = new Interner<readonly [string]>();
  const out: PageRows = { paths: [], visitor: new Float64Array(rows.length), path: new Uint32Array(rows.length), views: new Uint32Array(rows.length) };
  rows.forEach((r, i) => {
    out.visitor[i] = visitorHash(r.visitorId);
    out.path[i] = paths.of([pathKey(r.path)]);
    out.views[i] = r.views;
  });
  out.paths = paths.list.map(([path]) => path);
  return out;
}

/** A page's key: the URL's path without query or fragment (SPEC §6). */
export function pathKey(path: string | null): string {
  if (!path) return "";
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

const PERSONS_PAGE = 20_000;
/**
 * How many hours the warm-up reads at once through a storage (PostgreSQL): each read is a round trip
 * and a query plan, so an hour at a time spent most of the warm-up waiting (2,900 reads for 60 days).
 */
export const STORAGE_SLICE_HOURS = 6;

/**
 * Visitor → profile links of a project, as hashes: who is one person across devices. Read in pages of
 * the primary key, with no sort, yielding between pages (the warm-up pauses there: 140k links read
 * at once held the event loop ~230 ms). The latest identification of a visitor wins, as
 * profileIdOfVisitor decides; the generator returns the links.
 */
export function* readPersons(db: Database, projectId: string, pageSize = PERSONS_PAGE): Generator<void, Map<number, number>> {
  const persons = new PersonsReading();
  const page = db.query<unknown, [string, string, string, number]>(PERSONS.sqlite);
  let after: [string, string] = ["", ""];
  for (;;) {
    const rows = page.values(projectId, after[0], after[1], pageSize) as [string, string, number][];
    for (const [visitorId, profileId, at] of rows) persons.add(visitorId, profileId, at);
    if (rows.length < pageSize) return persons.links;
    const last = rows.at(-1)!;
    after = [last[0], last[1]];
    yield;
  }
}

/** The same links read through a storage (PostgreSQL's prime), a page at a time; with `pause` (the warm-up), awaited between pages. */
export async function readPersonsFrom(storage: Storage, projectId: string, pageSize = PERSONS_PAGE, pause?: () => Promise<unknown>): Promise<Map<number, number>> {
  const persons = new PersonsReading();
  let after: [string, string] = ["", ""];
  for (;;) {
    const rows = await storage.all<{ visitor_id: string; profile_id: string; identified_at: number }>(PERSONS[storage.engine], [projectId, after[0], after[1], pageSize]);
    for (const r of rows) persons.add(r.visitor_id, r.profile_id, r.identified_at);
    if (rows.length < pageSize) return persons.links;
    const last = rows.at(-1)!;
    after = [last.visitor_id, last.profile_id];
    await pause?.();
  }
}

// Paged by the primary key. PostgreSQL orders text by its collation, not bytes: each visitor's rows
// still come together, and ties between two identifications at the same instant go to the greater
// profile id on either engine (`PersonsReading`).
const PERSONS = readText(
  () => "SELECT visitor_id, profile_id, identified_at FROM profile_visitors WHERE project_id = ? AND (visitor_id, profile_id) > (?, ?) ORDER BY visitor_id, profile_id LIMIT ?",
);

/** The links as rows arrive in visitor order: the latest identification of each visitor wins. */
class PersonsReading {
  readonly links = new Map<number, number>();
  private visitor = "";
  private latest = -Infinity;
  private latestProfile = "";
  add(visitorId: string, profileId: string, at: number): void {
    if (visitorId !== this.visitor) {
      this.visitor = visitorId;
      this.latest = -Infinity;
    }
    if (at < this.latest || (at === this.latest && profileId < this.latestProfile)) return;
    this.latest = at;
    this.latestProfile = profileId;
    this.links.set(visitorHash(visitorId), profileHash(profileId));
  }
}

/**
 * One window made of consecutive ones (a day read an hour at a time, so no single read holds the
 * event loop long). A visit that crosses a boundary appears once per part: distinct counts, first
 * times per step and page-view sums are the same either way.
 */
export function mergeWindows(parts: PeopleWindow[]): PeopleWindow {
  const contexts = new Interner<Context>();
  const traits = new Interner<VisitTraits>();
  const n = parts.reduce((sum, p) => sum + p.visitor.length, 0);
  const start = parts[0]!.start;
  const end = parts.at(-1)!.end;
  // Read over the whole span when asked: merging the parts' pages would keep every part alive for them.
  const merged = emptyWindow(start, end, n, contexts, traits, parts[0]!.pages.over(start, end));
  merged.cookieless = parts.some((p) => p.cookieless);
  let offset = 0;
  for (const part of parts) {
    const contextOf = part.contexts.map((c) => contexts.of(c));
    const traitOf = part.traits.map((t) => traits.of(t));
    merged.visitor.set(part.visitor, offset);
    merged.stepAt.set(part.stepAt, offset * VISIT_STEPS.length);
    merged.pageviews.set(part.pageviews, offset);
    for (let i = 0; i < part.visitor.length; i++) {
      merged.context[offset + i] = contextOf[part.context[i]!]!;
      merged.trait[offset + i] = traitOf[part.trait[i]!]!;
    }
    offset += part.visitor.length;
    for (const m of part.money) {
      const money = { ...m, context: contextOf[m.context]!, firstContext: contextOf[m.firstContext]! };
      merged.money.push(money);
      if (money.kind === "sale") merged.sales.push(money);
    }
  }
  return merged;
}

function mergePages(parts: PageRows[]): PageRows {
  const paths = new Interner<readonly [string]>();
  const n = parts.reduce((sum, p) => sum + p.visitor.length, 0);
  const out: PageRows = { paths: [], visitor: new Float64Array(n), path: new Uint32Array(n), views: new Uint32Array(n) };
  let offset = 0;
  for (const part of parts) {
    const pathOf = part.paths.map((p) => paths.of([p]));
    out.visitor.set(part.visitor, offset);
    out.views.set(part.views, offset);
    for (let i = 0; i < part.visitor.length; i++) out.path[offset + i] = pathOf[part.path[i]!]!;
    offset += part.visitor.length;
  }
  out.paths = paths.list.map(([path]) => path);
  return out;
}
