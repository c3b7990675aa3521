// kill -9 under collect load: every event that got a 2xx is in the database after restart, on either engine
// (PostgreSQL commits a hit's batch before it is answered, as SQLite does).
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { databasePath } from "../db/database.ts";
import { connectPostgres } from "../db/postgres/connection.ts";
import { postgresStorage } from "../db/storage/postgres.ts";
import { postgresNodeEnv, tempDataDir } from "../testing/harness.ts";
import { cliEnv } from "../testing/cli.ts";
import { ENGINES } from "../testing/engines.ts";
import { freshPostgresDatabase } from "../testing/postgres.ts";

const BUN = process.execPath;
const MAIN = join(import.meta.dir, "..", "main.ts");
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";

async function run(args: string[], env: Record<string, string>): Promise<string> {
  const child = Bun.spawn([BUN, MAIN, ...args], { env: cliEnv(env), stdout: "pipe", stderr: "inherit" });
  const out = await new Response(child.stdout).text();
  expect(await child.exited).toBe(0);
  return out;
}

/** The `seq` of every probe event in the dead server's database. */
async function storedProbes(dataDir: string, postgresUrl: string | null): Promise<Set<number>> {
  const read = "SELECT props FROM events WHERE name = 'crash_probe'";
  let rows: { props: string }[];
  if (postgresUrl) {
    const sql = connectPostgres(postgresUrl);
    try {
      rows = await postgresStorage(sql).all<{ props: string }>(read);
    } finally {
      await sql.close();
    }
  } else {
    const db = new Database(databasePath(dataDir));
    try {
      rows = db.query<{ props: string }, []>(read).all();
    } finally {
      db.close();
    }
  }
  return new Set(rows.map((row) => (JSON.parse(row.props) as { seq: number }).seq));
}

for (const engine of ENGINES) test(`events answered 2xx survive kill -9 of the server under collect load (${engine})`, async () => {
  const data = tempDataDir("bantico-crash");
  const postgresUrl = engine === "postgres" ? await freshPostgresDatabase() : null;
  const onPostgres: Record<string, string> = postgresUrl ? postgresNodeEnv(postgresUrl) : {};
  const env = { BANTICO_DATA_DIR: data.dir, PORT: "0", BANTICO_FX_URL: "off", ...onPostgres };
  try {
    const { token } = JSON.parse(await run(["project", "create", "--name", "Crash", "--json"], env)) as { token: string };
    const server = Bun.spawn([BUN, MAIN, "serve", "--json"], { env: cliEnv(env), stdout: "pipe", stderr: "inherit" });
    const reader = server.stdout.getReader();
    let banner = "";
    while (!banner.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the server exited before listening");
      banner += new TextDecoder().decode(value);
    }
    const { url } = JSON.parse(banner.split("\n")[0]!) as { url: string };

    const acknowledged: number[] = [];
    let sequence = 0;
    let killed = false;
    const worker = async () => {
      while (!killed) {
        const seq = sequence++;
        try {
          const response = await fetch(`${url}/api/collect`, {
            method: "POST",
            headers: { "user-agent": UA },
            body: JSON.stringify({ t: token, n: "crash_probe", u: "https://site.example/", p: { seq } }),
          });
          if (response.ok) acknowledged.push(seq);
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    // Kill in the middle of the load, after a few hundred acknowledged events, bounded in time either way.
    const deadline = Date.now() + 3000;
    while (acknowledged.length < 500 && Date.now() < deadline) await Bun.sleep(10);
    server.kill("SIGKILL");
    killed = true;
    await server.exited;
    await Promise.all(workers);
    expect(acknowledged.length).toBeGreaterThan(100);

    const stored = await storedProbes(data.dir, postgresUrl);
    const lost = acknowledged.filter((seq) => !stored.has(seq));
    expect(lost).toEqual([]);
  } finally {
    data.remove();
  }
}, 20_000);
