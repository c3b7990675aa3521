// Counting people over windows (SPEC §10): distinct visitors and people per breakdown value, customers,
// conversion that cannot pass 100 %, and the ordered funnel. Pure: windows in, numbers out.
import { DistinctCounter, HashMap, HashSet } from "./distinct.ts";
import {
  ATTRIBUTION_DIMENSIONS,
  eachPageOf,
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
  /**
   * When the filter is one attribution value: the same query without it. Such a filter's totals are
   * that value's row of the unfiltered report (the same visits and the same sales), read from there
   * when that report is kept.
   */
  single: { at: number; value: string; unfiltered: PeopleQuery } | null;
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
  // Used again, it moves to the back of the line: under live traffic each view leaves a few results
  // that the next write outdates, and they must not push out the kept counts every view extends.
  const value = results.has(key) ? (results.get(key) as T) : compute();
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
    const passed = passingVisits(q, w);
    const person = persons(w, q.personOf);
    const n = passed ? passed.length : w.visitor.length;
    for (let k = 0; k < n; k++) {
      const i = passed ? passed[k]! : k;
      visit(w, i, person[i]!);
    }
  }
}

/** Calls `sale` for each sale credited (by the model) to a context that passes the filter. */
function eachSale(q: PeopleQuery, windows: PeopleWindow[], sale: (w: PeopleWindow, context: number, person: number) => void): void {
  for (const w of windows) {
    const passes = passingContexts(q, w);
    for (const s of w.sales) {
      const context = saleContext(q, s);
      if (!passes || passes[context]) sale(w, context, payerPerson(s, q.personOf));
    }
  }
}

const passing = new WeakMap<PeopleWindow, Map<string, { contexts: boolean[]; visits: Uint32Array }>>();

/** Which of a window's contexts and visits pass the query's filter, worked out once per window and query. */
function passingIn(q: PeopleQuery, w: PeopleWindow): { contexts: boolean[]; visits: Uint32Array } | null {
  if (!q.filter) return null;
  let byQuery = passing.get(w);
  if (!byQuery) passing.set(w, (byQuery = new Map()));
  let passes = byQuery.get(q.key);
  if (!passes) byQuery.set(q.key, (passes = q.single ? passingOneValue(w, q.single) : passingFilter(w, q.filter)));
  return passes;
}

function passingFilter(w: PeopleWindow, filter: (context: Context) => boolean): { contexts: boolean[]; visits: Uint32Array } {
  const contexts = w.contexts.map(filter);
  const visits: number[] = [];
  for (let i = 0; i < w.context.length; i++) if (contexts[w.context[i]!]) visits.push(i);
  return { contexts, visits: Uint32Array.from(visits) };
}

/** A filter on one value compares key indexes the window has worked out already (the unfiltered report by that dimension read them). */
function passingOneValue(w: PeopleWindow, single: { at: number; value: string }): { contexts: boolean[]; visits: Uint32Array } {
  const { keys, keyOf } = keyIndex(w, single.at, "contexts");
  const wanted = keys.indexOf(single.value);
  const contexts = Array.from(keyOf, (key) => key === wanted);
  if (wanted < 0) return { contexts, visits: new Uint32Array(0) };
  const { context } = w;
  let n = 0;
  for (let i = 0; i < context.length; i++) if (keyOf[context[i]!] === wanted) n++;
  const visits = new Uint32Array(n);
  for (let i = 0, k = 0; k < n; i++) if (keyOf[context[i]!] === wanted) visits[k++] = i;
  return { contexts, visits };
}

/** Which of a window's contexts pass the query's filter (null: all do). */
const passingContexts = (q: PeopleQuery, w: PeopleWindow): boolean[] | null => passingIn(q, w)?.contexts ?? null;

/** The indexes of a window's visits that pass the query's filter (null: all do): a filtered count walks only those. */
const passingVisits = (q: PeopleQuery, w: PeopleWindow): Uint32Array | null => passingIn(q, w)?.visits ?? null;

/**
 * The windows a count can be kept for, because nothing is being written into them any more, and the
 * recent ones still being written. A count over a range is the kept count over the first, extended
 * with the second: live traffic re-counts the last hours, not the whole range.
 */
function split(q: PeopleQuery): { closed: PeopleWindow[]; open: PeopleWindow[] } {
  const closed = q.windows.filter((w) => w.end <= q.openFrom);
  return { closed, open: q.windows.filter((w) => w.end > q.openFrom) };
}

/** A row state that extends a kept one, which stays as it was. */
const extendRow = (row: Row): Row => ({
  visitors: row.visitors.extend(),
  people: row.people.extend(),
  signups: row.signups.extend(),
  customers: row.customers.extend(),
  converted: row.converted.extend(),
  pageviews: row.pageviews,
});
const extendRows = (rows: Map<string, Row>) => new Map([...rows].map(([key, row]) => [key, extendRow(row)]));

/** Adds `person` to `key`'s set in a map of sets. */
function addTo<K>(sets: Map<K, HashSet>, key: K, person: number): void {
  let set = sets.get(key);
  if (!set) sets.set(key, (set = new HashSet()));
  set.add(person);
}

/** What the counts over the kept windows are remembered as: per attribution dimension (null: the totals), traffic breakdown, and funnel. */
const attributionStateName = (at: number | null) => `attribution state|${at}`;
const trafficStateName = (breakdown: TrafficBreakdown) => `traffic state|${breakdown.kind === "page" ? "page" : breakdown.dimension}`;
const funnelStateName = (tracked: ReadonlySet<FunnelStepName>) => `funnel state|${[...tracked].join(",")}`;

/**
 * Whether the counts a report needs over the query's kept (closed) windows are remembered, so that its
 * view counts only the open ones: what the warm-up counts ahead.
 */
export function keptAhead(
  q: PeopleQuery,
  report: { attribution: AttributionDimension | null } | { traffic: TrafficBreakdown } | { funnel: ReadonlySet<FunnelStepName> },
): boolean {
  const name =
    "attribution" in report
      ? attributionStateName(report.attribution === null ? null : ATTRIBUTION_DIMENSIONS.indexOf(report.attribution))
      : "traffic" in report
        ? trafficStateName(report.traffic)
        : funnelStateName(report.funnel);
  return results.has(resultKey({ ...q, windows: split(q).closed }, name));
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

/** Adds to `perRow` how many of the windows' sales each row is credited. */
function countSales(q: PeopleQuery, at: number | null, windows: PeopleWindow[], rows: Map<string, Row>, perRow: Map<Row, number>): void {
  for (const w of windows) {
    const rowOfContext = contextRows(w, at, rows);
    eachSale(q, [w], (_, context) => {
      const row = rowOfContext(context);
      perRow.set(row, (perRow.get(row) ?? 0) + 1);
    });
  }
}

/** Sizes each empty row's customers set once for all its sales: growing a set of a few hundred thousand people costs more than filling it (one growth held the warm-up ~100 ms). */
function sizeCustomers(perRow: Map<Row, number>): void {
  for (const [row, sales] of perRow) if (row.customers.size === 0) row.customers = new HashSet(sales);
}

/** Sizes the rows' customers sets for the windows' sales, then credits each sale's person; `onNew` hears of each person new to a row. */
function addSales(q: PeopleQuery, at: number | null, windows: PeopleWindow[], rows: Map<string, Row>, onNew?: (row: Row, person: number) => void): void {
  const perRow = new Map<Row, number>();
  countSales(q, at, windows, rows, perRow);
  sizeCustomers(perRow);
  creditSales(q, at, windows, rows, onNew);
}

/** Credits each sale's person to its row's customers, into sets sized already. */
function creditSales(q: PeopleQuery, at: number | null, windows: PeopleWindow[], rows: Map<string, Row>, onNew?: (row: Row, person: number) => void): void {
  for (const w of windows) {
    const rowOfContext = contextRows(w, at, rows);
    eachSale(q, [w], (_, context, person) => {
      const row = rowOfContext(context);
      if (row.customers.add(person)) onNew?.(row, person);
    });
  }
}

/** Counts each visit in its row; a visitor who is one of the row's customers is converted. */
function addVisits(q: PeopleQuery, at: number | null, windows: PeopleWindow[], rows: Map<string, Row>): void {
  for (const w of windows) {
    const passed = passingVisits(q, w);
    const person = persons(w, q.personOf);
    const rowOfContext = contextRows(w, at, rows);
    const { visitor, pageviews, stepAt, context } = w;
    const n = passed ? passed.length : visitor.length;
    for (let k = 0; k < n; k++) {
      const i = passed ? passed[k]! : k;
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
  const kept = remembered({ ...q, windows: closed }, attributionStateName(at), () => attributionState(q, at, closed));
  // Callers only read the rows: a range wholly in the past is the kept state itself.
  if (open.length === 0) return kept;
  const rows = extendRows(kept);
  // A person who bought in the open windows converted if they visited with the row's value at any time in the range.
  const newCustomers = new Map<Row, HashSet>();
  const newPersons = new HashSet();
  addSales(q, at, open, rows, (row, person) => {
    newPersons.add(person);
    addTo(newCustomers, row, person);
  });
  if (newPersons.size > 0) {
    for (const { w, visits } of earlierVisits(q, closed, open)) {
      const person = persons(w, q.personOf);
      const rowOfContext = contextRows(w, at, rows);
      for (const i of visits) {
        const p = person[i]!;
        if (!newPersons.has(p)) continue;
        const row = rowOfContext(w.context[i]!);
        if (newCustomers.get(row)?.has(p)) row.converted.add(p);
      }
    }
  }
  addVisits(q, at, open, rows);
  return rows;
}

/** The kept windows' visits of some people, and who those people are. */
interface VisitsOfPersons {
  persons: HashSet;
  visits: { w: PeopleWindow; visits: number[] }[];
}

/**
 * The kept windows' visits of the people who bought or signed up in the open ones: what extending
 * each kept count looks at again, found by one walk per request however many counts a page shows.
 * The visits found are kept with the kept windows and the next request walks only for people new
 * since: today's page views alone walk nothing. (Callers check each visit's person, so visits of
 * people found earlier do no harm.)
 */
function earlierVisits(q: PeopleQuery, closed: PeopleWindow[], open: PeopleWindow[]): VisitsOfPersons["visits"] {
  return remembered(q, "earlier visits", () => {
    const today = new HashSet();
    eachSale(q, open, (_, __, person) => today.add(person));
    eachVisit({ ...q, windows: open }, (w, i, person) => {
      if (signedUp(w.stepAt, i)) today.add(person);
    });
    const keptKey = resultKey({ ...q, windows: closed }, "earlier visits of");
    const known = (results.get(keptKey) as VisitsOfPersons | undefined) ?? narrowedFromUnfiltered(q, closed, today);
    const fresh = new HashSet();
    today.forEach((person) => known?.persons.has(person) || fresh.add(person));
    if (known && fresh.size === 0) {
      remember(keptKey, known);
      return known.visits;
    }
    const persons = known?.persons.extend() ?? new HashSet();
    fresh.forEach((person) => persons.add(person));
    const visits = closed.map((w, at) => {
      const found = known ? [...known.visits[at]!.visits] : [];
      eachVisit({ ...q, windows: [w] }, (_, i, person) => {
        if (fresh.has(person)) found.push(i);
      });
      return { w, visits: found };
    });
    remember(keptKey, { persons, visits });
    return visits;
  });
}

/**
 * A filtered query's earlier visits out of the unfiltered query's, when those were looked up for all
 * of `today` (a filtered query's people of today are some of the unfiltered one's): the filtered
 * overview's first view picks them out instead of walking the kept windows again.
 */
function narrowedFromUnfiltered(q: PeopleQuery, closed: PeopleWindow[], today: HashSet): VisitsOfPersons | undefined {
  if (!q.single) return undefined;
  const unfiltered = results.get(resultKey({ ...q.single.unfiltered, windows: closed }, "earlier visits of")) as VisitsOfPersons | undefined;
  let covered = unfiltered !== undefined;
  today.forEach((person) => (covered &&= unfiltered!.persons.has(person)));
  if (!covered) return undefined;
  return {
    persons: unfiltered!.persons,
    visits: unfiltered!.visits.map(({ w, visits }) => {
      const passes = passingContexts(q, w);
      return { w, visits: passes ? visits.filter((i) => passes[w.context[i]!]) : visits };
    }),
  };
}

/** Totals over the whole range, distinct over it: a visitor through two links counts once. */
export function peopleTotals(q: PeopleQuery): PeopleCounts {
  return remembered(q, "totals", () => {
    const single = fromUnfiltered(q);
    const row = single ? attributionRows(single.unfiltered, single.at).get(single.value) : attributionRows(q, null).get("");
    return finish(row ?? newRow());
  });
}

/** The query's one filtered value, when the unfiltered report by its dimension is kept in memory (else counting the filtered visits costs less). */
function fromUnfiltered(q: PeopleQuery): PeopleQuery["single"] {
  if (!q.single) return null;
  const { closed } = split(q.single.unfiltered);
  return closed.length > 0 && results.has(resultKey({ ...q.single.unfiltered, windows: closed }, attributionStateName(q.single.at))) ? q.single : null;
}

/** Distinct visitors per chart bucket: `bucketOf` says which bucket a window falls in (-1: none). */
export function visitorsPerBucket(q: PeopleQuery, buckets: number, bucketOf: (w: PeopleWindow) => number): number[] {
  const mapping = q.windows.map(bucketOf).join(",");
  return remembered(q, `buckets|${mapping}`, () => {
    const { closed, open } = split(q);
    const kept = remembered({ ...q, windows: closed }, `bucket counters|${closed.map(bucketOf).join(",")}`, () => bucketCounters(q, closed, buckets, bucketOf));
    const counters = kept.map((c) => c.extend());
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
  return remembered(q, `attribution|${dimension}`, () => {
    // Filtered by a value of this very dimension: the report is that value's row alone.
    const single = fromUnfiltered(q);
    if (single?.at === at) {
      const row = attributionRows(single.unfiltered, at).get(single.value);
      return new Map(row ? [[single.value, finish(row)]] : []);
    }
    return new Map([...attributionRows(q, at)].map(([key, row]) => [key, finish(row)]));
  });
}

export type TrafficBreakdown = Exclude<Breakdown, { kind: "attribution" }>;

/** Who signed up, who bought and what each paid anywhere in some windows: what traffic rows count people by. */
interface Facts {
  signedUp: HashSet;
  customers: HashSet;
  paid: HashMap;
  unconverted: HashMap;
}

/** The facts of the kept windows and of the open ones, read as one without copying the large kept sets. */
interface FactsView {
  signedUp(person: number): boolean;
  customer(person: number): boolean;
  paid(person: number): number;
  unconverted(person: number): number;
}

function viewOf(kept: Facts, open: Facts | null): FactsView {
  if (!open) {
    return {
      signedUp: (person) => kept.signedUp.has(person),
      customer: (person) => kept.customers.has(person),
      paid: (person) => kept.paid.get(person) ?? 0,
      unconverted: (person) => kept.unconverted.get(person) ?? 0,
    };
  }
  return {
    signedUp: (person) => kept.signedUp.has(person) || open.signedUp.has(person),
    customer: (person) => kept.customers.has(person) || open.customers.has(person),
    paid: (person) => (kept.paid.get(person) ?? 0) + (open.paid.get(person) ?? 0),
    unconverted: (person) => (kept.unconverted.get(person) ?? 0) + (open.unconverted.get(person) ?? 0),
  };
}

/**
 * One row per page, entry page, referrer, country, device, browser or OS. A row's signups and
 * customers are its people who signed up or bought in the range; its net is what those customers paid.
 */
export function peopleByTraffic(q: PeopleQuery, breakdown: TrafficBreakdown): Map<string, TrafficCounts> {
  return remembered(q, `traffic|${breakdown.kind === "page" ? "page" : breakdown.dimension}`, () => {
    const { rows, money } = trafficRows(q, breakdown);
    return new Map([...rows].map(([key, row]) => [key, { ...finish(row), ...(money.get(row) ?? { net: 0, unconverted: 0 }) }]));
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
      const passed = passingVisits(q, w);
      const person = persons(w, q.personOf);
      const { keys, keyOf } = keyIndex(w, at, "traits");
      const keyRows = keys.map((key) => rowOf(rows, key));
      const n = passed ? passed.length : person.length;
      for (let k = 0; k < n; k++) {
        const i = passed ? passed[k]! : k;
        visit(keyRows[keyOf[w.trait[i]!]!]!, w.visitor[i]!, person[i]!, w.pageviews[i]!);
      }
    }
    return;
  }
  for (const w of windows) {
    const pages = w.pages.read();
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
      const person = q.personOf.size === 0 ? visitor : q.personOf(visitor);
      visit(pathRows[pages.path[i]!]!, visitor, person, pages.views[i]!);
    }
  }
}

/** Who signed up, who bought and what each paid in the windows. */
function peopleFacts(q: PeopleQuery, windows: PeopleWindow[]): Facts {
  const facts = emptyFacts(q, windows);
  for (const w of windows) addFacts(q, w, facts);
  return facts;
}

/** Room for the customers and payers of the windows' sales and payments that pass the query's filter. */
function emptyFacts(q: PeopleQuery, windows: PeopleWindow[]): Facts {
  let sales = 0;
  let payments = 0;
  for (const w of windows) {
    const passes = passingContexts(q, w);
    if (!passes) {
      sales += w.sales.length;
      payments += w.money.length;
      continue;
    }
    for (const s of w.sales) if (passes[saleContext(q, s)]) sales++;
    for (const m of w.money) if (passes[saleContext(q, m)]) payments++;
  }
  return { signedUp: new HashSet(), customers: new HashSet(sales), paid: new HashMap(payments), unconverted: new HashMap() };
}

function addFacts(q: PeopleQuery, w: PeopleWindow, facts: Facts): void {
  eachVisit({ ...q, windows: [w] }, (_, i, person) => {
    if (signedUp(w.stepAt, i)) facts.signedUp.add(person);
  });
  const passes = passingContexts(q, w);
  for (const m of w.money) {
    if (passes && !passes[saleContext(q, m)]) continue;
    const person = payerPerson(m, q.personOf);
    const net = q.convert(m);
    if (net === null) facts.unconverted.merge(person, 1, add);
    else facts.paid.merge(person, net, add);
  }
  eachSale(q, [w], (_, __, person) => facts.customers.add(person));
}

/** Counts visits in their rows; `onNewCustomer` hears of each customer new to a row. */
function countTrafficVisits(
  q: PeopleQuery,
  breakdown: TrafficBreakdown,
  windows: PeopleWindow[],
  rows: Map<string, Row>,
  facts: FactsView,
  onNewCustomer?: (row: Row, person: number) => void,
): void {
  eachTrafficVisit(q, breakdown, windows, rows, (row, visitor, person, views) => {
    row.visitors.add(visitor);
    row.people.add(person);
    row.pageviews += views;
    if (facts.signedUp(person)) row.signups.add(person);
    if (facts.customer(person)) {
      if (row.customers.add(person)) onNewCustomer?.(row, person);
      row.converted.add(person);
    }
  });
}

/** What a row's customers paid in the range, and their payments without a rate. */
interface RowMoney {
  net: number;
  unconverted: number;
}

/** A breakdown's rows over some windows, and what each row's customers paid. */
interface TrafficState {
  rows: Map<string, Row>;
  money: Map<Row, RowMoney>;
}

function moneyOfRows(rows: Map<string, Row>, facts: FactsView): Map<Row, RowMoney> {
  const money = new Map<Row, RowMoney>();
  for (const row of rows.values()) {
    const sums = { net: 0, unconverted: 0 };
    row.customers.forEach((person) => {
      sums.net += facts.paid(person);
      sums.unconverted += facts.unconverted(person);
    });
    money.set(row, sums);
  }
  return money;
}

/** The people facts of the kept windows: one for every traffic breakdown. */
const keptFacts = (q: PeopleQuery, closed: PeopleWindow[]) => remembered({ ...q, windows: closed }, "people facts", () => peopleFacts(q, closed));

function trafficState(q: PeopleQuery, breakdown: TrafficBreakdown, windows: PeopleWindow[], facts: Facts): TrafficState {
  const rows = new Map<string, Row>();
  const view = viewOf(facts, null);
  countTrafficVisits(q, breakdown, windows, rows, view);
  return { rows, money: moneyOfRows(rows, view) };
}

/** The breakdown's rows: kept over the closed windows, extended with the open ones. */
function trafficRows(q: PeopleQuery, breakdown: TrafficBreakdown): TrafficState {
  const { closed, open } = split(q);
  if (closed.length === 0) return trafficState(q, breakdown, q.windows, peopleFacts(q, q.windows));
  const facts = keptFacts(q, closed);
  const kept = remembered({ ...q, windows: closed }, trafficStateName(breakdown), () =>
    trafficState(q, breakdown, closed, facts),
  );
  if (open.length === 0) return kept;
  const openFacts = peopleFacts(q, open);
  const view = viewOf(facts, openFacts);
  // People who first signed up or bought in the open windows count in every row they visited, earlier visits included.
  const newSignups = new HashSet();
  openFacts.signedUp.forEach((person) => facts.signedUp.has(person) || newSignups.add(person));
  const newCustomers = new HashSet();
  openFacts.customers.forEach((person) => facts.customers.has(person) || newCustomers.add(person));
  const rows = extendRows(kept.rows);
  const added = new Map<Row, number[]>();
  const onNewCustomer = (row: Row, person: number) => {
    const list = added.get(row);
    if (list) list.push(person);
    else added.set(row, [person]);
  };
  if (newSignups.size > 0 || newCustomers.size > 0) {
    const earlier = (row: Row, person: number) => {
      if (newSignups.has(person)) row.signups.add(person);
      if (newCustomers.has(person)) {
        if (row.customers.add(person)) onNewCustomer(row, person);
        row.converted.add(person);
      }
    };
    for (const { w, visits } of earlierVisits(q, closed, open)) {
      const person = persons(w, q.personOf);
      if (breakdown.kind === "visit") {
        const { keys, keyOf } = keyIndex(w, VISIT_DIMENSIONS.indexOf(breakdown.dimension), "traits");
        for (const i of visits) earlier(rowOf(rows, keys[keyOf[w.trait[i]!]!]!), person[i]!);
      } else {
        // The pages the visitor of each of those visits viewed in the window (a visit passes the filter, so its visitor's pages count).
        const pages = w.pages.read();
        for (const i of visits) eachPageOf(pages, w.visitor[i]!, (row) => earlier(rowOf(rows, pages.paths[pages.path[row]!]!), person[i]!));
      }
    }
  }
  countTrafficVisits(q, breakdown, open, rows, view, onNewCustomer);
  // A row's money: the kept sum, what its kept customers paid in the open windows, and all its new customers paid.
  const openPayers: number[] = [];
  openFacts.paid.forEach((person) => openPayers.push(person));
  openFacts.unconverted.forEach((person) => openFacts.paid.get(person) === undefined && openPayers.push(person));
  const money = new Map<Row, RowMoney>();
  for (const [key, row] of rows) {
    const keptRow = kept.rows.get(key);
    const sums = { ...(keptRow ? kept.money.get(keptRow)! : { net: 0, unconverted: 0 }) };
    if (keptRow) {
      for (const person of openPayers) {
        if (!keptRow.customers.has(person)) continue;
        sums.net += openFacts.paid.get(person) ?? 0;
        sums.unconverted += openFacts.unconverted.get(person) ?? 0;
      }
    }
    for (const person of added.get(row) ?? []) {
      sums.net += view.paid(person);
      sums.unconverted += view.unconverted(person);
    }
    money.set(row, sums);
  }
  return { rows, money };
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
    const key = resultKey(kept, attributionStateName(at));
    if (results.has(key)) continue;
    const rows = new Map<string, Row>();
    const perRow = new Map<Row, number>();
    await each((w) => countSales(q, at, [w], rows, perRow));
    sizeCustomers(perRow);
    await each((w) => creditSales(q, at, [w], rows));
    await each((w) => addVisits(q, at, [w], rows));
    remember(key, rows);
  }
  for (const breakdown of plan.traffic) {
    const key = resultKey(kept, trafficStateName(breakdown));
    if (results.has(key)) continue;
    const factsKey = resultKey(kept, "people facts");
    let facts = results.get(factsKey) as Facts | undefined;
    if (!facts) {
      const filling = emptyFacts(q, closed);
      await each((w) => addFacts(q, w, filling));
      remember(factsKey, (facts = filling));
    }
    if (breakdown.kind === "page") for (const w of closed) await w.pages.warm(pause);
    const rows = new Map<string, Row>();
    const view = viewOf(facts, null);
    await each((w) => countTrafficVisits(q, breakdown, [w], rows, view));
    remember(key, { rows, money: moneyOfRows(rows, view) });
  }
  if (plan.buckets) {
    const { count, bucketOf } = plan.buckets;
    const key = resultKey(kept, `bucket counters|${closed.map(bucketOf).join(",")}`);
    if (!results.has(key)) {
      const counters = Array.from({ length: count }, () => new DistinctCounter());
      await each((w) => addToBuckets(q, [w], counters, bucketOf));
      remember(key, counters);
    }
  }
  if (plan.funnel) {
    const tracked = plan.funnel;
    const key = resultKey(kept, funnelStateName(tracked));
    if (results.has(key)) return;
    const reached: (HashMap | null)[] = [];
    let before: HashMap | null = null;
    for (const [step, name] of FUNNEL_STEPS.entries()) {
      if (!tracked.has(name)) {
        reached.push(null);
        continue;
      }
      // Who reaches a step reached the one before: a map sized for them does not grow (a growth held the warm-up ~70 ms).
      const now: HashMap = new HashMap(before?.size);
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
  return remembered(q, `funnel|${[...tracked].join(",")}`, () => {
    const { closed, open } = split(q);
    if (closed.length === 0) return funnelSteps(reachedPerStep(q, tracked, q.windows, null), tracked);
    const kept = remembered({ ...q, windows: closed }, funnelStateName(tracked), () => reachedPerStep(q, tracked, closed, null));
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
      for (const s of w.sales) if (!passes || passes[saleContext(q, s)]) reach(payerPerson(s, q.personOf), s.at);
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
  const reached = FUNNEL_STEPS.map((name, step) => (tracked.has(name) ? (kept?.[step]?.extend() ?? new HashMap()) : null));
  // Window by window, every step of one before the next, while its visits are in the cache. The same
  // as step by step over all windows: windows come in time order and a step's times lie within its
  // window, so a time in a later window never decides whether a visit of this one reached a step after the previous.
  for (const w of windows) {
    let before: HashMap | null = null;
    reached.forEach((now, step) => {
      if (!now) return;
      reachStep(q, step, [w], before, now);
      before = now;
    });
  }
  return reached;
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
