// Configuration from the environment, as SPEC §7 names it.
import { resolve } from "node:path";

export interface Config {
  port: number;
  dataDir: string;
  /** Public URL used in short links and snippets, without a trailing slash; null = from the request. */
  baseUrl: string | null;
  /** BANTICO_SECRET when set; otherwise the server generates one into the data dir. */
  secret: string | null;
  /** Peers whose X-Forwarded-For is believed (a reverse proxy in front of Bantico). */
  trustedProxies: string[];
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
  };
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number, not "${value}"`);
  return port;
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
