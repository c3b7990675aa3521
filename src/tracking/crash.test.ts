// kill -9 under collect load: every event that got a 2xx is in the database after restart.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { databasePath } from "../db/database.ts";
import { tempDataDir } from "../testing/harness.ts";
import { cliEnv } from "../testing/cli.ts";

const BUN = process.execPath;
const MAIN = join(import.meta.dir, "..", "main.ts");
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";

async function run(args: string[], env: Record<string, string>): Promise<string> {
  const child = Bun.spawn([BUN, MAIN, ...args], { env: cliEnv(env), stdout: "pipe", stderr: "inherit" });
  const out = await new Response(child.stdout).text();
  expect(await child.exited).toBe(0);
  return out;
}

test("events answered 2xx survive kill -9 of the server under collect load", async () => {
  const data = tempDataDir("bantico-crash");
  const env = { BANTICO_DATA_DIR: data.dir, PORT: "0", BANTICO_FX_URL: "off" };
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

    const db = new Database(databasePath(data.dir));
    try {
      const stored = new Set(
        db
          .query<{ seq: number }, []>("SELECT json_extract(props, '$.seq') AS seq FROM events WHERE name = 'crash_probe'")
          .all()
          .map((row) => row.seq),
      );
      const lost = acknowledged.filter((seq) => !stored.has(seq));
      expect(lost).toEqual([]);
    } finally {
      db.close();
    }
  } finally {
    data.remove();
  }
}, 20_000);
