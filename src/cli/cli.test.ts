// The command line end to end, through the source entry point as a user runs it.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { tempDataDir } from "../testing/harness.ts";

const ENTRY = join(import.meta.dir, "..", "main.ts");
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));

function dataDir() {
  const d = tempDataDir("cli");
  dirs.push(d);
  return d.dir;
}

function bantico(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  delete env.BANTICO_DATA_DIR;
  delete env.BANTICO_SECRET;
  const result = Bun.spawnSync([process.execPath, ENTRY, ...args], { cwd: options.cwd, env, stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

function json<T>(result: { code: number; stdout: string; stderr: string }): T {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe("bantico command line", () => {
  test("project create --json prints id, name and token", () => {
    const data = dataDir();
    const project = json<{ id: string; name: string; token: string }>(bantico(["project", "create", "--name", "Acme", "--json", "--data", data]));
    expect(Object.keys(project).sort()).toEqual(["id", "name", "token"]);
    expect(project.name).toBe("Acme");
    expect(project.id).toMatch(/^prj_[A-Za-z0-9]+$/);
    expect(existsSync(join(data, "bantico.sqlite"))).toBe(true);
  });

  test("flags may stand before or after the positional arguments", () => {
    const data = dataDir();
    const before = json<{ name: string }>(bantico(["--json", "--data", data, "--name", "Before", "project", "create"]));
    const after = json<{ name: string }>(bantico(["project", "--data", data, "create", "--name", "After", "--json"]));
    expect([before.name, after.name]).toEqual(["Before", "After"]);
  });

  test("apikey create --json prints the key once, its prefix and project, and stores only its hash", () => {
    const data = dataDir();
    const project = json<{ id: string }>(bantico(["project", "create", "--name", "Keys", "--json", "--data", data]));
    const created = json<{ key: string; prefix: string; projectId: string }>(bantico(["apikey", "create", "--project", project.id, "--json", "--data", data]));
    expect(Object.keys(created).sort()).toEqual(["key", "prefix", "projectId"]);
    expect(created.projectId).toBe(project.id);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const db = new Database(join(data, "bantico.sqlite"), { readonly: true });
    const stored = db.query("SELECT * FROM api_keys").all();
    db.close();
    expect(JSON.stringify(stored)).not.toContain(created.key);
  });

  test("apikey create for an unknown project fails with a message and creates nothing", () => {
    const result = bantico(["apikey", "create", "--project", "prj_nope", "--data", dataDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no project with id prj_nope");
  });

  test("user create --json prints id, email and role; the password is stored as an argon2id hash", () => {
    const data = dataDir();
    const user = json<{ id: string; email: string; role: string }>(
      bantico(["user", "create", "--email", " Founder@Example.com ", "--password", "correct horse", "--role", "admin", "--json", "--data", data]),
    );
    expect(user).toEqual({ id: user.id, email: "founder@example.com", role: "admin" });
    const db = new Database(join(data, "bantico.sqlite"), { readonly: true });
    const row = db.query<{ password_hash: string }, []>("SELECT password_hash FROM users").get()!;
    db.close();
    expect(row.password_hash.startsWith("$argon2id$")).toBe(true);
  });

  test("user create refuses a bad role, a short password and a duplicate email", () => {
    const data = dataDir();
    expect(bantico(["user", "create", "--email", "a@b.co", "--password", "longenough", "--role", "god", "--data", data]).code).toBe(2);
    const short = bantico(["user", "create", "--email", "a@b.co", "--password", "short", "--data", data]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("at least 8");
    expect(bantico(["user", "create", "--email", "a@b.co", "--password", "longenough", "--data", data]).code).toBe(0);
    expect(bantico(["user", "create", "--email", "A@B.co", "--password", "longenough", "--data", data]).stderr).toContain("already exists");
  });

  test("wrong usage prints help to stderr and exits non-zero", () => {
    for (const args of [["frobnicate"], ["project", "create"], ["project", "delete"], ["--no-such-flag"], ["backup"]]) {
      const result = bantico([...args, "--data", dataDir()]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("Usage: bantico");
    }
  });

  test("migrate reports what it applied, then that the database is up to date", () => {
    const data = dataDir();
    expect(json<{ applied: string[] }>(bantico(["migrate", "--json", "--data", data])).applied).toContain("001_core.sql");
    expect(json<{ applied: string[] }>(bantico(["migrate", "--json", "--data", data])).applied).toEqual([]);
  });

  test("a first start with nothing set creates ./data with the database and a private secret, and serves", async () => {
    const cwd = dataDir();
    const child = Bun.spawn([process.execPath, ENTRY], {
      cwd,
      env: { ...process.env, PORT: "0", BANTICO_DATA_DIR: "", BANTICO_SECRET: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const reader = child.stdout.getReader();
      let output = "";
      while (!/listening on (\S+)/.test(output)) {
        const { value, done } = await reader.read();
        if (done) break;
        output += new TextDecoder().decode(value);
      }
      const url = /listening on (\S+)/.exec(output)![1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(existsSync(join(cwd, "data", "bantico.sqlite"))).toBe(true);
      expect(statSync(join(cwd, "data", "secret")).mode & 0o777).toBe(0o600);
    } finally {
      child.kill();
      await child.exited;
    }
  });

  test("backup writes a consistent, complete copy while the server is serving and writing", async () => {
    const data = dataDir();
    const project = json<{ id: string }>(bantico(["project", "create", "--name", "Live", "--json", "--data", data]));
    const child = Bun.spawn([process.execPath, ENTRY, "serve", "--data", data], { env: { ...process.env, PORT: "0", BANTICO_FX_URL: "off" }, stdout: "pipe", stderr: "pipe" });
    try {
      const reader = child.stdout.getReader();
      let output = "";
      while (!output.includes("listening")) output += new TextDecoder().decode((await reader.read()).value);
      for (let i = 0; i < 5; i++) bantico(["apikey", "create", "--project", project.id, "--data", data]);
      const target = join(dataDir(), "backup.sqlite");
      const backup = Bun.spawn([process.execPath, ENTRY, "backup", target, "--json", "--data", data], { stdout: "pipe", stderr: "pipe" });
      const writer = new Database(join(data, "bantico.sqlite"));
      writer.exec("PRAGMA busy_timeout = 5000");
      let writesDuringBackup = 0;
      while (backup.exitCode === null) {
        writer.query("INSERT INTO projects (id, name, token, created_at) VALUES (?, 'during', ?, 0)").run(`prj_w${writesDuringBackup}`, `tok_w${writesDuringBackup}`);
        writesDuringBackup++;
        await Bun.sleep(1);
      }
      writer.close();
      expect(backup.exitCode).toBe(0);
      expect(JSON.parse(await new Response(backup.stdout).text()).file).toBe(target);
      const copy = new Database(target, { readonly: true });
      expect(copy.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
      expect(copy.query<{ n: number }, []>("SELECT count(*) AS n FROM api_keys").get()!.n).toBe(5);
      expect(copy.query<{ n: number }, []>("SELECT count(*) AS n FROM projects").get()!.n).toBeGreaterThanOrEqual(1);
      copy.close();
      const again = bantico(["backup", target, "--data", data]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists");
    } finally {
      child.kill();
      await child.exited;
    }
  });
});
