// Configuration from the environment, as SPEC §7 names it.
import { resolve } from "node:path";
import { ECB_90_DAY_URL } from "./payments/fx/ecb.ts";

export interface Config {
  port: number;
  dataDir: string;
  /** Public URL used in short links and snippets, without a trailing slash; null = from the request. */
  baseUrl: string | null;
  /** BANTICO_SECRET when set; otherwise the server generates one into the data dir. */
  secret: string | null;
  /** Peers whose X-Forwarded-For is believed (a reverse proxy in front of Bantico). */
  trustedProxies: string[];
  /** BANTICO_FX_URL: a document in the ECB eurofxref XML format; null when set to `off`. */
  fxUrl: string | null;
  /** BANTICO_DATABASE_URL: a PostgreSQL database instead of the SQLite file in the data dir (SPEC §11); null = SQLite. */
  databaseUrl: string | null;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, overrides: { dataDir?: string } = {}): Config {
  const port = parsePort(env.PORT);
  const baseUrl = env.BANTICO_BASE_URL?.trim() ? parseBaseUrl(env.BANTICO_BASE_URL.trim()) : null;
  const secret = env.BANTICO_SECRET?.trim() || null;
  if (secret !== null && secret.length < 32) throw new ConfigError("BANTICO_SECRET must be at least 32 characters");
  return {
    port,
    dataDir: resolve(overrides.dataDir ?? (env.BANTICO_DATA_DIR?.trim() || "./data")),
    baseUrl,
    secret,
    trustedProxies: (env.BANTICO_TRUSTED_PROXIES ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    fxUrl: parseFxUrl(env.BANTICO_FX_URL?.trim() || ECB_90_DAY_URL),
    databaseUrl: env.BANTICO_DATABASE_URL?.trim() ? parsePostgresUrl(env.BANTICO_DATABASE_URL.trim(), "BANTICO_DATABASE_URL") : null,
  };
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number, not "${value}"`);
  return port;
}

function parseFxUrl(value: string): string | null {
  if (value.toLowerCase() === "off") return null;
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {}
  throw new ConfigError(`BANTICO_FX_URL must be an http(s) URL or "off", not "${value}"`);
}

/** A postgres:// or postgresql:// URL; `what` names where it came from in the error. Never echoes the value: it may hold a password. */
export function parsePostgresUrl(value: string, what: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {}
  const postgres = url?.protocol === "postgres:" || url?.protocol === "postgresql:";
  if (url && postgres && url.hostname) return url.href;
  const given = !url ? "not a URL" : postgres ? `a ${url.protocol} URL without a host` : `a ${url.protocol} URL`;
  throw new ConfigError(`${what} must be a PostgreSQL URL like postgres://user:password@host:5432/bantico (given: ${given})`);
}

function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`BANTICO_BASE_URL must be an absolute URL, not "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError("BANTICO_BASE_URL must be http or https");
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** The public base URL: the configured one, or the origin the request came to. */
export function publicBaseUrl(config: Config, request: Request): string {
  return config.baseUrl ?? new URL(request.url).origin;
}
