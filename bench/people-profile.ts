// Times each people count a dashboard page makes, on a data dir seeded by bench/dashboard.ts --keep DIR.
import { loadConfig } from "../src/config.ts";
import { openInstance } from "../src/instance.ts";
import { listProjects } from "../src/projects/service.ts";
import { peopleQuery, peopleTotals, peopleByAttribution, peopleByTraffic, funnel, trackedSteps } from "../src/reports/people/index.ts";
import { sqliteStorage } from "../src/db/storage/sqlite.ts";

const dir = process.argv[2]!;
const days = Number(process.argv[3] ?? "30");
const instance = openInstance(loadConfig({ BANTICO_DATA_DIR: dir, PORT: "0", BANTICO_FX_URL: "off" }));
const db = instance.ctx.db;
const project = (await listProjects(sqliteStorage(db)))[0]!;
const now = Date.now();
const to = Math.ceil(now / 86_400_000) * 86_400_000;
const from = to - days * 86_400_000;
const time = <T>(label: string, f: () => T): T => {
  const t = performance.now();
  const out = f();
  console.log(`${label.padEnd(34)} ${(performance.now() - t).toFixed(1).padStart(9)} ms`);
  return out;
};
for (const round of [1, 2]) {
  console.log(`round ${round}`);
  const q = time("windows", () => peopleQuery({ db, projectId: project.id, from, to, timeZone: project.timezone, now }));
  console.log(`  ${q.windows.length} windows, ${q.windows.reduce((n, w) => n + w.visitor.length, 0)} visits`);
  time("totals", () => peopleTotals(q));
  time("by source", () => peopleByAttribution(q, "source"));
  time("by link", () => peopleByAttribution(q, "link"));
  time("by country", () => peopleByTraffic(q, { kind: "visit", dimension: "country" }));
  time("by page", () => peopleByTraffic(q, { kind: "page" }));
  time("funnel", () => funnel(q, trackedSteps(db, project.id)));
}
instance.close();
