// Test helper: a throwaway PostgreSQL cluster on a free loopback port, one per test run, shared by every test
// file and removed at exit; or the server BANTICO_TEST_DATABASE_URL names. Each test gets its own database
// (bantico_test_<pid>_<n>; on a server of your own they stay behind after the run, for a look or a drop).
import { SQL } from "bun";
import { chownSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const INSTALL_HINT = "PostgreSQL's server binaries (initdb, pg_ctl) were not found: apt-get install postgresql, or set BANTICO_TEST_DATABASE_URL to a server where the tests may create databases";

let server: Promise<URL> | null = null;
let databaseCount = 0;

/** A new empty database on the test server; resolves to its postgres:// URL. */
export async function freshPostgresDatabase(): Promise<string> {
  server ??= startServer();
  const base = await server;
  const name = `bantico_test_${process.pid}_${++databaseCount}`;
  const admin = new SQL(base.href, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.href;
}

async function startServer(): Promise<URL> {
  const existing = process.env.BANTICO_TEST_DATABASE_URL?.trim();
  if (existing) return new URL(existing);
  return startThrowawayCluster();
}

/** The folder of initdb and pg_ctl: on PATH, else Debian's newest (Debian keeps them out of PATH, a folder per major version). */
export function serverBinaries(PATH = process.env.PATH ?? "", debianRoot = "/usr/lib/postgresql"): string {
  const onPath = Bun.which("pg_ctl", { PATH });
  if (onPath && Bun.which("initdb", { PATH })) return join(onPath, "..");
  const versions = existsSync(debianRoot) ? readdirSync(debianRoot).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => join(debianRoot, v, "bin")).find((d) => existsSync(join(d, "initdb")));
  if (!dir) throw new Error(INSTALL_HINT);
  return dir;
}

async function startThrowawayCluster(): Promise<URL> {
  const bin = serverBinaries();
  const root = mkdtempSync(join(tmpdir(), "bantico-pg-"));
  // initdb refuses to run as root: then the cluster belongs to the postgres OS user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(root, Number(run(["id", "-u", "postgres"])), Number(run(["id", "-g", "postgres"])));
  const as = (command: string[]) => (asRoot ? ["runuser", "-u", "postgres", "--", ...command] : command);
  const dataDir = join(root, "data");
  const port = freePort();
  run(as([join(bin, "initdb"), "-D", dataDir, "-U", "bantico", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]));
  // Loopback only, sockets in the cluster's own folder; durability is not the point of a test cluster.
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  run(as([join(bin, "pg_ctl"), "-D", dataDir, "-l", join(root, "server.log"), "-o", options, "-w", "start"]));
  removeWhenGone(process.pid, [...as([join(bin, "pg_ctl"), "-D", dataDir, "-m", "immediate", "stop"])], root);
  return new URL(`postgres://bantico@127.0.0.1:${port}/postgres`);
}

/**
 * Stops the cluster and removes its folder once this process has ended, however it ends: `bun test` runs
 * no exit handlers, and a killed run none at all. A detached shell (started in the background of another,
 * so the test runner does not count it among its children) waits for the pid to go.
 */
function removeWhenGone(pid: number, stop: string[], root: string): void {
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
  const watchdog = `while kill -0 ${pid} 2>/dev/null; do sleep 0.5; done; cd / && ${stop.map(quote).join(" ")}; rm -rf ${quote(root)}`;
  Bun.spawnSync(["sh", "-c", `(${watchdog}) >/dev/null 2>&1 </dev/null &`]);
}

function run(command: string[]): string {
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr.toString().trim() || result.stdout.toString().trim()}`);
  return result.stdout.toString().trim();
}

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}
