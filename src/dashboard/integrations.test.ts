// Settings → integrations against a local fake Stripe API: refusals next to the field, connect,
// backfill progress, viewer refused, disconnect.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { setProviderEndpoints } from "../payments/endpoints.ts";
import { checkoutSession, stripeEvent } from "../payments/testing.ts";
import { fakeStripe, STRIPE_KEY, userWithRole, type DashboardClient } from "./test-client.ts";

let server: TestServer;
let fake: ReturnType<typeof fakeStripe>;
let admin: DashboardClient;
let viewer: DashboardClient;
let base: string;

beforeAll(async () => {
  server = await startTestServer();
  const now = Math.floor(Date.now() / 1000);
  fake = fakeStripe([stripeEvent("checkout.session.completed", checkoutSession({ amount_total: 4900 }), { created: now - 3600 })]);
  setProviderEndpoints(server.instance.ctx, { stripe: fake.url, polar: fake.url });
  admin = await userWithRole(server, "admin");
  viewer = await userWithRole(server, "viewer");
  base = `/dashboard/${server.project.id}/settings/integrations`;
});
afterAll(async () => {
  await server.close();
  fake.stop();
});

const integration = (provider: string) => server.storage.get("SELECT status FROM integrations WHERE project_id = ? AND provider = ?", [server.project.id, provider]);

test("a key Stripe refuses is reported next to the key field and nothing is stored", async () => {
  for (const [fields, message] of [
    [{ credential: "rk_test_noevents" }, "rak_event_read"],
    [{ credential: "rk_test_wrongkey" }, "Stripe does not accept this key"],
    [{ credential: "pk_live_publishable" }, "restricted key"],
    [{ credential: "", webhookSecret: "" }, "Enter a restricted API key, a webhook signing secret, or both."],
  ] as const) {
    const response = await admin.post(`${base}/stripe`, fields);
    expect(response.status).toBe(422);
    const html = await response.text();
    expect(html).toMatch(new RegExp(`id="f-stripe-credential-error">[^<]*${message}`));
  }
  const badSecret = await admin.post(`${base}/stripe`, { webhookSecret: "not-a-whsec" });
  expect(await badSecret.text()).toContain('id="f-stripe-webhookSecret-error"');
  expect(await integration("stripe")).toBeNull();
});

test("connecting Stripe verifies the key, backfills, and shows the status and the webhook URL", async () => {
  const response = await admin.post(`${base}/stripe`, { credential: STRIPE_KEY, webhookSecret: "whsec_test_secret" });
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toEndWith("#integration-stripe");
  expect(await integration("stripe")).toEqual({ status: "connected" });
  let fragment = "";
  for (let i = 0; i < 200; i++) {
    fragment = await (await admin.get(`${base}/stripe/status`, { "hx-request": "true" })).text();
    if (fragment.includes("done")) break;
    await Bun.sleep(20);
  }
  expect(fragment).toContain("Backfill of the last 30 days: done (1 payments)");
  expect(fragment).not.toContain("hx-trigger");
  const page = await (await admin.get(`/dashboard/${server.project.id}/settings/integrations`)).text();
  expect(page).toContain(`${server.url}/webhooks/stripe/${server.project.id}`);
  expect(page).toContain("rk_test_…dkey");
  expect(page).not.toContain(STRIPE_KEY);
  expect(page).not.toContain("whsec_test_secret");
});

test("a viewer can neither connect nor disconnect", async () => {
  expect((await viewer.post(`${base}/polar`, { credential: "polar_oat_x" })).status).toBe(403);
  expect((await viewer.post(`${base}/stripe/disconnect`)).status).toBe(403);
  expect(await integration("stripe")).toEqual({ status: "connected" });
});

test("an unknown provider answers 404", async () => {
  expect((await admin.post(`${base}/paypal`, { credential: "x" })).status).toBe(404);
});

test("disconnecting removes the connection, and says what became of the webhook endpoint Bantico created", async () => {
  // An endpoint that connect created and someone already deleted in Stripe: Stripe answers 404.
  await server.storage.run("UPDATE integrations SET webhook_endpoint_id = 'we_gone' WHERE project_id = ? AND provider = 'stripe'", [server.project.id]);
  const response = await admin.post(`${base}/stripe/disconnect`);
  expect(response.status).toBe(303);
  expect(await integration("stripe")).toBeNull();
  expect(fake.requests.at(-1)).toMatchObject({ method: "DELETE", path: "/v1/webhook_endpoints/we_gone" });
  const location = response.headers.get("location")!;
  expect(location).toContain("saved=disconnected_endpoint_deleted");
  expect(await (await admin.get(location)).text()).toContain("Integration disconnected, and the webhook endpoint Bantico had created was deleted.");
});

test("every provider is listed with its webhook URL and the exact events to subscribe to; a Paddle secret connects from the form", async () => {
  const page = await (await viewer.get(`/dashboard/${server.project.id}/settings/integrations`)).text();
  const expected = {
    stripe: ["checkout.session.completed", "invoice.paid", "charge.refunded", "charge.dispute.created"],
    polar: ["order.paid", "order.refunded"],
    dodo: ["payment.succeeded", "refund.succeeded", "dispute.opened"],
    lemonsqueezy: ["order_created", "order_refunded", "subscription_created", "subscription_payment_success"],
    paddle: ["transaction.completed", "adjustment.created", "adjustment.updated"],
    creem: ["checkout.completed", "subscription.paid", "refund.created", "dispute.created"],
  };
  for (const [provider, events] of Object.entries(expected)) {
    expect(page).toContain(`/webhooks/${provider}/${server.project.id}`);
    const list = new RegExp(`id="${provider}-events">([^]*?)</p>`).exec(page)?.[1] ?? "";
    for (const event of events) expect(list).toContain(`<code>${event}</code>`);
  }
  expect((await admin.post(`${base}/paddle`, { webhookSecret: "pdl_ntfset_dashboard" })).status).toBe(303);
  expect(await integration("paddle")).toEqual({ status: "webhook_only" });
});
