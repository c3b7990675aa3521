// The payments, journeys, links, export and MRR pages on a real server on PostgreSQL: after a link is
// followed, its visitor identifies and pays, every page answers 200 with what was written (an amount,
// the link's slug, a journey step, a CSV row), as on SQLite; and GET /api/v1/reports/mrr counts the
// subscription.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../../testing/harness.ts";
import { userWithRole, type DashboardClient } from "../test-client.ts";

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const VISITOR = "visitor_ada_0001";
let server: TestServer;
let admin: DashboardClient;
let linkId: string;
let paymentId: string;
const page = (path: string) => admin.get(`/dashboard/${server.project.id}${path}`);

async function text(path: string): Promise<string> {
  const response = await page(path);
  const body = await response.text();
  expect({ path, status: response.status }).toEqual({ path, status: 200 });
  return body;
}

beforeAll(async () => {
  server = await startTestServer({ engine: "postgres" });
  admin = await userWithRole(server, "admin");
  const created = await server.api("/api/v1/links", { method: "POST", json: { destinationUrl: "https://shop.example/pricing", slug: "spring-sale", title: "Spring sale", campaignId: "spring" } });
  expect(created.status).toBe(201);
  linkId = ((await created.json()) as { linkId: string }).linkId;
  // The visitor follows the link, lands on the pricing page and signs up as Ada.
  const followed = await fetch(`${server.url}/l/spring-sale`, { redirect: "manual", headers: { "user-agent": UA } });
  expect(followed.status).toBe(302);
  const collect = (body: Record<string, unknown>) =>
    fetch(`${server.url}/api/collect`, { method: "POST", body: JSON.stringify({ t: server.project.token, v: VISITOR, ...body }), headers: { "content-type": "text/plain", "user-agent": UA } });
  expect((await collect({ n: "page_view", u: followed.headers.get("location") })).status).toBe(200);
  expect((await collect({ n: "identify", u: "https://shop.example/welcome", i: { id: "user_ada", email: "ada@example.com", name: "Ada" } })).status).toBe(200);
  // She pays $49.00 once and subscribes at $29.00 a month, both credited to the link.
  const pay = async (json: Record<string, unknown>) => {
    const response = await server.api("/api/v1/payments", { method: "POST", json: { currency: "USD", email: "ada@example.com", metadata: { linkId, visitorId: VISITOR }, ...json } });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  paymentId = await pay({ transactionId: "tx_once", amount: 4900 });
  await pay({ transactionId: "tx_sub", amount: 2900, subscription: { id: "sub_ada", interval: "month" } });
});
afterAll(async () => {
  await server?.close();
});

describe("dashboard pages on PostgreSQL", () => {
  test("the payments list shows both payments, their link and the period's converted total", async () => {
    const body = await text("/payments");
    expect(body).toContain("$49.00");
    expect(body).toContain("$29.00");
    expect(body).toContain("$78.00");
    expect(body).toContain("Spring sale");
    expect(body).toContain(`/dashboard/${server.project.id}/profiles/user_ada`);
    expect(await text("/payments?provider=stripe")).toContain("No payment matches these filters in this period.");
  });

  test("a payment's page shows its amount, customer and explanation; the provider events list answers", async () => {
    const body = await text(`/payments/${paymentId}`);
    expect(body).toContain("$49.00");
    expect(body).toContain("ada@example.com");
    expect(body).toContain("Spring sale");
    expect(await text("/payments/events")).toContain("No provider event has arrived yet.");
    expect((await page("/payments/pay_nosuchpayment")).status).toBe(404);
  });

  test("profiles, a profile's journey, a visitor and the live feed show the visit through the link", async () => {
    expect(await text("/profiles")).toContain("ada@example.com");
    expect(await text("/profiles?q=ADA")).toContain("ada@example.com");
    expect(await text("/profiles?q=bob")).toContain("No profile matches this search.");
    const profile = await text("/profiles/user_ada");
    expect(profile).toContain("<code>page_view</code>");
    expect(profile).toContain("/pricing");
    expect(profile).toContain("$49.00");
    expect(await text(`/visitors/${VISITOR}`)).toContain(`/profiles/user_ada`);
    expect(await text("/live")).toContain("<code>identify</code>");
    expect(await text("/live/feed")).toContain("/pricing");
  });

  test("the links list, a link's page, its QR code and its forms", async () => {
    const list = await text("/links");
    expect(list).toContain("spring-sale");
    expect(list).toContain("Spring sale");
    expect(await text("/links?q=SPRING")).toContain("spring-sale");
    expect(await text("/links?archived=1")).not.toContain("spring-sale");
    const link = await text(`/links/${linkId}`);
    expect(link).toContain("spring-sale");
    expect(link).toContain("$49.00");
    // Its charts, from the dashboard's rollups primed on PostgreSQL.
    expect(link).toContain("Clicks, visitors and signups of Spring sale");
    const qr = await page(`/links/${linkId}/qr.svg`);
    expect(qr.status).toBe(200);
    expect(await qr.text()).toContain("<svg");
    expect(await text(`/links/${linkId}/edit`)).toContain("spring-sale");
    expect(await text("/links/new")).toContain("Create link");
  });

  test("the links, payments and events CSV exports hold their rows", async () => {
    const links = await text("/export/links.csv");
    expect(links).toContain(`${linkId},spring-sale,${server.url}/l/spring-sale,https://shop.example/pricing,Spring sale,spring,`);
    const payments = (await text("/export/payments.csv")).split("\r\n");
    expect(payments.find((row) => row.startsWith(`${paymentId},`))).toContain(`,api,sale,49,0,49,USD,ada@example.com,metadata_link,${linkId},spring,`);
    expect(payments.filter((row) => row.startsWith("pay_"))).toHaveLength(2);
    const events = await text("/export/events.csv");
    expect(events).toContain(`,page_view,${VISITOR},`);
    expect(events).toContain(`,identify,${VISITOR},`);
  });

  test("the MRR page and GET /api/v1/reports/mrr count the $29.00 subscription this month", async () => {
    const body = await text("/mrr");
    expect(body).toContain("MRR");
    expect(body).toContain("spring");
    const response = await server.api("/api/v1/reports/mrr?groupBy=link");
    expect(response.status).toBe(200);
    const { rows } = (await response.json()) as { rows: { key: string | null; mrr: number; new: number; activeSubscriptions: number }[] };
    expect(rows.at(-1)).toMatchObject({ key: linkId, mrr: 2900, new: 2900, activeSubscriptions: 1 });
  });
});
