// `bantico serve`: the HTTP server over an open instance, with a graceful stop.
import type { Config } from "./config.ts";
import { createApp } from "./app.ts";
import { openAnyInstance, type Instance } from "./instance.ts";
import { clientIpResolver } from "./http/client-ip.ts";
import { hotRoutes } from "./http/hot-routes.ts";
import { startPaymentScheduler } from "./payments/pull.ts";
import { startFoldWarmer } from "./dashboard/pages/warmup.ts";
import { explainListenError } from "./startup.ts";
import { currentSetupToken, setupUrl } from "./auth/setup-token.ts";
import { resumConvertedHours, resumConvertedPeriod, rewriteReporting } from "./payments/ledger.ts";
import { startConversionJobs } from "./payments/fx/stored.ts";
import { startFxFetcher } from "./payments/fx/fetcher.ts";
import { loadIpCountries } from "./tracking/ip-country.ts";
import { openLinkDirectory, type OpenLinkDirectory } from "./links/directory.ts";

export interface RunningServer {
  url: string;
  port: number;
  instance: Instance;
  /** While the instance has no owner: the one-time first-start link (SPEC §7), printed in the log. */
  setupUrl: string | null;
  stop(): Promise<void>;
}

export async function startServer(config: Config, options: { hostname?: string; now?: () => number } = {}): Promise<RunningServer> {
  let resolveIp: (request: Request) => string | null = () => null;
  const instance = await openAnyInstance(config, { now: options.now, clientIp: (request) => resolveIp(request) }, { serving: true });
  const app = createApp(instance.ctx);
  loadIpCountries(); // before listening, so no visitor waits for it
  let links: OpenLinkDirectory;
  try {
    // Before listening too: the redirect reads only this directory.
    links = await openLinkDirectory(instance.ctx.storage);
  } catch (error) {
    await instance.close();
    throw error;
  }
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: options.hostname ?? "0.0.0.0",
      // The collect endpoint refuses bodies over 32 KB itself; this only stops abuse early.
      maxRequestBodySize: 1024 * 1024,
      idleTimeout: 30,
      development: false,
      routes: hotRoutes(instance.ctx),
      fetch: (request) => app.fetch(request),
    });
  } catch (error) {
    await links.stop();
    await instance.close();
    throw explainListenError(config.port, error) ?? error;
  }
  resolveIp = clientIpResolver(server, config.trustedProxies);
  // Read before the background jobs start: nothing awaited after them, so whoever awaits this function
  // (a test pointing the providers at a fake) runs before their first tick.
  const token = await currentSetupToken(instance.ctx.storage, instance.ctx.now());
  const payments = startPaymentScheduler(instance.ctx);
  // On either engine: on PostgreSQL it reads ahead what the 30-day views' primes would (each node its own memory).
  const warmer = startFoldWarmer(instance.ctx);
  const conversions = startConversionJobs(instance.ctx, { rewrite: rewriteReporting, resum: { hours: resumConvertedHours, period: resumConvertedPeriod } });
  const rates = startFxFetcher(instance.ctx, () => conversions.kick());
  const host = options.hostname && options.hostname !== "0.0.0.0" ? options.hostname : "localhost";
  const url = `http://${host}:${server.port}`;
  return {
    url,
    setupUrl: token ? setupUrl(config.baseUrl ?? url, token) : null,
    port: server.port!,
    instance,
    async stop() {
      await payments.stop();
      await warmer.stop();
      await rates?.stop();
      await conversions.stop();
      await server.stop();
      await links.stop();
      await instance.close();
    },
  };
}
