// Start-up time and size of the compiled executable, beside a bare Bun.serve process started the same way.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, row } from "./lib.ts";

const EXECUTABLE = join(import.meta.dir, "..", "dist", "bantico");
const BARE = `const s = Bun.serve({ port: 0, fetch: () => new Response("ok") }); console.log("listening on http://localhost:" + s.port);`;

async function timeToHealthy(command: string[], env: Record<string, string>, path: string): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(command, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "ignore" });
  const reader = child.stdout.getReader();
  let output = "";
  while (!/listening on (\S+)/.test(output)) output += new TextDecoder().decode((await reader.read()).value);
  const url = /listening on (\S+)/.exec(output)![1]!;
  while (!(await fetch(`${url}${path}`).then((r) => r.ok).catch(() => false))) await Bun.sleep(1);
  const elapsed = performance.now() - started;
  child.kill();
  await child.exited;
  return elapsed;
}

if (!existsSync(EXECUTABLE)) {
  console.log("startup: dist/bantico missing, run `npm run build` first");
} else {
  const runs = 7;
  const ours: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), "bantico-startup-"));
    // A fresh data dir each time: the figure includes creating the database and migrating it.
    ours.push(await timeToHealthy([EXECUTABLE, "serve"], { PORT: "0", BANTICO_DATA_DIR: dir }, "/healthz"));
    rmSync(dir, { recursive: true, force: true });
    bare.push(await timeToHealthy([process.execPath, "-e", BARE], {}, "/"));
  }
  row("executable size", `${(statSync(EXECUTABLE).size / 1e6).toFixed(1)} MB`);
  row(`start-up to first /healthz 200 (median of ${runs})`, `${median(ours).toFixed(0)} ms`, `bare Bun.serve ${median(bare).toFixed(0)} ms`);
}
