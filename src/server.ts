// `bantico serve`: the HTTP server over an open instance, with a graceful stop.
import type { Config } from "./config.ts";
import { createApp } from "./app.ts";
import { openInstance, type Instance } from "./instance.ts";
import { clientIpResolver } from "./http/client-ip.ts";
import { hotRoutes } from "./http/hot-routes.ts";
import { startPaymentScheduler } from "./payments/pull.ts";
import { startFoldWarmer } from "./dashboard/pages/warmup.ts";
import { loadIpCountries } from "./tracking/ip-country.ts";

export interface RunningServer {
  url: string;
  port: number;
  instance: Instance;
  stop(): Promise<void>;
}

export function startServer(config: Config, options: { hostname?: string; now?: () => number } = {}): RunningServer {
  let resolveIp: (request: Request) => string | null = () => null;
  const instance = openInstance(config, { now: options.now, clientIp: (request) => resolveIp(request) }, { serving: true });
  const app = createApp(instance.ctx);
  loadIpCountries(); // before listening, so no visitor waits for it
  const server = Bun.serve({
    port: config.port,
    hostname: options.hostname ?? "0.0.0.0",
    // The collect endpoint refuses bodies over 32 KB itself; this only stops abuse early.
    maxRequestBodySize: 1024 * 1024,
    idleTimeout: 30,
    development: false,
    routes: hotRoutes(instance.ctx),
    fetch: (request) => app.fetch(request),
  });
  resolveIp = clientIpResolver(server, config.trustedProxies);
  const payments = startPaymentScheduler(instance.ctx);
  const warmer = startFoldWarmer(instance.ctx);
  const host = options.hostname && options.hostname !== "0.0.0.0" ? options.hostname : "localhost";
  return {
    url: `http://${host}:${server.port}`,
    port: server.port!,
    instance,
    async stop() {
      await payments.stop();
      await warmer.stop();
      await server.stop();
      instance.close();
    },
  };
}
