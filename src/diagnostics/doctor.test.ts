// The attribution doctor against the real server: each check finds what a founder's data shows,
// names the payments, and the dashboard page shows the same findings.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { checkoutSession, seedLink, sendStripe, stripeEvent } from "../payments/testing.ts";
import { userWithRole } from "../dashboard/test-client.ts";
import type { Finding } from "./doctor.ts";

const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await seedLink(server.storage, server.project.id, { id: "lnk_doc", campaignId: "spring", source: "twitter" });
  await seedLink(server.storage, server.project.id, { id: "lnk_old", campaignId: "winter" });
  await server.storage.run("UPDATE links SET archived = 1 WHERE id = 'lnk_old'");
});
afterAll(() => server.close());

async function pay(transactionId: string, fields: Record<string, unknown>) {
  const response = await server.api("/api/v1/payments", { method: "POST", json: { transactionId, amount: 1000, currency: "EUR", ...fields } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function findings(): Promise<Finding[]> {
  const response = await server.api("/api/v1/diagnostics");
  expect(response.status).toBe(200);
  return ((await response.json()) as { findings: Finding[] }).findings;
}

describe("the attribution doctor", () => {
  test("names payments with unknown, archived or contradicting links, and unmatched emails, with what to change", async () => {
    const unknown = await pay("doc_unknown", { metadata: { linkId: "lnk_typo" } });
    const archived = await pay("doc_archived", { metadata: { linkId: "lnk_old" } });
    const contradicting = await pay("doc_mismatch", { metadata: { linkId: "lnk_doc", source: "facebook" } });
    const orphan = await pay("doc_orphan", { email: "nobody@example.com" });
    const all = await findings();
    const byCode = (code: string) => all.find((f) => f.code === code);
    expect(byCode("unknown_link")).toMatchObject({ severity: "error", paymentIds: [unknown], message: expect.stringContaining("lnk_typo") });
    expect(byCode("archived_link")!.paymentIds).toEqual([archived]);
    expect(byCode("metadata_contradicts_link")!.paymentIds).toEqual([contradicting]);
    expect(byCode("email_without_profile")).toMatchObject({ paymentIds: [orphan], message: expect.stringContaining("bantico.identify") });
    const share = all.find((f) => f.code === "metadata_share" && f.message.startsWith("API"))!;
    expect(share.message).toContain("3 of 4 payments");
    expect(share.paymentIds).toEqual([orphan]);
  });

  test("reports refused webhook signatures, a silent provider, and where the tracker runs with or without data-persist", async () => {
    expect((await findings()).map((f) => f.code)).toContain("tracker_not_seen");
    expect((await server.api("/api/v1/integrations/stripe", { method: "PUT", json: { webhookSecret: "whsec_doctor" } })).status).toBe(200);
    const forged = await sendStripe(server.url, server.project.id, stripeEvent("checkout.session.completed", checkoutSession()), "whsec_not_it");
    expect(forged.status).toBe(400);
    await server.storage.run("UPDATE integrations SET connected_at = ? WHERE provider = 'stripe'", [Date.now() - 10 * 86_400_000]);
    const hit = (host: string, persisted: boolean) =>
      fetch(`${server.url}/api/collect`, {
        method: "POST",
        headers: { "content-type": "text/plain", "user-agent": UA },
        body: JSON.stringify({ t: server.project.token, n: "page_view", u: `https://${host}/`, r: "", ...(persisted ? { v: "persistedvisitor1" } : {}) }),
      });
    expect((await hit("shop.example", false)).status).toBe(200);
    expect((await hit("app.example", true)).status).toBe(200);
    const all = await findings();
    expect(all.find((f) => f.code === "webhook_signature_failures")).toMatchObject({ severity: "error", message: expect.stringContaining("Stripe") });
    expect(all.find((f) => f.code === "provider_silent")!.message).toContain("since it was connected");
    expect(all.find((f) => f.code === "tracker_hosts")!.message).toContain("app.example, shop.example");
    expect(all.filter((f) => f.code === "cookieless").map((f) => f.message)).toEqual([expect.stringContaining("shop.example")]);
  });

  test("the dashboard's doctor page shows the findings with links to their payments", async () => {
    const viewer = await userWithRole(server, "viewer");
    const page = await viewer.get(`/dashboard/${server.project.id}/diagnostics`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('id="finding-unknown_link"');
    expect(body).toMatch(new RegExp(`href="/dashboard/${server.project.id}/payments/pay_[^"]+"`));
  });
});
