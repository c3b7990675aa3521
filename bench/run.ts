// `npm run bench`: every benchmark in turn. Each prints its figures beside a baseline from the same run.
import { existsSync } from "node:fs";
import { join } from "node:path";

// Each suite is a file and its arguments: the dashboard's pages on SQLite, then the same on PostgreSQL.
const suites = [["startup"], ["ip-country"], ["tracking"], ["postgres"], ["payments"], ["dashboard"], ["dashboard", "--engine", "postgres"], ["fx"]];
for (const [name, ...args] of suites) {
  const file = join(import.meta.dir, `${name}.ts`);
  if (!existsSync(file)) continue;
  const label = [name, ...args].join(" ");
  console.log(`\n== ${label}`);
  const proc = Bun.spawn([process.execPath, file, ...args], { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) {
    console.error(`bench ${label} failed`);
    process.exitCode = 1;
  }
}
