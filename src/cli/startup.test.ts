// First start and start-up failures as a user meets them: the setup link in the log, private files,
// and one line naming the path and the fix when the database, the data directory or the port is unusable.
// On the test engine (BANTICO_TEST_ENGINE); on PostgreSQL the data dir holds nothing (the secret comes from
// BANTICO_SECRET), so its files and their failures are SQLite's; a wrong or unreachable PostgreSQL URL is
// in src/db/migrate-to/cli.test.ts.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, openSync, statSync, writeSync, closeSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { bantico, cliDatabase, cliEnv, ENTRY, readUntil, scratchDirs, type CliResult } from "../testing/cli.ts";
import { testEngine } from "../testing/harness.ts";

const tempDir = scratchDirs("startup");
const onPostgres = testEngine() === "postgres";

const mode = (path: string) => statSync(path).mode & 0o777;

/** `serve` in a child with a umask of 022, as a shell gives it, so the modes we check are Bantico's own doing. */
function serve(data: string, env: Record<string, string> = {}, prefix: string[] = []) {
  return Bun.spawn([...prefix, "sh", "-c", 'umask 022; exec "$0" "$@"', process.execPath, ENTRY, "serve", "--data", data], {
    env: cliEnv({ PORT: "0", ...env }),
    stdout: "pipe",
    stderr: "pipe",
  });
}

const LISTENING = /listening on \S+.*\n/;
const SETUP_LINE = /setup\?token=\w+.*\n/;

/** Runs serve until it prints `until`, lets `inspect` look at the running instance, stops it; returns all it printed. */
async function serveOnce(data: string, env: Record<string, string> = {}, until = LISTENING, inspect: () => void = () => {}): Promise<string> {
  const child = serve(data, env);
  let output = "";
  try {
    output = await readUntil(child.stdout, until);
    inspect();
  } finally {
    child.kill();
    await child.exited;
  }
  return output + (await readUntil(child.stdout, /(?!)/));
}

describe("first start", () => {
  test("serve prints the one-time setup URL after its own URL while there is no owner; setup-link prints the same", async () => {
    const data = tempDir();
    const { env: engine } = await cliDatabase(data);
    const env = { ...engine, BANTICO_BASE_URL: "https://stats.example.com" };
    const output = await serveOnce(data, env, SETUP_LINE);
    const lines = output.trim().split("\n");
    expect(lines[0]).toContain("listening on http://");
    expect(lines[1]).toMatch(/^No owner yet: open https:\/\/stats\.example\.com\/setup\?token=\w{32} to create one/);
    const printed = /(https:\S+)/.exec(lines[1]!)![1]!;

    const again = bantico(["setup-link", "--data", data], { env });
    expect(again).toEqual({ code: 0, stdout: `${printed}\n`, stderr: "" });
    const asJson = bantico(["setup-link", "--json", "--data", data], { env });
    expect(JSON.parse(asJson.stdout)).toEqual({ setupUrl: printed });
    // A restart keeps the same link until it is used.
    expect(await serveOnce(data, env, SETUP_LINE)).toContain(printed);

    expect(bantico(["user", "create", "--email", "owner@example.com", "--password", "long enough", "--data", data], { env: engine }).code).toBe(0);
    const refused = bantico(["setup-link", "--data", data], { env: engine });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("already has an owner");
    expect(await serveOnce(data, engine)).not.toContain("setup?token=");
  }, 30_000);
});

describe.skipIf(onPostgres)("files are private", () => {
  test("serve creates the data directory 0700 and the database, -wal and -shm 0600", async () => {
    const data = join(tempDir(), "data");
    await serveOnce(data, {}, LISTENING, () => {
      expect(mode(data)).toBe(0o700);
      for (const name of ["bantico.sqlite", "bantico.sqlite-wal", "bantico.sqlite-shm", "secret"]) {
        expect(existsSync(join(data, name))).toBe(true);
        expect([name, mode(join(data, name))]).toEqual([name, 0o600]);
      }
    });
  }, 20_000);

  test("every command creates them private too, and narrows files an older version left readable", () => {
    const data = join(tempDir(), "data");
    const shell = (args: string[]) => Bun.spawnSync(["sh", "-c", 'umask 022; exec "$0" "$@"', process.execPath, ENTRY, ...args], { env: cliEnv() });
    expect(shell(["project", "create", "--name", "Acme", "--data", data]).exitCode).toBe(0);
    expect(mode(data)).toBe(0o700);
    expect(mode(join(data, "bantico.sqlite"))).toBe(0o600);

    chmodSync(join(data, "bantico.sqlite"), 0o644);
    // A reader keeps the WAL open, as a server beside the command would.
    const reader = new Database(join(data, "bantico.sqlite"));
    reader.exec("PRAGMA journal_mode = WAL");
    reader.query("SELECT count(*) FROM projects").get();
    chmodSync(join(data, "bantico.sqlite-wal"), 0o644);
    expect(shell(["apikey", "create", "--project", (reader.query<{ id: string }, []>("SELECT id FROM projects").get()!).id, "--data", data]).exitCode).toBe(0);
    for (const name of ["bantico.sqlite", "bantico.sqlite-wal", "bantico.sqlite-shm"]) expect([name, mode(join(data, name))]).toEqual([name, 0o600]);
    reader.close();
  }, 20_000);
});

/** What every start-up failure must look like: non-zero, a few lines, the path and the fix, no stack trace. */
function expectOneLineFailure(result: { code: number; stderr: string }, ...mentions: string[]) {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split("\n");
  expect(lines.length).toBeLessThanOrEqual(5);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain("Bun v");
  for (const text of mentions) expect(result.stderr).toContain(text);
}

async function serveFailure(data: string, env: Record<string, string> = {}, prefix: string[] = []): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const child = serve(data, env, prefix);
  const timer = setTimeout(() => child.kill(), 10_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, stdout: await new Response(child.stdout).text(), stderr: await new Response(child.stderr).text(), ms: Date.now() - started };
}

describe("start-up failures say what to do in one line", () => {
  test.skipIf(onPostgres)("a file that is not a SQLite database: restore from a backup", async () => {
    const data = tempDir();
    writeFileSync(join(data, "bantico.sqlite"), "this is a text file that someone copied over the database by mistake\n".repeat(100));
    const path = join(data, "bantico.sqlite");
    const served = await serveFailure(data);
    expectOneLineFailure(served, path, "restore from a backup", "bantico backup");
    expect(served.ms).toBeLessThan(5000);
    expectOneLineFailure(bantico(["project", "create", "--name", "X", "--data", data]), path, "restore from a backup");
  }, 20_000);

  test.skipIf(onPostgres)("a corrupt database: restore from a backup", async () => {
    const data = tempDir();
    expect(bantico(["project", "create", "--name", "Soon broken", "--data", data]).code).toBe(0);
    const path = join(data, "bantico.sqlite");
    // Garbage over the schema page, past the 100-byte header: SQLite opens the file, then finds it malformed.
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(3000, 0xa5), 0, 3000, 100);
    closeSync(fd);
    expectOneLineFailure(await serveFailure(data), path, "restore from a backup");
    expectOneLineFailure(bantico(["migrate", "--data", data]), path, "restore from a backup");
  }, 20_000);

  test.skipIf(onPostgres)("a data directory this process cannot write names the uid that needs access", async () => {
    const parent = tempDir();
    const data = join(parent, "data");
    mkdirSync(data);
    let asOtherUser: string[] = [];
    let uid = process.getuid!();
    if (uid === 0) {
      // Root writes anywhere: run as nobody, as a container's user meets a root-owned bind mount.
      chmodSync(parent, 0o755);
      chmodSync(data, 0o755);
      uid = 65534;
      asOtherUser = ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups"];
    } else {
      chmodSync(data, 0o500);
    }
    const served = await serveFailure(data, {}, asOtherUser);
    expectOneLineFailure(served, data, `uid ${uid}`, "chown");
    expect(served.ms).toBeLessThan(5000);
    const command = Bun.spawnSync([...asOtherUser, process.execPath, ENTRY, "project", "create", "--name", "X", "--data", data], { env: cliEnv() });
    expectOneLineFailure({ code: command.exitCode, stderr: command.stderr.toString() }, data, `uid ${uid}`);
    // A directory that cannot even be created says so, and about the same uid.
    const missing = join(data, "deeper");
    const create = Bun.spawnSync([...asOtherUser, process.execPath, ENTRY, "migrate", "--data", missing], { env: cliEnv() });
    expectOneLineFailure({ code: create.exitCode, stderr: create.stderr.toString() }, missing, `uid ${uid}`);
    chmodSync(data, 0o700);
  }, 20_000);

  test("a port in use", async () => {
    const taken = Bun.serve({ port: 0, hostname: "0.0.0.0", fetch: () => new Response("someone else") });
    try {
      const data = tempDir();
      const { env } = await cliDatabase(data);
      const served = await serveFailure(data, { ...env, PORT: String(taken.port) });
      expectOneLineFailure(served, `port ${taken.port} is already in use`, "PORT");
      expect(served.ms).toBeLessThan(5000);
    } finally {
      taken.stop(true);
    }
  }, 20_000);
});
