// A fake Stripe API on loopback for pull tests: key checks (a restricted key without Events read, an
// invalid key), webhook endpoint creation and deletion, and events.list paged newest first as Stripe
// pages it, optionally failing once after an event or answering each page after a delay.
import { fakeProviderApi, type stripeEvent } from "../testing.ts";

export const STRIPE_KEY = "rk_test_51Pulls0nlyReadKey0000000000";
export const CREATED_SECRET = "whsec_created_by_bantico_connect";

/** `served`: each events.list answer's page size asked for and events carried, in order. */
export function stripeFake(events: ReturnType<typeof stripeEvent>[], options: { failOnceAfter?: string; mayCreateEndpoints?: boolean; pageDelayMs?: number } = {}) {
  const served: { limit: number; events: number }[] = [];
  let failed = false;
  const api = fakeProviderApi(async (request, url) => {
    const auth = request.headers.get("authorization") ?? "";
    if (auth.includes("rk_test_noevents")) {
      return Response.json(
        {
          error: {
            type: "invalid_request_error",
            message:
              "The provided key 'rk_test_********ents' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_event_read' permission would allow this request to continue.",
          },
        },
        { status: 403 },
      );
    }
    if (!auth.includes(STRIPE_KEY)) return Response.json({ error: { type: "invalid_request_error", message: "Invalid API Key provided" } }, { status: 401 });
    if (url.pathname === "/v1/webhook_endpoints" && request.method === "POST") {
      if (!options.mayCreateEndpoints) {
        return Response.json(
          { error: { type: "invalid_request_error", message: "The provided key 'rk_test_***' does not have the required permissions. Having the 'rak_webhook_endpoint_write' permission would allow this request to continue." } },
          { status: 403 },
        );
      }
      return Response.json({ id: "we_test_1", object: "webhook_endpoint", secret: CREATED_SECRET, status: "enabled" });
    }
    if (url.pathname === "/v1/webhook_endpoints/we_test_1" && request.method === "DELETE") {
      return Response.json({ id: "we_test_1", object: "webhook_endpoint", deleted: true });
    }
    if (url.pathname !== "/v1/events") return Response.json({ error: { message: "not faked" } }, { status: 404 });
    const gt = Number(url.searchParams.get("created[gt]") ?? 0);
    const limit = Number(url.searchParams.get("limit") ?? 10);
    const after = url.searchParams.get("starting_after");
    if (after && after === options.failOnceAfter && !failed) {
      failed = true;
      return Response.json({ error: { type: "api_error", message: "Something went wrong on Stripe's end" } }, { status: 500 });
    }
    const matching = events.filter((e) => e.created > gt).sort((a, b) => b.created - a.created);
    const startIndex = after ? matching.findIndex((e) => e.id === after) + 1 : 0;
    const page = matching.slice(startIndex, startIndex + limit);
    if (options.pageDelayMs) await Bun.sleep(options.pageDelayMs);
    served.push({ limit, events: page.length });
    return Response.json({ object: "list", url: "/v1/events", has_more: startIndex + limit < matching.length, data: page });
  });
  return { ...api, served };
}

