// A soak of Bun.SQL against a real PostgreSQL (issue 17): many queries in flight on a small pool, of
// shapes that a statement cache could mix up (the same text with parameters of other types, other
// texts with the same parameters, the same columns under other names, texts never seen before), with failing statements and
// transactions among them. Every answer is checked against what its own parameters make it: a row
// of another statement, a stuck pool or a lost error shows as a count, not as a flaky report.
import type { SQL } from "bun";

export interface SoakFigures {
  queries: number;
  perSecond: number;
  /** Answers that were not what their own parameters make: rows of another statement. */
  wrongAnswers: number;
  /** Which checks answered wrong, as "check k, query n", the first few. */
  firstWrong: string[];
  /** The division by zero each failing statement must raise, raised as that error. */
  expectedErrors: number;
  /** Any other error: a failing statement that took a healthy one down with it, a closed connection. */
  unexpectedErrors: string[];
  p99Ms: number;
  /** The slowest query: a pool stall shows here. */
  maxMs: number;
}

const ROWS = 10_000;

/** Creates the soak's tables in the database `sql` is connected to. */
export async function prepareSoak(sql: SQL): Promise<void> {
  await sql.unsafe("CREATE TABLE IF NOT EXISTS soak_rows (id int PRIMARY KEY, name text NOT NULL, amount bigint NOT NULL)");
  await sql.unsafe("CREATE TABLE IF NOT EXISTS soak_log (id bigserial PRIMARY KEY, tag text NOT NULL)");
  await sql.unsafe("TRUNCATE soak_rows, soak_log");
  await sql.unsafe(`INSERT INTO soak_rows SELECT i, 'row-' || i, i::bigint * 1000003 FROM generate_series(1, ${ROWS}) AS i`);
}

type Check = (n: number) => Promise<boolean>;

function checks(sql: SQL): Check[] {
  const id = (n: number) => 1 + (n % ROWS);
  return [
    async (n) => {
      const [row] = await sql`SELECT id, name, amount FROM soak_rows WHERE id = ${id(n)}`;
      return row?.id === id(n) && row.name === `row-${id(n)}` && BigInt(row.amount) === BigInt(id(n)) * 1000003n;
    },
    // Other texts with the same parameters and the same column count.
    async (n) => {
      const [row] = await sql`SELECT ${n}::int AS x`;
      return row?.x === n && !("y" in row);
    },
    async (n) => {
      const [row] = await sql`SELECT ${n}::int + 1 AS y`;
      return row?.y === n + 1 && !("x" in row);
    },
    // The same text with parameters of another type.
    async (n) => {
      const [row] = await sql`SELECT ${String(n)}::text AS v, pg_typeof(${String(n)}::text)::text AS t`;
      return row?.v === String(n) && row.t === "text";
    },
    async (n) => {
      const [row] = await sql.unsafe("SELECT $1 AS v", [n % 2 === 0 ? `s${n}` : n]);
      return n % 2 === 0 ? row?.v === `s${n}` : String(row?.v) === String(n);
    },
    async (n) => {
      const rows = await sql`SELECT id FROM soak_rows WHERE id BETWEEN ${id(n)} AND ${id(n) + 9} ORDER BY id`;
      const expected = Math.min(10, ROWS - id(n) + 1);
      return rows.length === expected && rows.every((row: { id: number }, i: number) => row.id === id(n) + i);
    },
    async (n) => {
      const [row] = await sql`SELECT count(*)::int AS n, ${id(n)}::int AS tag FROM soak_rows WHERE id <= ${id(n)}`;
      return row?.n === id(n) && row.tag === id(n);
    },
    // A text never seen before must be parsed first: a prepared statement queued after it must not be
    // sent ahead of it, or the answers shift by one (Bun 1.3.14, oven-sh/bun#33665).
    async (n) => {
      const [row] = await sql.unsafe(`SELECT $1::int AS v, ${n} AS novel`, [n]);
      return row?.v === n && row.novel === n;
    },
    async (n) => {
      const tag = `t${n}`;
      const rows = await sql.begin(async (tx) => {
        await tx`INSERT INTO soak_log (tag) VALUES (${tag})`;
        return tx`SELECT tag FROM soak_log WHERE tag = ${tag}`;
      });
      return rows.length === 1 && rows[0].tag === tag;
    },
  ];
}

/** Runs the checks round-robin, `inFlight` at a time, for `seconds`. */
export async function soak(sql: SQL, options: { seconds: number; inFlight: number }): Promise<SoakFigures> {
  const all = checks(sql);
  const failing = async (n: number) => {
    await sql`SELECT 1 / (${n}::int - ${n}::int) AS boom`;
  };
  const figures: SoakFigures = { queries: 0, perSecond: 0, wrongAnswers: 0, firstWrong: [], expectedErrors: 0, unexpectedErrors: [], p99Ms: 0, maxMs: 0 };
  const times: number[] = [];
  const started = performance.now();
  const until = started + options.seconds * 1000;
  let next = 0;
  const worker = async () => {
    while (performance.now() < until) {
      const n = next++;
      const t = performance.now();
      try {
        // One in eleven fails on the server, between the others on the same connections.
        if (n % 11 === 10) {
          await failing(n);
          figures.unexpectedErrors.push(`query ${n}: the division by zero answered rows`);
        } else if (!(await all[n % all.length]!(n))) {
          if (++figures.wrongAnswers <= 5) figures.firstWrong.push(`check ${n % all.length}, query ${n}`);
        }
      } catch (error) {
        const { errno, message } = error as { errno?: string; message?: string };
        if (n % 11 === 10 && errno === "22012") figures.expectedErrors++;
        else figures.unexpectedErrors.push(`query ${n}: ${message ?? String(error)}`);
      }
      times.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  times.sort((a, b) => a - b);
  figures.queries = times.length;
  figures.perSecond = times.length / ((performance.now() - started) / 1000);
  figures.p99Ms = times[Math.floor(times.length * 0.99)] ?? 0;
  figures.maxMs = times.at(-1) ?? 0;
  return figures;
}
