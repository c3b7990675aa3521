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
  let reading = personReadings.get(q.personOf);
  if (reading === undefined) personReadings.set(q.personOf, (reading = ++readings));
  const key = `${what}|${q.key}|${reading}|${q.windows.map((w) => w.id).join(",")}`;
  if (results.has(key)) return results.get(key) as T;
  const value = compute();
  results.set(key, value);
  for (const oldest of results.keys()) {
    if (results.size <= MAX_RESULTS) break;
    results.delete(oldest);
  }
  return value;
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

/** Calls `visit` for each visit whose context passes the filter. */
function eachVisit(q: PeopleQuery, visit: (w: PeopleWindow, i: number, person: number) => void): void {
  for (const w of q.windows) {
    const passes = q.filter ? w.contexts.map(q.filter) : null;
    const person = persons(w, q.personOf);
    for (let i = 0; i < w.visitor.length; i++) if (!passes || passes[w.context[i]!]) visit(w, i, person[i]!);
  }
}

/** Calls `sale` for each sale credited (by the model) to a context that passes the filter. */
function eachSale(q: PeopleQuery, sale: (context: Context, person: number) => void): void {
  for (const w of q.windows) {
    for (const s of w.sales) {
      const context = w.contexts[saleContext(q, s)]!;
      if (!q.filter || q.filter(context)) sale(context, payerPerson(s.payer, q.personOf));
    }
  }
}

const signedUp = (w: PeopleWindow, i: number) => !Number.isNaN(w.stepAt[i * VISIT_STEPS.length + SIGNED_UP]!);

/** Totals over the whole range, distinct over it: a visitor through two links counts once. */
export function peopleTotals(q: PeopleQuery): PeopleCounts {
  return remembered(q, "totals", () => totals(q));
}

function totals(q: PeopleQuery): PeopleCounts {
  const row = newRow();
  eachSale(q, (_, person) => row.customers.add(person));
  eachVisit(q, (w, i, person) => {
    row.visitors.add(w.visitor[i]!);
    row.people.add(person);
    row.pageviews += w.pageviews[i]!;
    if (signedUp(w, i)) row.signups.add(person);
    if (row.customers.has(person)) row.converted.add(person);
  });
  return finish(row);
}

/** Distinct visitors per chart bucket: `bucketOf` says which bucket a window falls in (-1: none). */
export function visitorsPerBucket(q: PeopleQuery, buckets: number, bucketOf: (w: PeopleWindow) => number): number[] {
  return remembered(q, `buckets|${q.windows.map(bucketOf).join(",")}`, () => countPerBucket(q, buckets, bucketOf));
}

function countPerBucket(q: PeopleQuery, buckets: number, bucketOf: (w: PeopleWindow) => number): number[] {
  const counters = Array.from({ length: buckets }, () => new DistinctCounter());
  for (const w of q.windows) {
    const counter = counters[bucketOf(w)];
    if (counter) eachVisit({ ...q, windows: [w] }, (_, i) => counter.add(w.visitor[i]!));
  }
  return counters.map((c) => c.count());
}

/** One row per value of an attribution dimension: its visitors, and the people its sales were credited to. */
export function peopleByAttribution(q: PeopleQuery, dimension: AttributionDimension): Map<string, PeopleCounts> {
  return remembered(q, `attribution|${dimension}`, () => byAttribution(q, dimension));
}

function byAttribution(q: PeopleQuery, dimension: AttributionDimension): Map<string, PeopleCounts> {
  const at = ATTRIBUTION_DIMENSIONS.indexOf(dimension);
  const rows = new Map<string, Row>();
  eachSale(q, (context, person) => rowOf(rows, context[at]!).customers.add(person));
  const rowsOf = new Map<PeopleWindow, Row[]>(q.windows.map((w) => [w, w.contexts.map((c) => rowOf(rows, c[at]!))]));
  eachVisit(q, (w, i, person) => {
    const row = rowsOf.get(w)![w.context[i]!]!;
    row.visitors.add(w.visitor[i]!);
    row.people.add(person);
    row.pageviews += w.pageviews[i]!;
    if (signedUp(w, i)) row.signups.add(person);
    if (row.customers.has(person)) row.converted.add(person);
  });
  return new Map([...rows].map(([key, row]) => [key, finish(row)]));
}

/**
 * One row per page, entry page, referrer, country, device, browser or OS. A row's signups and
 * customers are its people who signed up or bought in the range; its net is what those customers paid.
 */
export function peopleByTraffic(q: PeopleQuery, breakdown: Exclude<Breakdown, { kind: "attribution" }>): Map<string, TrafficCounts> {
  return remembered(q, `traffic|${breakdown.kind === "page" ? "page" : breakdown.dimension}`, () => byTraffic(q, breakdown));
}

function byTraffic(q: PeopleQuery, breakdown: Exclude<Breakdown, { kind: "attribution" }>): Map<string, TrafficCounts> {
  const signedUpPeople = new HashSet();
  eachVisit(q, (w, i, person) => {
    if (signedUp(w, i)) signedUpPeople.add(person);
  });
  const paid = new HashMap();
  const unconvertedOf = new HashMap();
  for (const w of q.windows) {
    for (const m of w.money) {
      if (q.filter && !q.filter(w.contexts[saleContext(q, m)]!)) continue;
      const person = payerPerson(m.payer, q.personOf);
      const net = q.convert(m);
      if (net === null) unconvertedOf.merge(person, 1, add);
      else paid.merge(person, net, add);
    }
  }
  const customers = new HashSet();
  eachSale(q, (_, person) => customers.add(person));

  const rows = new Map<string, Row>();
  const count = (row: Row, visitor: number, person: number, views: number) => {
    row.visitors.add(visitor);
    row.people.add(person);
    row.pageviews += views;
    if (signedUpPeople.has(person)) row.signups.add(person);
    if (customers.has(person)) {
      row.customers.add(person);
      row.converted.add(person);
    }
  };
  if (breakdown.kind === "visit") {
    const at = VISIT_DIMENSIONS.indexOf(breakdown.dimension);
    const rowsOf = new Map<PeopleWindow, Row[]>(q.windows.map((w) => [w, w.traits.map((t) => rowOf(rows, t[at]!))]));
    eachVisit(q, (w, i, person) => count(rowsOf.get(w)![w.trait[i]!]!, w.visitor[i]!, person, w.pageviews[i]!));
  } else {
    for (const w of q.windows) {
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
        count(pathRows[pages.path[i]!]!, visitor, q.personOf.size === 0 ? visitor : q.personOf(visitor), pages.views[i]!);
      }
    }
  }
  return new Map(
    [...rows].map(([key, row]) => {
      let net = 0;
      let unconverted = 0;
      for (const person of row.customers.values()) {
        net += paid.get(person) ?? 0;
        unconverted += unconvertedOf.get(person) ?? 0;
      }
      return [key, { ...finish(row), net, unconverted }];
    }),
  );
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
  return remembered(q, `funnel|${[...tracked].join(",")}`, () => funnelSteps(q, tracked));
}

function funnelSteps(q: PeopleQuery, tracked: ReadonlySet<FunnelStepName>): FunnelStep[] {
  let reached: HashMap | null = null;
  let previous: number | null = null;
  let first: number | null = null;
  return FUNNEL_STEPS.map((name, step): FunnelStep => {
    if (!tracked.has(name)) return { name, people: null, conversionFromPrevious: null, conversionFromFirst: null, tracked: false };
    const before: HashMap | null = reached;
    const now = new HashMap();
    const reach = (person: number, at: number) => {
      if (Number.isNaN(at)) return;
      if (before) {
        const since = before.get(person);
        if (since === undefined || at < since) return;
      }
      now.merge(person, at, earliest);
    };
    if (name === "payment_completed") {
      for (const w of q.windows) {
        for (const s of w.sales) if (!q.filter || q.filter(w.contexts[saleContext(q, s)]!)) reach(payerPerson(s.payer, q.personOf), s.at);
      }
    } else {
      eachVisit(q, (w, i, person) => reach(person, w.stepAt[i * VISIT_STEPS.length + step]!));
    }
    reached = now;
    const people = now.size;
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
