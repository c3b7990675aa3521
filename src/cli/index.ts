// The `bantico` command line (SPEC §7). Each command prints text, or JSON with --json.
import { existsSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError, loadConfig, parsePostgresUrl, type Config } from "../config.ts";
import { databasePath } from "../db/database.ts";
import { connectPostgres, displayPostgresUrl, explainPostgresError } from "../db/postgres/connection.ts";
import { migratePostgres } from "../db/postgres/migrate.ts";
import { postgresMigrations } from "../db/postgres/migrations.ts";
import { postgresStorage } from "../db/storage/postgres.ts";
import type { AppContext } from "../context.ts";
import type { SQL } from "bun";
import { migrateTo, MigrateToError, type CopyProgress, type MigrateToSummary } from "../db/migrate-to/index.ts";
import { MigrationError } from "../db/migrate.ts";
import { openInstance, type Instance } from "../instance.ts";
import { startServer } from "../server.ts";
import { StartupError } from "../startup.ts";
import { createProject, getProject } from "../projects/service.ts";
import { createUser, ROLES, UserInputError, type Role } from "../auth/users.ts";
import { createApiKey } from "../auth/api-keys.ts";
import { describeErasure, erasePerson, type ErasureContext } from "../privacy/erasure.ts";
import { PostgresWriteQueue } from "../db/postgres/write-queue.ts";
import { currentSetupToken, setupUrl } from "../auth/setup-token.ts";
import { parseCommandLine, requireFlag, UsageError, type ParsedArgs } from "./args.ts";
import packageJson from "../../package.json" with { type: "json" };

export const HELP = `Bantico ${packageJson.version}: which link, campaign, source and lead brought the customers who paid.

Usage: bantico [command] [options]

Commands:
  serve                                   start the server (default)
  migrate                                 apply pending database migrations (to PostgreSQL when
                                          BANTICO_DATABASE_URL is set)
  migrate-to [postgres://…]               copy the SQLite database in --data into an empty PostgreSQL
                                          database (default: BANTICO_DATABASE_URL), schema included;
                                          a re-run resumes an interrupted copy
  project create --name NAME              create a project; prints its id and snippet token
  user create --email E --password P [--role owner|admin|viewer] [--project ID]
                                          create a dashboard user (default role: owner); with
                                          --project, admin or viewer of that project only
  apikey create --project ID [--name N]   create an API key for a project (shown once)
  backup FILE                             write a consistent copy of the database, also while serving
  erase --project ID --email E            erase a person (GDPR): their email, name and traits everywhere
  setup-link                              print the one-time first-start setup URL again (while no owner exists)
  healthcheck                             exit 0 when the server on $PORT answers /healthz (for Docker)
  help                                    this text
  version                                 the version

Options (before or after the command):
  --data DIR    data directory (default: $BANTICO_DATA_DIR or ./data)
  --json        machine-readable output

Environment: PORT (3000), BANTICO_DATA_DIR (./data), BANTICO_BASE_URL, BANTICO_SECRET, BANTICO_TRUSTED_PROXIES,
BANTICO_DATABASE_URL (PostgreSQL: serve, migrate, migrate-to, project, user, apikey, setup-link and erase use it; backup refuses it: use pg_dump).
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
};

/** Runs one command; resolves to the process exit code (serve resolves once the server is up). */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv);
    if (args.flags.help) {
      io.out(HELP);
      return 0;
    }
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`bantico: ${error.message}\n\n${HELP}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof MigrationError || error instanceof StartupError || error instanceof UserInputError || error instanceof CommandError || error instanceof MigrateToError) {
      io.err(`bantico: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

class CommandError extends Error {}

/**
 * Commands that work on SQLite's file alone (a backup copies it; PostgreSQL's is pg_dump): with
 * BANTICO_DATABASE_URL they refuse rather than pretend. project, user, apikey, setup-link and erase run on either engine (withStorage).
 */
const SQLITE_ONLY = new Set(["backup"]);

function notOnPostgresYet(command: string, config: Config): CommandError {
  const what = `"bantico ${command}" on PostgreSQL`;
  return new CommandError(
    `${what} (BANTICO_DATABASE_URL) is not available in this version yet: unset BANTICO_DATABASE_URL to keep using SQLite in ${config.dataDir}; "bantico migrate-to URL" can copy it into PostgreSQL ahead of the move`,
  );
}

async function dispatch(args: ParsedArgs, io: CliIo): Promise<number> {
  const [command = "serve", sub, ...rest] = args.positionals;
  const config = () => loadConfig(io.env, { dataDir: args.flags.data as string | undefined });
  const print = (json: unknown, text: string) => io.out(args.flags.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
  const expectNoMore = (extra: (string | undefined)[]) => {
    const unexpected = extra.filter((x) => x !== undefined);
    if (unexpected.length > 0) throw new UsageError(`unexpected argument: ${unexpected.join(" ")}`);
  };

  if (SQLITE_ONLY.has(command) && config().databaseUrl) throw notOnPostgresYet(command, config());

  switch (command) {
    case "help":
      io.out(HELP);
      return 0;
    case "version":
      print({ version: packageJson.version }, packageJson.version);
      return 0;
    case "serve": {
      expectNoMore([sub, ...rest]);
      const server = await startServer(config());
      const { applied } = server.instance;
      if (applied.length > 0 && !args.flags.json) io.err(`applied migrations: ${applied.join(", ")}\n`);
      const { config: served, nodeId } = server.instance.ctx;
      const where = served.databaseUrl ? `data in PostgreSQL at ${displayPostgresUrl(served.databaseUrl)}, node ${nodeId}` : `data in ${served.dataDir}`;
      print({ url: server.url, dataDir: served.dataDir, ...(served.databaseUrl ? { nodeId } : {}) }, `Bantico listening on ${server.url} (${where})`);
      // After the listening line: scripts (and .ci/run) take the first URL in the log as the server's.
      if (server.setupUrl) print({ setupUrl: server.setupUrl }, `No owner yet: open ${server.setupUrl} to create one (this link works once)`);
      const shutdown = () => {
        void server.stop().then(() => process.exit(0));
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      return 0;
    }
    case "migrate": {
      expectNoMore([sub, ...rest]);
      const { databaseUrl } = config();
      if (databaseUrl) {
        const applied = await migratePostgresAt(databaseUrl);
        print({ applied }, applied.length ? `applied: ${applied.join(", ")}` : "the database is up to date");
        return 0;
      }
      return withInstance(config(), (instance) => {
        print({ applied: instance.applied }, instance.applied.length ? `applied: ${instance.applied.join(", ")}` : "the database is up to date");
        return 0;
      });
    }
    case "migrate-to": {
      expectNoMore(rest);
      // Without an argument, the database BANTICO_DATABASE_URL names.
      const postgresUrl = sub ? parsePostgresUrl(sub, "migrate-to's URL") : config().databaseUrl;
      if (!postgresUrl) throw new UsageError("migrate-to needs the URL of an empty PostgreSQL database: bantico migrate-to postgres://user:password@host:5432/bantico");
      const summary = await migrateTo({ sqlitePath: databasePath(config().dataDir), postgresUrl, onProgress: progressPrinter(io) });
      print(summary, describeCopy(summary));
      return 0;
    }
    case "project":
      if (sub !== "create") throw new UsageError(`unknown command: project ${sub ?? ""}`.trim());
      expectNoMore(rest);
      return withStorage(config(), async (ctx) => {
        const project = await createProject(ctx.storage, { name: requireFlag(args, "name") });
        print(
          { id: project.id, name: project.name, token: project.token },
          `created project ${project.name}\n  id:    ${project.id}\n  token: ${project.token}`,
        );
        return 0;
      });
    case "user": {
      if (sub !== "create") throw new UsageError(`unknown command: user ${sub ?? ""}`.trim());
      expectNoMore(rest);
      const role = (args.flags.role as string | undefined) ?? "owner";
      if (!ROLES.includes(role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
      const email = requireFlag(args, "email");
      const password = requireFlag(args, "password");
      // With --project the role holds on that project only; the user sees no other.
      const projectId = args.flags.project === undefined ? undefined : requireFlag(args, "project");
      if (projectId !== undefined && role === "owner") throw new UsageError("an owner holds every project: give --role admin or viewer with --project");
      return withStorage(config(), async (ctx) => {
        if (projectId !== undefined && !(await getProject(ctx.storage, projectId))) throw new CommandError(`no project with id ${projectId}`);
        const user = await createUser(ctx.storage, { email, password, role: role as Role, projectId });
        print({ id: user.id, email: user.email, role }, `created ${role} ${user.email} (${user.id})${projectId ? ` on project ${projectId} only` : ""}`);
        return 0;
      });
    }
    case "apikey": {
      if (sub !== "create") throw new UsageError(`unknown command: apikey ${sub ?? ""}`.trim());
      expectNoMore(rest);
      const projectId = requireFlag(args, "project");
      return withStorage(config(), async (ctx) => {
        if (!(await getProject(ctx.storage, projectId))) throw new CommandError(`no project with id ${projectId}`);
        const created = await createApiKey(ctx.storage, projectId, (args.flags.name as string | undefined) ?? "");
        print(
          { key: created.key, prefix: created.prefix, projectId: created.projectId },
          `created API key for ${projectId} (shown only now, keep it safe):\n  ${created.key}`,
        );
        return 0;
      });
    }
    case "backup": {
      if (!sub) throw new UsageError("backup needs a FILE to write");
      expectNoMore(rest);
      const target = resolve(sub);
      if (existsSync(target)) throw new CommandError(`${target} already exists; choose a new file name`);
      if (!existsSync(dirname(target))) throw new CommandError(`the folder ${dirname(target)} does not exist`);
      return withInstance(config(), ({ ctx }) => {
        // VACUUM INTO reads one consistent snapshot even while the server writes; a temporary
        // name and a rename mean FILE is never seen half-written.
        const partial = `${target}.partial-${process.pid}`;
        try {
          ctx.db.query("VACUUM INTO ?").run(partial);
          renameSync(partial, target);
        } catch (error) {
          rmSync(partial, { force: true });
          throw new CommandError(`backup failed: ${(error as Error).message}`);
        }
        print({ file: target }, `backup written to ${target}`);
        return 0;
      });
    }
    case "erase": {
      expectNoMore([sub, ...rest]);
      const projectId = requireFlag(args, "project");
      const email = requireFlag(args, "email");
      return withStorage(config(), async (ctx) => {
        if (!(await getProject(ctx.storage, projectId))) throw new CommandError(`no project with id ${projectId}`);
        // Nothing to erase is a success too: afterwards the project holds nothing of this person.
        const erased = await erasePerson(ctx, projectId, { email });
        print(
          { found: erased !== null, ...erased },
          erased ? describeErasure(erased) : `nothing to erase: project ${projectId} holds no profile, payment or lead with this email`,
        );
        return 0;
      });
    }
    case "setup-link": {
      expectNoMore([sub, ...rest]);
      const cfg = config();
      return withStorage(cfg, async (ctx) => {
        const token = await currentSetupToken(ctx.storage, ctx.now());
        const base = cfg.baseUrl ?? `http://localhost:${cfg.port}`;
        if (!token) throw new CommandError(`this instance already has an owner, so there is no setup link: sign in at ${base}/login`);
        const url = setupUrl(base, token);
        print({ setupUrl: url }, url);
        return 0;
      });
    }
    case "healthcheck": {
      expectNoMore([sub, ...rest]);
      const { port } = config();
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) })
        .then((r) => r.ok)
        .catch(() => false);
      print({ healthy: ok }, ok ? "healthy" : "unhealthy");
      return ok ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

async function migratePostgresAt(url: string): Promise<string[]> {
  const { sql, applied } = await connectMigrated(url);
  await sql.close();
  return applied;
}

/** A connection to PostgreSQL at `url`, its schema migrated first; a failure told in one line. */
async function connectMigrated(url: string): Promise<{ sql: SQL; applied: string[] }> {
  const sql = connectPostgres(url, { max: 1, integers: true });
  try {
    return { sql, applied: await migratePostgres(sql, postgresMigrations) };
  } catch (error) {
    await sql.close();
    throw explainPostgresError(url, error) ?? error;
  }
}

/**
 * For commands whose capabilities talk to the storage interface alone: the PostgreSQL database
 * BANTICO_DATABASE_URL names (migrated first, as every start does), else the data dir's SQLite file.
 */
async function withStorage(config: Config, run: (ctx: Pick<AppContext, "storage" | "now"> & ErasureContext) => Promise<number>): Promise<number> {
  if (!config.databaseUrl) return withInstance(config, ({ ctx }) => run(ctx));
  const { sql } = await connectMigrated(config.databaseUrl);
  const writes = new PostgresWriteQueue(sql);
  try {
    return await run({ storage: postgresStorage(sql), writes, now: Date.now });
  } finally {
    await writes.close();
    await sql.close();
  }
}

/** Progress on stderr (stdout keeps the summary, JSON with --json): a line per table at every tenth of its rows. */
function progressPrinter(io: CliIo): (progress: CopyProgress) => void {
  const shownTenths = new Map<string, number>();
  return ({ table, copiedRows, totalRows, alreadyCopied }) => {
    if (alreadyCopied) return io.err(`${table}: already copied (${copiedRows.toLocaleString("en")} rows)\n`);
    const tenths = totalRows === 0 ? 10 : Math.floor((copiedRows / totalRows) * 10);
    if ((shownTenths.get(table) ?? -1) >= tenths) return;
    shownTenths.set(table, tenths);
    const percent = totalRows === 0 ? 100 : Math.min(100, Math.floor((copiedRows / totalRows) * 100));
    io.err(`${table}: ${copiedRows.toLocaleString("en")} of ${totalRows.toLocaleString("en")} rows (${percent}%)\n`);
  };
}

function describeCopy(summary: MigrateToSummary): string {
  const copied = `${summary.resumed ? "resumed: " : ""}copied ${summary.copiedNow.toLocaleString("en")} rows in ${summary.seconds} s (${summary.rowsPerSecond.toLocaleString("en")} rows/s)`;
  return `${copied} from ${summary.source} to ${summary.target}\nverified: all ${summary.tables.length} tables (${summary.rows.toLocaleString("en")} rows) have the same row counts and column sums in both databases`;
}

async function withInstance(config: ReturnType<typeof loadConfig>, run: (instance: Instance) => number | Promise<number>): Promise<number> {
  const instance = openInstance(config);
  try {
    return await run(instance);
  } finally {
    instance.close();
  }
}
