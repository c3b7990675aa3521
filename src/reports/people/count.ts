// Counting people over windows (SPEC §10): distinct visitors and people per breakdown value, customers,
// conversion that cannot pass 100 %, and the ordered funnel. Pure: windows in, numbers out.
import { DistinctCounter, HashMap, HashSet } from "./distinct.ts";
import {
  ATTRIBUTION_DIMENSIONS,
  payerPerson,
  SIGNED_UP,
  VISIT_DIMENSIONS,
  VISIT_STEPS,
  type AttributionDimension,
  type Context,
  type Money,
  type PeopleWindow,
  type PersonOf,
  type VisitDimension,
} from "./window.ts";

export type Model = "last" | "first";

export interface PeopleQuery {
  windows: PeopleWindow[];
  personOf: PersonOf;
  /** Keeps the visits and payments whose attribution context passes; null keeps all. */
  filter: ((context: Context) => boolean) | null;
  /** Which of a payment's attributions credits a row: last touch (default) or first. */
  model: Model;
  /** A payment's net in the reporting currency, null when no rate is known. */
  convert: (money: Money) => number | null;
  /** Says what `filter`, `model` and `convert` are, so results can be remembered. */
  key: string;
  /** Windows ending after this instant may still be written into (see `split`). */
  openFrom: number;
}

const personsIn = new WeakMap<PeopleWindow, { personOf: PersonOf; persons: Float64Array }>();

/** Each visit's person, resolved once per window and reading of the visitor → profile links. */
function persons(w: PeopleWindow, personOf: PersonOf): Float64Array {
  const known = personsIn.get(w);
  if (known?.personOf === personOf) return known.persons;
  const out = personOf.size === 0 ? w.visitor : w.visitor.map(personOf);
  personsIn.set(w, { personOf, persons: out });
  return out;
}

const personReadings = new WeakMap<PersonOf, number>();
let readings = 0;
const results = new Map<string, unknown>();
const MAX_RESULTS = 300;

/**
 * A count over the same windows, person links and query is computed once: windows are read again,
 * with new ids, when something is written into them, so a remembered result is never stale.
 */
function remembered<T>(q: PeopleQuery, what: string, compute: () => T): T {
  const key = resultKey(q, what);
  if (results.has(key)) return results.get(key) as T;
  const value = compute();
  remember(key, value);
  return value;
}

function resultKey(q: PeopleQuery, what: string): string {
  let reading = personReadings.get(q.personOf);
  if (reading === undefined) personReadings.set(q.personOf, (reading = ++readings));
  return `${what}|${q.key}|${reading}|${q.windows.map((w) => w.id).join(",")}`;
}

function remember(key: string, value: unknown): void {
  results.delete(key);
  results.set(key, value);
  for (const oldest of results.keys()) {
    if (results.size <= MAX_RESULTS) break;
    results.delete(oldest);
  }
}

/** What a report row or total says about people. */
export interface PeopleCounts {
  visitors: number;
  /** Distinct people (a profile counts once across its visitors) who visited. */
  people: number;
  /** People who completed a signup. */
  signups: number;
  /** People with a sale credited to the row in the range, wherever their visit lay. */
  customers: number;
  /** People who visited with the row's value and also had a sale credited to it: conversionRate's numerator. */
  converted: number;
  /** converted ÷ people: never above 1. */
  conversionRate: number;
  pageviews: number;
}

/** A traffic row also says what its customers paid in the range, in the reporting currency. */
export interface TrafficCounts extends PeopleCounts {
  net: number;
  /** Payments of its customers that could not be converted. */
  unconverted: number;
}

export type Breakdown = { kind: "attribution"; dimension: AttributionDimension } | { kind: "visit"; dimension: VisitDimension } | { kind: "page" };

interface Row {
  visitors: DistinctCounter;
  people: DistinctCounter;
  signups: DistinctCounter;
  /** Exact: conversion needs to know who. */
  customers: HashSet;
  converted: HashSet;
  pageviews: number;
}

const newRow = (): Row => ({
  visitors: new DistinctCounter(),
  people: new DistinctCounter(),
  signups: new DistinctCounter(),
  customers: new HashSet(),
  converted: new HashSet(),
  pageviews: 0,
});

function rowOf(rows: Map<string, Row>, key: string): Row {
  let row = rows.get(key);
  if (!row) rows.set(key, (row = newRow()));
  return row;
}

const finish = (row: Row): PeopleCounts => {
  const people = row.people.count();
  const converted = row.converted.size;
  return {
    visitors: row.visitors.count(),
    people,
    signups: row.signups.count(),
    customers: row.customers.size,
    converted,
    conversionRate: people === 0 ? 0 : Math.min(1, converted / people),
    pageviews: row.pageviews,
  };
};

const saleContext = (q: PeopleQuery, sale: { context: number; firstContext: number }) => (q.model === "first" ? sale.firstContext : sale.context);

const STEPS = VISIT_STEPS.length;
/** Whether visit `i` completed a signup (its time is not NaN). */
const signedUp = (stepAt: Float64Array, i: number) => stepAt[i * STEPS + SIGNED_UP] === stepAt[i * STEPS + SIGNED_UP];

/** Calls `visit` for each visit whose context passes the filter. */
function eachVisit(q: PeopleQuery, visit: (w: PeopleWindow, i: number, person: number) => void): void {
  for (const w of q.windows) {
    const passes = passingContexts(q, w);
    const person = persons(w, q.personOf);
    for (let i = 0; i < w.visitor.length; i++) if (!passes || passes[w.context[i]!]) visit(w, i, person[i]!);
  }
}

/** Calls `sale` for each sale credited (by the model) to a context that passes the filter. */
function eachSale(q: PeopleQuery, windows: PeopleWindow[], sale: (w: PeopleWindow, context: number, person: number) => void): void {
  for (const w of windows) {
    const passes = passingContexts(q, w);
    for (const s of w.sales) {
      const context = saleContext(q, s);
      if (!passes || passes[context]) sale(w, context, payerPerson(s.payer, q.personOf));
    }
  }
}

/** Which of a window's contexts pass the query's filter (null: all do). */
function passingContexts(q: PeopleQuery, w: PeopleWindow): boolean[] | null {
  return q.filter ? w.contexts.map(q.filter) : null;
}

/**
 * The windows a count can be kept for, because nothing is being written into them any more, and the
 * recent ones still being written. A count over a range is the kept count over the first, extended
 * with the second: live traffic re-counts the last hours, not the whole range.
 */
function split(q: PeopleQuery): { closed: PeopleWindow[]; open: PeopleWindow[] } {
  const closed = q.windows.filter((w) => w.end <= q.openFrom);
  return { closed, open: q.windows.filter((w) => w.end > q.openFrom) };
}

/** A row state copied so a kept one stays as it was. */
const cloneRow = (row: Row): Row => ({
  visitors: row.visitors.clone(),
  people: row.people.clone(),
  signups: row.signups.clone(),
  customers: row.customers.clone(),
  converted: row.converted.clone(),
  pageviews: row.pageviews,
});
const cloneRows = (rows: Map<string, Row>) => new Map([...rows].map(([key, row]) => [key, cloneRow(row)]));

/** Adds `person` to `key`'s set in a map of sets. */
function addTo<K>(sets: Map<K, HashSet>, key: K, person: number): void {
  let set = sets.get(key);
  if (!set) sets.set(key, (set = new HashSet()));
  set.add(person);
}

const keyIndexes = new WeakMap<PeopleWindow, { keys: string[]; keyOf: Uint32Array }[]>();

/** A window's distinct values at one position of its contexts (or visit traits), and each tuple's index among them: worked out once per window. */
function keyIndex(w: PeopleWindow, at: number, of: "contexts" | "traits"): { keys: string[]; keyOf: Uint32Array } {
  let indexes = keyIndexes.get(w);
  if (!indexes) keyIndexes.set(w, (indexes = []));
  const slot = of === "contexts" ? at : ATTRIBUTION_DIMENSIONS.length + at;
  let index = indexes[slot];
  if (!index) {
    const tuples = w[of];
    const keys: string[] = [];
    const seen = new Map<string, number>();
    const keyOf = new Uint32Array(tuples.length);
    for (let c = 0; c < tuples.length; c++) {
      const key = tuples[c]![at]!;
      let k = seen.get(key);
      if (k === undefined) seen.set(key, (k = keys.push(key) - 1));
      keyOf[c] = k;
    }
    indexes[slot] = index = { keys, keyOf };
  }
  return index;
}

/** The row of each of a window's contexts: by an attribution dimension's value (`at`), or the one row "" of the totals (null). */
function contextRows(w: PeopleWindow, at: number | null, rows: Map<string, Row>): (context: number) => Row {
  if (at === null) {
    const row = rowOf(rows, "");
    return () => row;
  }
  const { keys, keyOf } = keyIndex(w, at, "contexts");
  const keyRows = keys.map((key) => rowOf(rows, key));
  return (context) => keyRows[keyOf[context]!]!;
}

/** Credits each sale's person to its row's customers; `onNew` hears of each person new to a row. */
function addSales(q: PeopleQuery, at: number | null, windows: PeopleWindow[], rows: Map<string, Row>, onNew?: (row: Row, person: number) => void): void {
  const credited: { row: Row; person: number }[] = [];
  const rowsOf = new Map<PeopleWindow, (context: number) => Row>();
  eachSale(q, windows, (w, context, person) => {
    let rowOfContext = rowsOf.get(w);
    if (!rowOfContext) rowsOf.set(w, (rowOfContext = contextRows(w, at, rows)));
    credited.push({ row: rowOfContext(context), person });
  });
  // An empty row's set is sized once: growing sets of a few hundred thousand people costs more than filling them.
  const perRow = new Map<Row, number>();
  for (const { row } of credited) perRow.set(row, (perRow.get(row) ?? 0) + 1);
  for (const [row, sales] of perRow) if (row.customers.size === 0) row.customers = new HashSet(sales);
  for (const { row, person } of credited) if (row.customers.add(person)) onNew?.(row, person);
}

/** Counts each visit in its row; a visitor who is one of the row's customers is converted. */
function addVisits(q: PeopleQuery, at: number | null, windows: PeopleWindow[], rows: Map<string, Row>): void {
  for (const w of windows) {
    const passes = passingContexts(q, w);
    const person = persons(w, q.personOf);
    const rowOfContext = contextRows(w, at, rows);
    const { visitor, pageviews, stepAt, context } = w;
    for (let i = 0; i < visitor.length; i++) {
      if (passes && !passes[context[i]!]) continue;
      const row = rowOfContext(context[i]!);
      const p = person[i]!;
      row.visitors.add(visitor[i]!);
      row.people.add(p);
      row.pageviews += pageviews[i]!;
      if (signedUp(stepAt, i)) row.signups.add(p);
      if (row.customers.has(p)) row.converted.add(p);
    }
  }
}

function attributionState(q: PeopleQuery, at: number | null, windows: PeopleWindow[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  addSales(q, at, windows, rows);
  addVisits(q, at, windows, rows);
  return rows;
}

/** Rows per attribution value (or the one totals row): kept over the closed windows, extended with the open ones. */
function attributionRows(q: PeopleQuery, at: number | null): Map<string, Row> {
  const { closed, open } = split(q);
  if (closed.length === 0) return attributionState(q, at, q.windows);
  const kept = remembered({ ...q, windows: closed }, `attribution state|${at}`, () => attributionState(q, at, closed));
  // Callers only read the rows: a range wholly in the past is the kept state itself.
  if (open.length === 0) return kept;
  const rows = cloneRows(kept);
  // A person who bought in the open windows converted if they visited with the row's value at any time in the range.
  const newCustomers = new Map<Row, HashSet>();
  const newPersons = new HashSet();
  addSales(q, at, open, rows, (row, person) => {
    newPersons.add(person);
    addTo(newCustomers, row, person);
  });
  if (newPersons.size > 0) {
    for (const w of closed) {
      const passes = passingContexts(q, w);
      const person = persons(w, q.personOf);
      const rowOfContext = contextRows(w, at, rows);
      for (let i = 0; i < person.length; i++) {
        const p = person[i]!;
        if (!newPersons.has(p) || (passes && !passes[w.context[i]!])) continue;
        const row = rowOfContext(w.context[i]!);
        if (newCustomers.get(row)?.has(p)) row.converted.add(p);
      }
    }
  }
  addVisits(q, at, open, rows);
  return rows;
}

/** Totals over the whole range, distinct over it: a visitor through two links counts once. */
export function peopleTotals(q: PeopleQuery): PeopleCounts {
  return remembered(q, "totals", () => finish(attributionRows(q, null).get("") ?? newRow()));
}

/** Distinct visitors per chart bucket: `bucketOf` says which bucket a window falls in (-1: none). */
export function visitorsPerBucket(q: PeopleQuery, buckets: number, bucketOf: (w: PeopleWindow) => number): number[] {
  const mapping = q.windows.map(bucketOf).join(",");
  return remembered(q, `buckets|${mapping}`, () => {
    const { closed, open } = split(q);
    const kept = remembered({ ...q, windows: closed }, `bucket counters|${mapping}`, () => bucketCounters(q, closed, buckets, bucketOf));
    const counters = kept.map((c) => c.clone());
    addToBuckets(q, open, counters, bucketOf);
    return counters.map((c) => c.count());
  });
}

function bucketCounters(q: PeopleQuery, windows: PeopleWindow[], buckets: number, bucketOf: (w: PeopleWindow) => number): DistinctCounter[] {
  const counters = Array.from({ length: buckets }, () => new DistinctCounter());
  addToBuckets(q, windows, counters, bucketOf);
  return counters;
}

function addToBuckets(q: PeopleQuery, windows: PeopleWindow[], counters: DistinctCounter[], bucketOf: (w: PeopleWindow) => number): void {
  for (const w of windows) {
    const counter = counters[bucketOf(w)];
    if (counter) eachVisit({ ...q, windows: [w] }, (_, i) => counter.add(w.visitor[i]!));
  }
}

/** One row per value of an attribution dimension: its visitors, and the people its sales were credited to. */
export function peopleByAttribution(q: PeopleQuery, dimension: AttributionDimension): Map<string, PeopleCounts> {
  const at = ATTRIBUTION_DIMENSIONS.indexOf(dimension);
  return remembered(q, `attribution|${dimension}`, () => new Map([...attributionRows(q, at)].map(([key, row]) => [key, finish(row)])));
}

export type TrafficBreakdown = Exclude<Breakdown, { kind: "attribution" }>;

/** A traffic breakdown's rows, and who signed up, bought and paid what anywhere in the windows (which rows count them by). */
interface TrafficState {
  rows: Map<string, Row>;
  signedUp: HashSet;
  customers: HashSet;
  paid: HashMap;
  unconverted: HashMap;
}

/**
 * One row per page, entry page, referrer, country, device, browser or OS. A row's signups and
 * customers are its people who signed up or bought in the range; its net is what those customers paid.
 */
export function peopleByTraffic(q: PeopleQuery, breakdown: TrafficBreakdown): Map<string, TrafficCounts> {
  return remembered(q, `traffic|${breakdown.kind === "page" ? "page" : breakdown.dimension}`, () => {
    const { rows, paid, unconverted: unconvertedOf } = trafficRows(q, breakdown);
    return new Map(
      [...rows].map(([key, row]) => {
        let net = 0;
        let unconverted = 0;
        row.customers.forEach((person) => {
          net += paid.get(person) ?? 0;
          unconverted += unconvertedOf.get(person) ?? 0;
        });
        return [key, { ...finish(row), net, unconverted }];
      }),
    );
  });
}

/** Calls `visit` with the row, visitor, person and page views of each visit (or page viewed) of the breakdown. */
function eachTrafficVisit(
  q: PeopleQuery,
  breakdown: TrafficBreakdown,
  windows: PeopleWindow[],
  rows: Map<string, Row>,
  visit: (row: Row, visitor: number, person: number, views: number) => void,
): void {
  if (breakdown.kind === "visit") {
    const at = VISIT_DIMENSIONS.indexOf(breakdown.dimension);
    for (const w of windows) {
      const { keys, keyOf } = keyIndex(w, at, "traits");
      const keyRows = keys.map((key) => rowOf(rows, key));
      eachVisit({ ...q, windows: [w] }, (_, i, person) => visit(keyRows[keyOf[w.trait[i]!]!]!, w.visitor[i]!, person, w.pageviews[i]!));
    }
    return;
  }
  for (const w of windows) {
    const pages = w.pages!();
    let visitorsInFilter: HashSet | null = null;
    if (q.filter) {
      const kept = new HashSet();
      eachVisit({ ...q, windows: [w] }, (_, i) => kept.add(w.visitor[i]!));
      visitorsInFilter = kept;
    }
    const pathRows = pages.paths.map((path) => rowOf(rows, path));
    for (let i = 0; i < pages.visitor.length; i++) {
      const visitor = pages.visitor[i]!;
      if (visitorsInFilter && !visitorsInFilter.has(visitor)) continue;
      visit(pathRows[pages.path[i]!]!, visitor, q.personOf.size === 0 ? visitor : q.personOf(visitor), pages.views[i]!);
    }
  }
}

/** Who signed up, who bought and what each paid in the windows: `onNew…` hear of people not in `state` yet. */
function addPeopleFacts(q: PeopleQuery, windows: PeopleWindow[], state: TrafficState, onNewSignup?: (person: number) => void, onNewCustomer?: (person: number) => void): void {
  eachVisit({ ...q, windows }, (w, i, person) => {
    if (signedUp(w.stepAt, i) && state.signedUp.add(person)) onNewSignup?.(person);
  });
  for (const w of windows) {
    for (const m of w.money) {
      if (q.filter && !q.filter(w.contexts[saleContext(q, m)]!)) continue;
      const person = payerPerson(m.payer, q.personOf);
      const net = q.convert(m);
      if (net === null) state.unconverted.merge(person, 1, add);
      else state.paid.merge(person, net, add);
    }
  }
  eachSale(q, windows, (_, __, person) => {
    if (state.customers.add(person)) onNewCustomer?.(person);
  });
}

function countTrafficVisits(q: PeopleQuery, breakdown: TrafficBreakdown, windows: PeopleWindow[], state: TrafficState): void {
  eachTrafficVisit(q, breakdown, windows, state.rows, (row, visitor, person, views) => {
    row.visitors.add(visitor);
    row.people.add(person);
    row.pageviews += views;
    if (state.signedUp.has(person)) row.signups.add(person);
    if (state.customers.has(person)) {
      row.customers.add(person);
      row.converted.add(person);
    }
  });
}

/** An empty state with room for the windows' customers and payers. */
const emptyTrafficState = (windows: PeopleWindow[]): TrafficState => ({
  rows: new Map(),
  signedUp: new HashSet(),
  customers: new HashSet(windows.reduce((n, w) => n + w.sales.length, 0)),
  paid: new HashMap(windows.reduce((n, w) => n + w.money.length, 0)),
  unconverted: new HashMap(),
});

function trafficState(q: PeopleQuery, breakdown: TrafficBreakdown, windows: PeopleWindow[]): TrafficState {
  const state = emptyTrafficState(windows);
  addPeopleFacts(q, windows, state);
  countTrafficVisits(q, breakdown, windows, state);
  return state;
}

/** The breakdown's rows: kept over the closed windows, extended with the open ones. */
function trafficRows(q: PeopleQuery, breakdown: TrafficBreakdown): TrafficState {
  const { closed, open } = split(q);
  if (closed.length === 0) return trafficState(q, breakdown, q.windows);
  const kept = remembered({ ...q, windows: closed }, `traffic state|${breakdown.kind === "page" ? "page" : breakdown.dimension}`, () => trafficState(q, breakdown, closed));
  if (open.length === 0) return kept;
  const state: TrafficState = {
    rows: cloneRows(kept.rows),
    signedUp: kept.signedUp.clone(),
    customers: kept.customers.clone(),
    paid: kept.paid.clone(),
    unconverted: kept.unconverted.clone(),
  };
  // People who first signed up or bought in the open windows count in every row they visited, earlier visits included.
  const newSignups = new HashSet();
  const newCustomers = new HashSet();
  addPeopleFacts(q, open, state, (person) => newSignups.add(person), (person) => newCustomers.add(person));
  if (newSignups.size > 0 || newCustomers.size > 0) {
    eachTrafficVisit(q, breakdown, closed, state.rows, (row, _, person) => {
      if (newSignups.has(person)) row.signups.add(person);
      if (newCustomers.has(person)) {
        row.customers.add(person);
        row.converted.add(person);
      }
    });
  }
  countTrafficVisits(q, breakdown, open, state);
  return state;
}

/** What to count ahead for a range (see `primePeople`). */
export interface PeoplePlan {
  totals: boolean;
  attribution: readonly AttributionDimension[];
  traffic: readonly TrafficBreakdown[];
  buckets: { count: number; bucketOf: (w: PeopleWindow) => number } | null;
  /** The funnel's tracked steps, or null for no funnel. */
  funnel: ReadonlySet<FunnelStepName> | null;
}

/**
 * Counts the kept part (the closed windows) of what `plan` names, one window at a time with
 * `pause()` awaited between windows, and remembers it as the counts above would: a background
 * warm-up, so a page's first view only counts today. Skips what is already remembered.
 */
export async function primePeople(q: PeopleQuery, plan: PeoplePlan, pause: () => Promise<unknown>): Promise<void> {
  const { closed } = split(q);
  if (closed.length === 0) return;
  const kept = { ...q, windows: closed };
  const each = async (step: (w: PeopleWindow) => void) => {
    for (const w of closed) {
      step(w);
      await pause();
    }
  };
  const ats = [...(plan.totals ? [null] : []), ...plan.attribution.map((dimension) => ATTRIBUTION_DIMENSIONS.indexOf(dimension))];
  for (const at of ats) {
    const key = resultKey(kept, `attribution state|${at}`);
    if (results.has(key)) continue;
    const rows = new Map<string, Row>();
    await each((w) => addSales(q, at, [w], rows));
    await each((w) => addVisits(q, at, [w], rows));
    remember(key, rows);
  }
  for (const breakdown of plan.traffic) {
    const key = resultKey(kept, `traffic state|${breakdown.kind === "page" ? "page" : breakdown.dimension}`);
    if (results.has(key)) continue;
    const state = emptyTrafficState(closed);
    await each((w) => addPeopleFacts(q, [w], state));
    await each((w) => countTrafficVisits(q, breakdown, [w], state));
    remember(key, state);
  }
  if (plan.buckets) {
    const { count, bucketOf } = plan.buckets;
    const key = resultKey(kept, `bucket counters|${q.windows.map(bucketOf).join(",")}`);
    if (!results.has(key)) {
      const counters = Array.from({ length: count }, () => new DistinctCounter());
      await each((w) => addToBuckets(q, [w], counters, bucketOf));
      remember(key, counters);
    }
  }
  if (plan.funnel) {
    const tracked = plan.funnel;
    const key = resultKey(kept, `funnel state|${[...tracked].join(",")}`);
    if (results.has(key)) return;
    const reached: (HashMap | null)[] = [];
    let before: HashMap | null = null;
    for (const [step, name] of FUNNEL_STEPS.entries()) {
      if (!tracked.has(name)) {
        reached.push(null);
        continue;
      }
      const now: HashMap = new HashMap();
      await each((w) => reachStep(q, step, [w], before, now));
      reached.push((before = now));
    }
    remember(key, reached);
  }
}

const add = (a: number, b: number) => a + b;
const earliest = (a: number, b: number) => Math.min(a, b);

export const FUNNEL_STEPS = [...VISIT_STEPS, "payment_completed"] as const;
export type FunnelStepName = (typeof FUNNEL_STEPS)[number];

export interface FunnelStep {
  name: FunnelStepName;
  /** People who reached this step after the previous tracked one; null when the step is not tracked. */
  people: number | null;
  conversionFromPrevious: number | null;
  conversionFromFirst: number | null;
  tracked: boolean;
}

/**
 * People who reached each tracked step at or after reaching the previous tracked one, within the
 * windows. A step the project never records is skipped, so no conversion can pass 100 %. Within one
 * visit, a step's time is its first occurrence in that visit.
 */
export function funnel(q: PeopleQuery, tracked: ReadonlySet<FunnelStepName>): FunnelStep[] {
  const steps = [...tracked].join(",");
  return remembered(q, `funnel|${steps}`, () => {
    const { closed, open } = split(q);
    if (closed.length === 0) return funnelSteps(reachedPerStep(q, tracked, q.windows, null), tracked);
    const kept = remembered({ ...q, windows: closed }, `funnel state|${steps}`, () => reachedPerStep(q, tracked, closed, null));
    return funnelSteps(open.length === 0 ? kept : reachedPerStep(q, tracked, open, kept), tracked);
  });
}

/** When each person first reached `step` at or after reaching the previous tracked one (`before`), over some windows, into `now`. */
function reachStep(q: PeopleQuery, step: number, windows: PeopleWindow[], before: HashMap | null, now: HashMap): void {
  const reach = (person: number, at: number) => {
    if (Number.isNaN(at)) return;
    if (before) {
      const since = before.get(person);
      if (since === undefined || at < since) return;
    }
    now.merge(person, at, earliest);
  };
  if (FUNNEL_STEPS[step] === "payment_completed") {
    for (const w of windows) {
      const passes = passingContexts(q, w);
      for (const s of w.sales) if (!passes || passes[saleContext(q, s)]) reach(payerPerson(s.payer, q.personOf), s.at);
    }
  } else {
    eachVisit({ ...q, windows }, (w, i, person) => reach(person, w.stepAt[i * STEPS + step]!));
  }
}

/**
 * Each tracked step's map of person → time reached (null for steps not tracked), over `windows`; with
 * `kept`, the maps of the windows before them, which these extend (all their times are earlier).
 */
function reachedPerStep(q: PeopleQuery, tracked: ReadonlySet<FunnelStepName>, windows: PeopleWindow[], kept: (HashMap | null)[] | null): (HashMap | null)[] {
  let before: HashMap | null = null;
  return FUNNEL_STEPS.map((name, step) => {
    if (!tracked.has(name)) return null;
    const now = kept?.[step]?.clone() ?? new HashMap();
    reachStep(q, step, windows, before, now);
    return (before = now);
  });
}

function funnelSteps(reached: (HashMap | null)[], tracked: ReadonlySet<FunnelStepName>): FunnelStep[] {
  let previous: number | null = null;
  let first: number | null = null;
  return FUNNEL_STEPS.map((name, step): FunnelStep => {
    const map = reached[step];
    if (!tracked.has(name) || !map) return { name, people: null, conversionFromPrevious: null, conversionFromFirst: null, tracked: false };
    const people = map.size;
    const out: FunnelStep = {
      name,
      people,
      conversionFromPrevious: previous === null ? null : previous === 0 ? 0 : people / previous,
      conversionFromFirst: first === null ? (people > 0 ? 1 : 0) : first === 0 ? 0 : people / first,
      tracked: true,
    };
    previous = people;
    first ??= people;
    return out;
  });
}
