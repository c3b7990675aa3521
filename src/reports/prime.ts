// Prime, then compute (see source.ts): what a report on PostgreSQL awaits before its synchronous
// computation, so that computation finds everything in memory.
import { primeRollupSums, type SumsQuery } from "./attribution.ts";
import { peopleWindows, primePeopleWindows, primePersons } from "./people/windows.ts";
import type { PostgresReports } from "./source.ts";

export interface PrimeRange {
  projectId: string;
  from: number;
  to: number;
  timeZone: string;
  now: number;
}

/**
 * Loads what a report over `range` reads: the people windows and the persons map (`peopleQuery`),
 * and, for each of `sums`, what `rollupSums` folds or sums (with `folding`, as reports call it). With
 * `pages`, the windows' pages viewed too (the traffic report by page).
 */
export async function primeReport(db: PostgresReports, range: PrimeRange, sums: readonly Omit<SumsQuery, "from" | "to">[] = [], options: { pages?: boolean } = {}): Promise<void> {
  await Promise.all([
    primePeopleWindows(db, range.projectId, range.from, range.to, range.timeZone, range.now).then(() =>
      options.pages ? primeWindowPages(db, range) : undefined,
    ),
    primePersons(db, range.projectId, range.now),
    ...sums.map((query) => primeRollupSums(db, range.projectId, { ...query, from: range.from, to: range.to }, { timeZone: range.timeZone, now: range.now })),
  ]);
}

/** The pages viewed of the range's windows, primed already (a window kept from an earlier prime keeps its pages). */
async function primeWindowPages(db: PostgresReports, range: PrimeRange): Promise<void> {
  await Promise.all(peopleWindows(db, range.projectId, range.from, range.to, range.timeZone, range.now).map((w) => w.pages.prime(db.storage)));
}
