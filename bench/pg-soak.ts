// Bun.SQL soak (issue 17): the checks of src/testing/pg-soak.ts for longer, with the named-statement
// cache off (what Bantico uses) and on, at two pool sizes; each line beside the others of the same run.
// Needs PostgreSQL: a throwaway cluster (src/testing/postgres.ts) or BANTICO_TEST_DATABASE_URL.
//
//   npx bun bench/pg-soak.ts [--seconds N]
import { SQL } from "bun";
import { freshPostgresDatabase } from "../src/testing/postgres.ts";
import { prepareSoak, soak } from "../src/testing/pg-soak.ts";

const at = process.argv.indexOf("--seconds");
const seconds = at > 0 ? Number(process.argv[at + 1]) : 20;
const url = await freshPostgresDatabase();
console.log(`Bun ${Bun.version}, ${seconds} s per line, 64 queries in flight, one in eleven failing on purpose`);
for (const max of [1, 4, 16]) {
  for (const prepare of [false, true]) {
    const sql = new SQL(url, { prepare, max, connectionTimeout: 10 });
    try {
      await prepareSoak(sql);
      const f = await soak(sql, { seconds, inFlight: 64 });
      console.log(
        `prepare: ${String(prepare).padEnd(5)} max ${String(max).padStart(2)}: ${f.queries.toLocaleString("en")} queries, ${f.perSecond.toFixed(0)}/s, ` +
          `p99 ${f.p99Ms.toFixed(1)} ms, max ${f.maxMs.toFixed(1)} ms; wrong answers ${f.wrongAnswers}, errors as expected ${f.expectedErrors}, other errors ${f.unexpectedErrors.length}` +
          (f.firstWrong.length ? ` (${f.firstWrong.join("; ")})` : "") +
          (f.unexpectedErrors.length ? ` (first: ${f.unexpectedErrors[0]})` : ""),
      );
    } finally {
      await sql.close();
    }
  }
}
process.exit(0);
