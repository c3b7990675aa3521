// The compose file the README gives for several nodes (deploy/compose.postgres.yml): read as Compose
// reads it, every node gets the same database URL and secret, believes exactly the proxy's fixed
// address, and the proxy balances across every node and checks each one's /healthz.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";

const COMPOSE = join(import.meta.dir, "..", "..", "..", "deploy", "compose.postgres.yml");

interface Service {
  build?: string;
  environment?: Record<string, string>;
  networks?: string[] | Record<string, { ipv4_address?: string }>;
  configs?: { source: string; target: string }[];
}
interface Compose {
  services: Record<string, Service>;
  configs: Record<string, { content: string }>;
  networks: Record<string, { ipam: { config: { subnet: string }[] } }>;
}

const compose = Bun.YAML.parse(await Bun.file(COMPOSE).text()) as Compose;
const nodes = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

/** Compose's `${NAME:?message}` and `${NAME:-default}`, filled from `env`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_, name: string) => env[name] ?? "");
}

describe("deploy/compose.postgres.yml", () => {
  test("two nodes, each configured identically for PostgreSQL, and the configuration Bantico would load from it is valid", () => {
    expect(nodes.map(([name]) => name)).toEqual(["node-a", "node-b"]);
    const env = { POSTGRES_PASSWORD: "pw", BANTICO_SECRET: "s".repeat(64) };
    const configs = nodes.map(([, service]) => loadConfig(Object.fromEntries(Object.entries(service.environment!).map(([k, v]) => [k, interpolate(v, env)]))));
    for (const config of configs) {
      expect(config.databaseUrl).toBe("postgres://bantico:pw@postgres:5432/bantico");
      expect(config.secret).toBe(env.BANTICO_SECRET);
    }
    expect(configs[0]).toEqual(configs[1]!);
  });

  test("the nodes believe the proxy's fixed address, inside the network's subnet", () => {
    const proxy = compose.services.proxy!;
    const address = (proxy.networks as Record<string, { ipv4_address?: string }>).bantico!.ipv4_address!;
    expect(compose.networks.bantico!.ipam.config[0]!.subnet).toBe(`${address.split(".").slice(0, 3).join(".")}.0/24`);
    for (const [, node] of nodes) expect(node.environment!.BANTICO_TRUSTED_PROXIES).toBe(address);
  });

  test("the proxy balances over every node and checks /healthz", () => {
    const caddyfile = compose.configs[compose.services.proxy!.configs![0]!.source]!.content;
    const upstreams = /reverse_proxy ([^{]+)\{/.exec(caddyfile)![1]!.trim().split(/\s+/);
    expect(upstreams).toEqual(nodes.map(([name]) => `${name}:3000`));
    expect(caddyfile).toContain("health_uri /healthz");
  });
});
