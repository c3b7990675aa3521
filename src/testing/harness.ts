// Test harness: real servers on loopback over real SQLite files in temporary data dirs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../config.ts";
import { startServer, type RunningServer } from "../server.ts";
import { createProject, type Project } from "../projects/service.ts";
import { createApiKey } from "../auth/api-keys.ts";
import type { Engine, Storage } from "../db/storage/storage.ts";
import { freshPostgresDatabase } from "./postgres.ts";
import { noteEverythingChanged } from "../reports/writes.ts";

/** The secret test servers on PostgreSQL share, as every node of one database must. */
export const TEST_SECRET = "test-secret-shared-by-every-node-0123456789abcdef";

/** What a test node on the PostgreSQL database `url` is given: the URL, and the secret every node shares. */
export const postgresNodeEnv = (url: string) => ({ BANTICO_DATABASE_URL: url, BANTICO_SECRET: TEST_SECRET });

export function tempDataDir(label = "bantico"): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The engine tests that name none run on: BANTICO_TEST_ENGINE=postgres runs them on PostgreSQL (CI's second pass). */
export function testEngine(): Engine {
  return process.env.BANTICO_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";
}

/** Polls until `read` gives something truthy (what a page, a pull or a background job writes later). */
export async function eventually<T>(read: () => T | Promise<T>, what: string, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

export interface TestServer extends RunningServer {
  project: Project;
  /** The server's tables, on its engine: what tests seed and check through. */
  storage: Storage;
  apiKey: string;
  /** Tells the server's report caches that the test wrote rows behind their back (through `storage`, not the app). */
  seeded(): void;
  /** fetch against the server with the project's API key. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the real server on 127.0.0.1 with a fresh data dir, one project and one API key; on a fresh
 * SQLite file, or with `engine: "postgres"` (or BANTICO_TEST_ENGINE=postgres) a fresh database on the test
 * PostgreSQL server.
 */
export async function startTestServer(
  options: { env?: Record<string, string>; now?: () => number; config?: Partial<Config>; engine?: Engine } = {},
): Promise<TestServer> {
  const data = tempDataDir();
  const engine = options.engine ?? testEngine();
  const onPostgres = engine === "postgres" ? postgresNodeEnv(await freshPostgresDatabase()) : {};
  // No test reaches the ECB: a test that wants rates serves its own feed through BANTICO_FX_URL.
  const config = { ...loadConfig({ PORT: "0", BANTICO_DATA_DIR: data.dir, BANTICO_FX_URL: "off", ...onPostgres, ...options.env }), ...options.config };
  const server = await startServer(config, { hostname: "127.0.0.1", now: options.now });
  const project = await createProject(server.instance.ctx.storage, { name: "Test project" });
  const { key } = await createApiKey(server.instance.ctx.storage, project.id, "tests");
  return {
    ...server,
    project,
    storage: server.instance.ctx.storage,
    apiKey: key,
    seeded() {
      const { ctx } = server.instance;
      noteEverythingChanged(ctx.storage.engine === "sqlite" ? ctx.db : ctx.reportNotes!);
    },
    api(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set("authorization", `Bearer ${key}`);
      if (json !== undefined) headers.set("content-type", "application/json");
      return fetch(`${server.url}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
    async close() {
      await server.stop();
      data.remove();
    },
  };
}
