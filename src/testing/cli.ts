// Test helpers: the `bantico` command run as a user runs it, through the source entry point in a child process.
import { afterAll } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { databasePath } from "../db/database.ts";
import { connectPostgres } from "../db/postgres/connection.ts";
import { postgresStorage } from "../db/storage/postgres.ts";
import { sqliteStorage } from "../db/storage/sqlite.ts";
import type { Engine, Storage } from "../db/storage/storage.ts";
import { postgresNodeEnv, tempDataDir, testEngine } from "./harness.ts";
import { freshPostgresDatabase } from "./postgres.ts";

export const ENTRY = join(import.meta.dir, "..", "main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a command sees: the caller's, without the data dir, secret and database a developer may have set. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  for (const name of ["BANTICO_DATA_DIR", "BANTICO_SECRET", "BANTICO_DATABASE_URL"]) if (!(name in extra)) delete env[name];
  return env;
}

export function bantico(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const result = Bun.spawnSync([process.execPath, ENTRY, ...args], { cwd: options.cwd, env: cliEnv(options.env), stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** The database a test's commands run on: the engine BANTICO_TEST_ENGINE names, as test servers do. */
export interface CliDatabase {
  readonly engine: Engine;
  /** What the commands' environment adds: on PostgreSQL a fresh database's URL and the secret every node shares; on SQLite nothing. */
  readonly env: Record<string, string>;
  /** `work` on the rows as the commands left them, over a connection of its own, closed when `work` resolves. */
  use<T>(work: (storage: Storage) => Promise<T>): Promise<T>;
}

/** The database of the commands given `--data data`: that dir's SQLite file, or with BANTICO_TEST_ENGINE=postgres a fresh PostgreSQL database. */
export async function cliDatabase(data: string): Promise<CliDatabase> {
  if (testEngine() === "sqlite") {
    return {
      engine: "sqlite",
      env: {},
      async use(work) {
        const db = new Database(databasePath(data));
        try {
          return await work(sqliteStorage(db));
        } finally {
          db.close();
        }
      },
    };
  }
  const url = await freshPostgresDatabase();
  return {
    engine: "postgres",
    env: postgresNodeEnv(url),
    async use(work) {
      const sql = connectPostgres(url, { max: 1, integers: true });
      try {
        return await work(postgresStorage(sql));
      } finally {
        await sql.close();
      }
    },
  };
}

/** Reads a child's stream until `pattern` shows up (or the stream ends); returns everything read. */
export async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let output = "";
  while (!pattern.test(output)) {
    const { value, done } = await reader.read();
    if (done) break;
    output += decoder.decode(value);
  }
  reader.releaseLock();
  return output;
}

/** A maker of fresh temporary directories, all removed after the test file. */
export function scratchDirs(label: string): () => string {
  const dirs: { remove(): void }[] = [];
  afterAll(() => dirs.forEach((d) => d.remove()));
  return () => {
    const d = tempDataDir(label);
    dirs.push(d);
    return d.dir;
  };
}
