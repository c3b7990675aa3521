// One Bantico node in a child process, for the tests of several nodes on one database: the server
// `bantico serve` starts (from the environment, BANTICO_DATABASE_URL included), with the providers' APIs
// pointed at a fake on loopback (BANTICO_TEST_PROVIDER_URL). Prints one JSON line once listening;
// SIGTERM stops it gracefully, and a test kills it with SIGKILL to play a node that dies.
import { loadConfig } from "../config.ts";
import { startServer } from "../server.ts";
import { setProviderEndpoints } from "../payments/endpoints.ts";

const server = await startServer(loadConfig(process.env), { hostname: "127.0.0.1" });
const fake = process.env.BANTICO_TEST_PROVIDER_URL;
if (fake) setProviderEndpoints(server.instance.ctx, { stripe: fake, polar: fake });
console.log(JSON.stringify({ url: server.url, nodeId: server.instance.ctx.nodeId }));
process.once("SIGTERM", () => void server.stop().then(() => process.exit(0)));
