// Preparing the data directory, and turning start-up failures into one line that names the path and what to do.
import { accessSync, chmodSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DATABASE_FILE } from "./db/database.ts";
import { SECRET_FILE } from "./core/secret.ts";

/** A start-up failure a person can fix; its message is one line with the cause, the path and the fix. */
export class StartupError extends Error {}

const DATABASE_FILES = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`];

/**
 * Makes the data directory private before anything is written to it: created 0700, and a process
 * umask of 077 so the database, its -wal and -shm (which SQLite creates later, on its own) and
 * backups are 0600. Files left 0644 by an older version are narrowed too.
 */
export function prepareDataDir(dataDir: string): void {
  process.umask(0o077);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw unwritable(dataDir, dataDir, error);
  }
  for (const name of [...DATABASE_FILES, SECRET_FILE]) {
    const path = join(dataDir, name);
    if (!existsSync(path)) continue;
    try {
      accessSync(path, name === SECRET_FILE ? constants.R_OK : constants.R_OK | constants.W_OK);
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    } catch (error) {
      throw unwritable(path, dataDir, error);
    }
  }
}

function unwritable(path: string, dataDir: string, error: unknown): StartupError {
  const code = (error as NodeJS.ErrnoException).code || (error as Error).message;
  const uid = process.getuid?.() ?? "?";
  const gid = process.getgid?.() ?? "?";
  const fix = `this process runs as uid ${uid}; give that uid write access (for a Docker bind mount, on the host: chown -R ${uid}:${gid} ${dataDir}) or choose another directory with --data or BANTICO_DATA_DIR`;
  if (!existsSync(path)) return new StartupError(`cannot create the data directory ${path} (${code}): ${fix}`);
  const stat = statSync(path);
  const mode = (stat.mode & 0o777).toString(8).padStart(3, "0");
  return new StartupError(`cannot write ${path} (${code}, owned by uid ${stat.uid} with mode ${mode}): ${fix}`);
}

/** Explains why the database at `path` could not be opened or migrated, or returns null for an error that is not the file's fault. */
export function explainDatabaseError(path: string, dataDir: string, error: unknown): StartupError | null {
  const code = String((error as { code?: unknown }).code ?? "");
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT" || code.startsWith("SQLITE_CORRUPT_")) {
    return new StartupError(
      `${path} is not a usable SQLite database (${(error as Error).message}): restore from a backup: stop Bantico and copy a file written by "bantico backup FILE" to ${path}`,
    );
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM") || code === "SQLITE_AUTH") {
    return unwritable(existsSync(path) ? path : dataDir, dataDir, error);
  }
  return null;
}

/** Explains a listen failure, or returns null when it is something else. */
export function explainListenError(port: number, error: unknown): StartupError | null {
  const code = (error as { code?: unknown }).code;
  if (code === "EADDRINUSE") return new StartupError(`port ${port} is already in use: stop the program listening on it, or set PORT to a free port`);
  if (code === "EACCES") return new StartupError(`port ${port} needs privileges this process lacks: set PORT to 1024 or above`);
  return null;
}
