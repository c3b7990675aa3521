// The command line end to end, through the source entry point as a user runs it, on the test engine
// (BANTICO_TEST_ENGINE). What only PostgreSQL does (migrate's schema checks, migrate-to, backup's refusal) is
// in src/db/migrate-to/cli.test.ts.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { databasePath } from "../db/database.ts";
import { bantico, cliDatabase, cliEnv, ENTRY, readUntil, scratchDirs } from "../testing/cli.ts";
import { testEngine } from "../testing/harness.ts";
import { everyRowAsText, sqliteFilesAsText } from "../testing/stored.ts";

const dataDir = scratchDirs("cli");
const onPostgres = testEngine() === "postgres";

function json<T>(result: { code: number; stdout: string; stderr: string }): T {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe("bantico command line", () => {
  test("project create --json prints id, name and token, and stores the project", async () => {
    const data = dataDir();
    const db = await cliDatabase(data);
    const project = json<{ id: string; name: string; token: string }>(bantico(["project", "create", "--name", "Acme", "--json", "--data", data], { env: db.env }));
    expect(Object.keys(project).sort()).toEqual(["id", "name", "token"]);
    expect(project.name).toBe("Acme");
    expect(project.id).toMatch(/^prj_[A-Za-z0-9]+$/);
    expect(await db.use((storage) => storage.all("SELECT name, token FROM projects WHERE id = ?", [project.id]))).toEqual([{ name: "Acme", token: project.token }]);
    expect(existsSync(databasePath(data))).toBe(db.engine === "sqlite");
  });

  test("flags may stand before or after the positional arguments", async () => {
    const data = dataDir();
    const { env } = await cliDatabase(data);
    const before = json<{ name: string }>(bantico(["--json", "--data", data, "--name", "Before", "project", "create"], { env }));
    const after = json<{ name: string }>(bantico(["project", "--data", data, "create", "--name", "After", "--json"], { env }));
    expect([before.name, after.name]).toEqual(["Before", "After"]);
  });

  test("apikey create --json prints the key once, its prefix and project, and stores only its hash", async () => {
    const data = dataDir();
    const db = await cliDatabase(data);
    const project = json<{ id: string }>(bantico(["project", "create", "--name", "Keys", "--json", "--data", data], { env: db.env }));
    const created = json<{ key: string; prefix: string; projectId: string }>(bantico(["apikey", "create", "--project", project.id, "--json", "--data", data], { env: db.env }));
    expect(Object.keys(created).sort()).toEqual(["key", "prefix", "projectId"]);
    expect(created.projectId).toBe(project.id);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const stored = await db.use((storage) => storage.all("SELECT * FROM api_keys"));
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(created.key);
  });

  test("apikey create for an unknown project fails with a message and creates nothing", async () => {
    const data = dataDir();
    const { env } = await cliDatabase(data);
    const result = bantico(["apikey", "create", "--project", "prj_nope", "--data", data], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no project with id prj_nope");
  });

  test("user create --json prints id, email and role; the password is stored as an argon2id hash", async () => {
    const data = dataDir();
    const db = await cliDatabase(data);
    const user = json<{ id: string; email: string; role: string }>(
      bantico(["user", "create", "--email", " Founder@Example.com ", "--password", "correct horse", "--role", "admin", "--json", "--data", data], { env: db.env }),
    );
    expect(user).toEqual({ id: user.id, email: "founder@example.com", role: "admin" });
    const row = (await db.use((storage) => storage.get<{ password_hash: string }>("SELECT password_hash FROM users")))!;
    expect(row.password_hash.startsWith("$argon2id$")).toBe(true);
  });

  test("user create refuses a bad role, a short password and a duplicate email", async () => {
    const data = dataDir();
    const { env } = await cliDatabase(data);
    expect(bantico(["user", "create", "--email", "a@b.co", "--password", "longenough", "--role", "god", "--data", data], { env }).code).toBe(2);
    const short = bantico(["user", "create", "--email", "a@b.co", "--password", "short", "--data", data], { env });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("at least 8");
    expect(bantico(["user", "create", "--email", "a@b.co", "--password", "longenough", "--data", data], { env }).code).toBe(0);
    expect(bantico(["user", "create", "--email", "A@B.co", "--password", "longenough", "--data", data], { env }).stderr).toContain("already exists");
  });

  test("user create --project gives the role on that project only", async () => {
    const data = dataDir();
    const db = await cliDatabase(data);
    const { env } = db;
    const project = json<{ id: string }>(bantico(["project", "create", "--name", "Client site", "--json", "--data", data], { env }));
    const user = json<{ id: string; email: string; role: string }>(
      bantico(["user", "create", "--email", "client@example.com", "--password", "long enough", "--role", "viewer", "--project", project.id, "--json", "--data", data], { env }),
    );
    expect(user).toEqual({ id: user.id, email: "client@example.com", role: "viewer" });
    await db.use(async (storage) => {
      expect(await storage.get("SELECT every_project FROM users WHERE id = ?", [user.id])).toEqual({ every_project: 0 });
      expect(await storage.all("SELECT project_id, role FROM project_members WHERE user_id = ?", [user.id])).toEqual([{ project_id: project.id, role: "viewer" }]);
    });
    const owner = bantico(["user", "create", "--email", "o@example.com", "--password", "long enough", "--role", "owner", "--project", project.id, "--data", data], { env });
    expect(owner.code).toBe(2);
    expect(owner.stderr).toContain("an owner holds every project");
    const unknown = bantico(["user", "create", "--email", "u@example.com", "--password", "long enough", "--role", "admin", "--project", "prj_nope", "--data", data], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no project with id prj_nope");
  });

  test("wrong usage prints help to stderr and exits non-zero", async () => {
    // backup refuses PostgreSQL before it reads its arguments (src/db/migrate-to/cli.test.ts).
    const backup = onPostgres ? [] : [["backup"]];
    for (const args of [["frobnicate"], ["project", "create"], ["project", "delete"], ["--no-such-flag"], ...backup]) {
      const data = dataDir();
      const { env } = await cliDatabase(data);
      const result = bantico([...args, "--data", data], { env });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("Usage: bantico");
    }
  });

  // PostgreSQL's migrate: src/db/migrate-to/cli.test.ts.
  test.skipIf(onPostgres)("migrate reports what it applied, then that the database is up to date", () => {
    const data = dataDir();
    expect(json<{ applied: string[] }>(bantico(["migrate", "--json", "--data", data])).applied).toContain("001_core.sql");
    expect(json<{ applied: string[] }>(bantico(["migrate", "--json", "--data", data])).applied).toEqual([]);
  });

  test("a first start with nothing set serves, and on SQLite creates ./data with the database and a private secret", async () => {
    const cwd = dataDir();
    // On PostgreSQL, "nothing" but the database's URL and the secret every node must share.
    const db = await cliDatabase(join(cwd, "data"));
    const child = Bun.spawn([process.execPath, ENTRY], {
      cwd,
      env: cliEnv({ PORT: "0", ...db.env }),
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const output = await readUntil(child.stdout, /listening on (\S+)/);
      const url = /listening on (\S+)/.exec(output)![1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(existsSync(join(cwd, "data", "bantico.sqlite"))).toBe(db.engine === "sqlite");
      if (db.engine === "sqlite") expect(statSync(join(cwd, "data", "secret")).mode & 0o777).toBe(0o600);
    } finally {
      child.kill();
      await child.exited;
    }
  });

  // backup refuses PostgreSQL by design: src/db/migrate-to/cli.test.ts.
  test.skipIf(onPostgres)("backup writes a consistent, complete copy while the server is serving and writing", async () => {
    const data = dataDir();
    const project = json<{ id: string }>(bantico(["project", "create", "--name", "Live", "--json", "--data", data]));
    const child = Bun.spawn([process.execPath, ENTRY, "serve", "--data", data], { env: cliEnv({ PORT: "0", BANTICO_FX_URL: "off" }), stdout: "pipe", stderr: "pipe" });
    try {
      await readUntil(child.stdout, /listening/);
      for (let i = 0; i < 5; i++) bantico(["apikey", "create", "--project", project.id, "--data", data]);
      const target = join(dataDir(), "backup.sqlite");
      const backup = Bun.spawn([process.execPath, ENTRY, "backup", target, "--json", "--data", data], { env: cliEnv(), stdout: "pipe", stderr: "pipe" });
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

  test("erase --project --email exits 0 with --json, leaves no copy of the person in the database, and exits 0 again when nothing is left", async () => {
    const data = dataDir();
    const db = await cliDatabase(data);
    const { env } = db;
    const project = json<{ id: string }>(bantico(["project", "create", "--name", "Erasure", "--json", "--data", data], { env }));
    const before = await db.use(async (storage) => {
      await storage.run("INSERT INTO profiles (project_id, id, email, name, traits, created_at, updated_at) VALUES (?, 'user_e', 'erase.me@example.com', 'Erin Erased', '{\"pet\":\"cat-named-zorblax\"}', 0, 0)", [project.id]);
      await storage.run("INSERT INTO leads (project_id, lead_id, name, email, created_at) VALUES (?, 'lead_e', 'Erin Erased', 'Erase.Me@example.com', 0)", [project.id]);
      await storage.run(
        `INSERT INTO payments (id, project_id, provider, kind, payment_key, customer_email, amount, net, currency, occurred_at, received_at, method, explanation, profile_id, attributed_at)
         VALUES ('pay_e', ?, 'api', 'sale', 'tx_e', 'erase.me@example.com', 4900, 4900, 'EUR', 0, 0, 'identify_email', ?, 'user_e', 0)`,
        [project.id, JSON.stringify(["The customer's email erase.me@example.com matches profile user_e; …"])],
      );
      return (await everyRowAsText(storage)).toLowerCase();
    });
    const secrets = ["erase.me@example.com", "erin erased", "zorblax"];
    expect(secrets.filter((secret) => before.includes(secret))).toEqual(secrets);

    const erased = json<{ found: boolean; profileIds: string[]; paymentsErased: number; leadsErased: number }>(
      bantico(["erase", "--project", project.id, "--email", "Erase.Me@Example.com", "--json", "--data", data], { env }),
    );
    // SQLite empties its WAL; PostgreSQL vacuums the tables, so no old row version keeps the person.
    const scrubbed = db.engine === "sqlite" ? { walTruncated: true } : { vacuumed: true };
    expect(erased).toMatchObject({ found: true, profileIds: ["user_e"], paymentsErased: 1, leadsErased: 1, ...scrubbed });
    const rows = (await db.use(everyRowAsText)).toLowerCase();
    expect(secrets.filter((secret) => rows.includes(secret))).toEqual([]);
    if (db.engine === "sqlite") {
      const bytes = sqliteFilesAsText(data).toLowerCase();
      expect(secrets.filter((secret) => bytes.includes(secret))).toEqual([]);
    }
    await db.use(async (storage) => {
      expect(await storage.all("SELECT id FROM profiles")).toEqual([]);
      expect(await storage.all("SELECT amount, customer_email, profile_id, explanation FROM payments")).toEqual([
        {
          amount: 4900,
          customer_email: null,
          profile_id: null,
          explanation: JSON.stringify(["The customer's email [erased] matches profile [erased]; …"]),
        },
      ]);
    });

    expect(json<{ found: boolean }>(bantico(["erase", "--project", project.id, "--email", "erase.me@example.com", "--json", "--data", data], { env }))).toEqual({ found: false });
    const text = bantico(["erase", "--email", "erase.me@example.com", "--project", project.id, "--data", data], { env });
    expect([text.code, text.stdout]).toEqual([0, `nothing to erase: project ${project.id} holds no profile, payment or lead with this email\n`]);
    expect(bantico(["erase", "--project", "prj_nope", "--email", "a@b.co", "--data", data], { env }).code).toBe(1);
    expect(bantico(["erase", "--project", project.id, "--data", data], { env }).code).toBe(2);
    expect(existsSync(databasePath(data))).toBe(db.engine === "sqlite");
  });
});
