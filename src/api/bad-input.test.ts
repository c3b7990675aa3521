// Nothing a user sends answers 500 (SPEC §6): absurd values in every API parameter, dashboard range and webhook time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { userWithRole, type DashboardClient } from "../dashboard/test-client.ts";
import { SECTIONS } from "../dashboard/sections.ts";
import { checkoutSession, invoice, sendStripe, stripeEvent } from "../payments/testing.ts";
import { loadPayments } from "../payments/service.ts";

const ABSURD_TEXT = [
  "99999999999999999",
  "-99999999999999999",
  "1e400",
  "-1",
  "NaN",
  "Infinity",
  "9999-99-99",
  "2026-02-30",
  "275760-09-14",
  "+275760-09-13T00:00:00Z",
  "-271821-04-19",
  "0000-01-01",
  "x".repeat(5000),
  "\u0000",
  "%",
  "[]",
];
const ABSURD_JSON: unknown[] = [99999999999999999, -99999999999999999, 1e300, -1, 1.5, "99999999999999999", "", "x".repeat(5000), "\u0000\r\n", [], {}, null, true, { a: { b: { c: {} } } }, "+275760-09-13T00:00:00Z"];
const WEBHOOK_SECRET = "whsec_test_bad_input";

let server: TestServer;
let owner: DashboardClient;
let linkId: string;
let paymentId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await userWithRole(server, "owner");
  linkId = ((await (await server.api("/api/v1/links", { method: "POST", json: { destinationUrl: "https://a.example/", slug: "fuzzed" } })).json()) as { linkId: string }).linkId;
  paymentId = ((await (await server.api("/api/v1/payments", { method: "POST", json: { transactionId: "t1", amount: 100, currency: "USD" } })).json()) as { id: string }).id;
  expect((await server.api("/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: WEBHOOK_SECRET } })).status).toBe(200);
});
afterAll(() => server.close());

/** Every request that answered 5xx, as "status method path". */
async function serverErrors(requests: (() => Promise<[string, Response]>)[]): Promise<string[]> {
  const failures: string[] = [];
  for (const send of requests) {
    const [what, response] = await send();
    if (response.status >= 500) failures.push(`${response.status} ${what.slice(0, 160)}`);
  }
  return failures;
}

describe("the API", () => {
  const reports = ["/api/v1/reports/attribution?groupBy=source", "/api/v1/reports/traffic?groupBy=page", "/api/v1/reports/summary?", "/api/v1/reports/funnel?"];

  test("every report asked for an absurd range answers 400 with the error shape", async () => {
    for (const report of reports) {
      const response = await server.api(`${report}&to=99999999999999999`);
      expect({ report, status: response.status }).toEqual({ report, status: 400 });
      expect(((await response.json()) as { error: { code: string; message: string } }).error.message).toContain("to must lie between 1970 and the year 9999");
    }
  });

  test("every report over the widest range it takes answers within seconds", async () => {
    for (const report of reports) {
      const started = performance.now();
      const response = await server.api(`${report}&from=1970-01-01&to=9999-12-31`);
      expect({ report, status: response.status }).toEqual({ report, status: 200 });
      expect(performance.now() - started).toBeLessThan(5000);
    }
  });

  test("no query parameter of any GET endpoint answers 500, whatever its value", async () => {
    const endpoints: [string, string[]][] = [
      ["/api/v1/reports/attribution?groupBy=source", ["from", "to", "model", "groupBy"]],
      ["/api/v1/reports/traffic?groupBy=page", ["from", "to", "groupBy"]],
      ["/api/v1/reports/summary", ["from", "to"]],
      ["/api/v1/reports/funnel", ["from", "to", "linkId", "campaignId", "source"]],
      ["/api/v1/payments", ["from", "to", "method", "provider", "kind", "linkId", "limit", "cursor"]],
      ["/api/v1/links", ["archived", "limit", "cursor", "q"]],
      [`/api/v1/links/${linkId}`, ["x"]],
      [`/api/v1/payments/${paymentId}`, ["x"]],
      ["/api/v1/project", ["x"]],
      ["/api/v1/integrations", ["x"]],
    ];
    const requests = endpoints.flatMap(([path, params]) =>
      params.flatMap((param) =>
        ABSURD_TEXT.flatMap((value) =>
          [null, "2026-01-01"].map((otherBound) => async (): Promise<[string, Response]> => {
            const query = new URLSearchParams({ [param]: value });
            if (otherBound) query.set(param === "from" ? "to" : "from", otherBound);
            const url = `${path}${path.includes("?") ? "&" : "?"}${query}`;
            return [`GET ${url}`, await server.api(url)];
          }),
        ),
      ),
    );
    expect(await serverErrors(requests)).toEqual([]);
  });

  test("no field of any JSON body answers 500, whatever its value, and no path segment either", async () => {
    const bodies: [string, string, Record<string, unknown>][] = [
      ["POST", "/api/v1/links", { destinationUrl: "https://a.example/", slug: "s", title: "t", campaignId: "c", source: "s", medium: "m", content: "c", leadId: "l" }],
      ["PATCH", `/api/v1/links/${linkId}`, { destinationUrl: "https://a.example/", title: "t", archived: false, campaignId: "c", source: "s", medium: "m", content: "c", leadId: "l" }],
      ["POST", "/api/v1/events", { name: "signup_completed", userId: "u1", email: "a@b.example", props: { plan: "pro" }, timestamp: Date.now() }],
      ["POST", "/api/v1/identify", { id: "u1", email: "a@b.example", name: "A", traits: { plan: "pro" } }],
      ["POST", "/api/v1/payments", { transactionId: "tx", amount: 100, currency: "USD", kind: "sale", email: "a@b.example", metadata: { source: "x" }, timestamp: Date.now(), tax: 0 }],
      ["PUT", "/api/v1/integrations/polar", { webhookSecret: "whsec_x" }],
    ];
    let unique = 0;
    const requests = bodies.flatMap(([method, path, valid]) => [
      ...Object.keys(valid).flatMap((field) =>
        ABSURD_JSON.map((value) => async (): Promise<[string, Response]> => {
          unique++;
          // A fresh slug or transaction id each time, so a value is judged on its own and not as a repeat.
          const json: Record<string, unknown> = { ...valid, [field]: value };
          if ("slug" in valid && field !== "slug") json.slug = `s${unique}`;
          if ("transactionId" in valid && field !== "transactionId") json.transactionId = `tx${unique}`;
          return [`${method} ${path} ${field}=${JSON.stringify(value).slice(0, 40)}`, await server.api(path, { method, json })];
        }),
      ),
      ...["{", "[]", "null", "1", '"x"'].map((raw) => async (): Promise<[string, Response]> => [
        `${method} ${path} raw ${raw}`,
        await server.api(path, { method, body: raw, headers: { "content-type": "application/json" } }),
      ]),
    ]);
    const segments = ["%00", "%E0%A4%A", "x".repeat(3000), "..%2F..%2Fetc", "%0D%0A"].flatMap((segment) =>
      ["links", "payments"].map((kind) => async (): Promise<[string, Response]> => [`GET ${kind}/${segment}`, await server.api(`/api/v1/${kind}/${segment}`)]),
    );
    expect(await serverErrors([...requests, ...segments])).toEqual([]);
  });
});

describe("the public endpoints", () => {
  const browser = { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36" };

  test("no short-link query or slug answers 500", async () => {
    const paths = [
      ...["%", "a=%E0%A4%A", "bt_click=%00", "a=1&".repeat(5000), "utm_source=%0D%0A", "%E2%80%A8=x", `a=${"x".repeat(10_000)}`].map((query) => `/l/fuzzed?${query}`),
      ...["%00", "%E0%A4%A", "x".repeat(5000), "..%2F", "%0D%0A"].map((slug) => `/l/${slug}`),
    ];
    const requests = paths.map((path) => async (): Promise<[string, Response]> => [`GET ${path}`, await fetch(`${server.url}${path}`, { redirect: "manual", headers: browser })]);
    expect(await serverErrors(requests)).toEqual([]);
  });

  test("no field of a tracker event answers 500", async () => {
    const valid = { t: server.project.token, n: "page_view", u: "https://site.example/", r: "" };
    const urls = ["https://site.example/%E0%A4%A", "https://[::1]/", "https://site.example/?bt_click=%00", `https://site.example/?utm_source=${"x".repeat(4000)}`];
    const requests = ["t", "n", "u", "r", "p", "v", "s", "i"].flatMap((field) =>
      [...ABSURD_JSON, { id: {} }, ...urls].map((value) => async (): Promise<[string, Response]> => [
        `collect ${field}=${JSON.stringify(value).slice(0, 40)}`,
        await fetch(`${server.url}/api/collect`, { method: "POST", headers: { "content-type": "text/plain", ...browser }, body: JSON.stringify({ ...valid, [field]: value }) }),
      ]),
    );
    expect(await serverErrors(requests)).toEqual([]);
  });
});

describe("the dashboard", () => {
  test("no page answers 500 for an absurd range, filter, sort or cursor", async () => {
    const pages = [
      ...SECTIONS.map((section) => section.path),
      "/live/feed",
      "/install/check",
      "/export/events.csv",
      "/export/links.csv",
      "/export/payments.csv",
      `/links/${linkId}`,
      `/payments/${paymentId}`,
      "/links/preview",
    ];
    // Every absurd value for the range; the most hostile few for the other parameters, to keep the walk short.
    const params = ["from", "to", "range", "cursor", "sort", "dir", "q", "model", "method", "provider", "archived", "link", "campaign", "destinationUrl"];
    const valuesFor = (param: string) => (["from", "to", "range"].includes(param) ? ABSURD_TEXT : ["99999999999999999", "-1", "x".repeat(5000), "\u0000", "%"]);
    const requests = pages.flatMap((page) =>
      params.flatMap((param) =>
        valuesFor(param).map((value) => async (): Promise<[string, Response]> => {
          const query = new URLSearchParams({ [param]: value });
          if (param === "from" || param === "to") query.set("range", "custom");
          if (param === "from") query.set("to", "2026-01-01");
          if (param === "to") query.set("from", "2026-01-01");
          const url = `/dashboard/${server.project.id}${page}?${query}`;
          return [`GET ${url}`, await owner.get(url)];
        }),
      ),
    );
    expect(await serverErrors(requests)).toEqual([]);
  });
});

describe("a correctly signed Stripe event with an impossible time", () => {
  const send = (event: unknown) => sendStripe(server.url, server.project.id, event, WEBHOOK_SECRET);
  const paymentsOf = async (sessionId: string) =>
    (await loadPayments(server.storage, server.project.id, { limit: 1000 })).payments.filter((p) => p.providerIds.checkoutSessionId === sessionId);

  // Stripe retries any answer but a 2xx for three days and then warns the founder: the event is genuine and its
  // money real, so it is recorded at the time it arrived rather than refused.
  for (const [what, created] of [
    ["without created", undefined],
    ["with created=1e14", 1e14],
    ["with created=-1", -1],
    ["with created as text", "yesterday"],
  ] as const) {
    test(`${what} is recorded once, at the time it arrived`, async () => {
      const session = checkoutSession();
      const event: Record<string, unknown> = stripeEvent("checkout.session.completed", session);
      if (created === undefined) delete event.created;
      else event.created = created;
      const before = Date.now();
      const response = await send(event);
      expect(response.status).toBe(200);
      const [payment] = await paymentsOf(session.id as string);
      expect(payment).toBeDefined();
      expect(Date.parse(payment!.occurredAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(payment!.occurredAt)).toBeLessThanOrEqual(Date.now() + 1000);
      expect((await send(event)).status).toBe(200);
      expect(await paymentsOf(session.id as string)).toHaveLength(1);
    });
  }

  test("an invoice paid in the year 5000 is recorded at the time it arrived", async () => {
    const paid = invoice({ subscription: "sub_far_future", billing_reason: "subscription_create", status_transitions: { paid_at: 1e11 } });
    const response = await send(stripeEvent("invoice.paid", paid));
    expect(response.status).toBe(200);
    const payment = (await loadPayments(server.storage, server.project.id, { limit: 1000 })).payments.find((p) => p.providerIds.subscriptionId === "sub_far_future");
    expect(Math.abs(Date.parse(payment!.occurredAt) - Date.now())).toBeLessThan(60_000);
  });
});
