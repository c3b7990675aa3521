// `npm run bench`: every benchmark in turn. Each prints its figures beside a baseline from the same run.
import { existsSync } from "node:fs";
import { join } from "node:path";

const suites = ["startup", "ip-country", "tracking", "postgres", "payments", "dashboard", "fx"];
for (const name of suites) {
  const file = join(import.meta.dir, `${name}.ts`);
  if (!existsSync(file)) continue;
  console.log(`\n== ${name}`);
  const proc = Bun.spawn([process.execPath, file], { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) {
    console.error(`bench ${name} failed`);
    process.exitCode = 1;
  }
}
