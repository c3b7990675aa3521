// Test helpers: the `bantico` command run as a user runs it, through the source entry point in a child process.
import { afterAll } from "bun:test";
import { join } from "node:path";
import { tempDataDir } from "./harness.ts";

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
