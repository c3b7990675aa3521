// Connections to PostgreSQL through Bun's built-in driver, and their failures told in one line.
import { SQL } from "bun";
import { StartupError } from "../../startup.ts";

/**
 * `prepare: false` sends unnamed statements. Bun 1.3's named-statement cache answered with another
 * statement's rows under concurrency (oven-sh/bun#33665). On 1.4.5 the soak (src/db/postgres/soak.test.ts,
 * bench/pg-soak.ts) finds no wrong answer either way, and named statements answer 27-44 % more queries
 * per second. But a named statement binds a string to a `json` parameter as a JSON string, a scalar
 * (migrate-to's batches then fail): switching needs every such parameter cast from text first.
 */
export function connectPostgres(url: string, options: { max?: number; integers?: boolean } = {}): SQL {
  return new SQL(url, { prepare: false, max: options.max ?? 4, connectionTimeout: 10, bigint: options.integers ?? false });
}

/** The URL as it may be shown: without its password. */
export function displayPostgresUrl(url: string): string {
  const shown = new URL(url);
  shown.password = "";
  return shown.href;
}

/** Why PostgreSQL at `url` could not be used, as a StartupError naming it and what to do; null for anything else. */
export function explainPostgresError(url: string, error: unknown): StartupError | null {
  const { code, errno, message } = error as { code?: string; errno?: string; message?: string };
  const where = displayPostgresUrl(url);
  if (code === "ERR_POSTGRES_CONNECTION_REFUSED" || code === "ERR_POSTGRES_CONNECTION_TIMEOUT" || code === "ERR_POSTGRES_CONNECTION_CLOSED") {
    return new StartupError(`cannot connect to PostgreSQL at ${where} (${message}): start the server, or correct the host and port in the URL`);
  }
  if (errno === "3D000") return new StartupError(`${message} at ${where}: create it (createdb) or correct the URL`);
  if (errno === "28000" || errno === "28P01") return new StartupError(`PostgreSQL at ${where} refused the login (${message}): correct the user and password in the URL`);
  if (errno === "42501") return new StartupError(`PostgreSQL at ${where} denied a permission (${message}): the URL's user must own the database`);
  return null;
}
