// Signed identify (SPEC §3, issue 16 item 2): what anyone holding the public token can and cannot do to
// profiles and payments, and what a site's server can do with a hash made from the identify secret.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { startTestServer, type TestServer } from "../testing/harness.ts";
import { revokePreviousIdentifySecret, rotateIdentifySecret } from "../projects/service.ts";

const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

let sequence = 0;
const unique = (prefix: string) => `${prefix}${++sequence}`;

/** The secret as a site's developer reads it: from GET /api/v1/project. */
async function identifySecret(): Promise<string> {
  const project = (await (await server.api("/api/v1/project")).json()) as { identifySecret: string };
  return project.identifySecret;
}

/** What the site's server computes, as in the README: hex HMAC-SHA256 of the id, keyed with the secret's UTF-8 bytes. */
const sign = (secret: string, id: string) => createHmac("sha256", Buffer.from(secret, "utf8")).update(id, "utf8").digest("hex");

/** A fresh visitor (its own persisted id) sending one hit, as the tracker does. */
function collect(i: Record<string, unknown> | undefined, url = "https://shop.example/", visitorId = unique("visitor")) {
  return fetch(`${server.url}/api/collect`, {
    method: "POST",
    body: JSON.stringify({ t: server.project.token, n: i ? "identify" : "page_view", u: url, v: visitorId, i }),
    headers: { "content-type": "text/plain", "user-agent": UA },
  });
}

async function setVerifiedOnly(on: boolean) {
  const response = await server.api("/api/v1/project", { method: "PATCH", json: { verifiedEmailAttributionOnly: on } });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { verifiedEmailAttributionOnly: boolean }).verifiedEmailAttributionOnly).toBe(on);
}

async function unattributedPayment(email: string): Promise<string> {
  const response = await server.api("/api/v1/payments", { method: "POST", json: { transactionId: unique("txn_"), amount: 4900, currency: "EUR", email } });
  expect(response.status).toBe(201);
  const payment = (await response.json()) as { id: string; attribution: { method: string } };
  expect(payment.attribution.method).toBe("unattributed");
  return payment.id;
}

async function attributionOf(paymentId: string) {
  const payment = (await (await server.api(`/api/v1/payments/${paymentId}`)).json()) as { attribution: { method: string; campaignId: string | null } };
  return payment.attribution;
}

const profile = (id: string) =>
  server.storage.get<{ email: string | null; name: string | null; traits: string; email_verified: number }>(
    "SELECT email, name, traits, email_verified FROM profiles WHERE project_id = ? AND id = ?",
    [server.project.id, id],
  );

const linkedVisitors = async (id: string) =>
  (await server.storage.all<{ visitor_id: string }>("SELECT visitor_id FROM profile_visitors WHERE project_id = ? AND profile_id = ?", [server.project.id, id])).map(
    (row) => row.visitor_id,
  );

describe("the attacks of issue 16, item 2", () => {
  test("with verified-only email attribution on, utm and an unsigned identify with a payer's email do not capture the payment", async () => {
    await setVerifiedOnly(true);
    const paymentId = await unattributedPayment("payer@corp.example");
    const attack = await collect({ id: unique("x"), email: "payer@corp.example" }, "https://shop.example/?utm_source=attacker&utm_campaign=stolen");
    expect(attack.status).toBe(200);
    expect(await attributionOf(paymentId)).toMatchObject({ method: "unattributed", campaignId: null });
  });

  test("with it on, an unsigned identify that links the attacker's visitor to a verified profile does not capture that profile's payment", async () => {
    await setVerifiedOnly(true);
    const id = unique("user_");
    expect((await server.api("/api/v1/identify", { method: "POST", json: { id, email: "payer2@corp.example" } })).status).toBe(200);
    const paymentId = await unattributedPayment("payer2@corp.example");
    expect((await collect({ id }, "https://shop.example/?utm_source=attacker&utm_campaign=stolen")).status).toBe(200);
    expect(await attributionOf(paymentId)).toMatchObject({ method: "unattributed", campaignId: null });
  });

  test("with it off (the default), the same unsigned identify still attributes by email, so the setting is what protects", async () => {
    await setVerifiedOnly(false);
    const paymentId = await unattributedPayment("payer3@corp.example");
    await collect({ id: unique("x"), email: "payer3@corp.example" }, "https://shop.example/?utm_source=newsletter&utm_campaign=spring");
    expect(await attributionOf(paymentId)).toMatchObject({ method: "identify_email", campaignId: "spring" });
  });

  test("an unsigned identify does not replace an existing profile's email, name or traits, but may link the visitor", async () => {
    const id = unique("user_");
    await server.api("/api/v1/identify", { method: "POST", json: { id, email: "owner@site.example", name: "Real Owner", traits: { plan: "pro" } } });
    const visitorId = unique("visitor");
    const attack = await collect({ id, email: "attacker@evil.example", name: "Pwned", plan: "free" }, "https://shop.example/", visitorId);
    expect(attack.status).toBe(200);
    expect(await profile(id)).toEqual({ email: "owner@site.example", name: "Real Owner", traits: '{"plan":"pro"}', email_verified: 1 });
    expect(await linkedVisitors(id)).toContain(visitorId);
  });

  test("an unsigned identify may create a profile, whose email stays unverified", async () => {
    const id = unique("new_");
    expect((await collect({ id, email: "New@Site.example", name: "New", plan: "trial" })).status).toBe(200);
    expect(await profile(id)).toEqual({ email: "new@site.example", name: "New", traits: '{"plan":"trial"}', email_verified: 0 });
  });
});

describe("signed identify", () => {
  test("a valid hash from the identify secret updates an existing profile and counts as verified for email attribution", async () => {
    await setVerifiedOnly(true);
    const id = unique("user_");
    await collect({ id, email: "before@site.example" });
    const paymentId = await unattributedPayment("after@site.example");
    const visitorId = unique("visitor");
    const signed = await collect(
      { id, email: "After@Site.example", name: "Ada", plan: "pro", hash: sign(await identifySecret(), id) },
      "https://shop.example/?utm_source=newsletter&utm_campaign=launch",
      visitorId,
    );
    expect(signed.status).toBe(200);
    expect(await profile(id)).toEqual({ email: "after@site.example", name: "Ada", traits: '{"plan":"pro"}', email_verified: 1 });
    expect(await attributionOf(paymentId)).toMatchObject({ method: "identify_email", campaignId: "launch" });
  });

  test("a wrong hash is refused and changes nothing: no profile change, no visitor link, no event", async () => {
    const id = unique("user_");
    await server.api("/api/v1/identify", { method: "POST", json: { id, email: "kept@site.example", name: "Kept" } });
    const events = async () => (await server.storage.get<{ n: number }>("SELECT count(*) AS n FROM events"))!.n;
    const before = await events();
    const visitorId = unique("visitor");
    for (const hash of [sign("not the secret", id), sign(await identifySecret(), `${id}x`), "zz", "0".repeat(64)]) {
      const response = await collect({ id, email: "attacker@evil.example", name: "Pwned", hash }, "https://shop.example/", visitorId);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_identify_hash");
    }
    const unknown = unique("user_");
    expect((await collect({ id: unknown, hash: sign("not the secret", unknown) })).status).toBe(403);
    expect(await profile(id)).toMatchObject({ email: "kept@site.example", name: "Kept" });
    expect(await profile(unknown)).toBeNull();
    expect(await linkedVisitors(id)).not.toContain(visitorId);
    expect(await events()).toBe(before);
  });

  test("after a rotation the previous secret verifies until it is revoked; the new one verifies at once", async () => {
    const old = await identifySecret();
    await rotateIdentifySecret(server.storage, server.project.id, Date.now());
    const fresh = await identifySecret();
    expect(fresh).not.toBe(old);
    const id = unique("user_");
    expect((await collect({ id, name: "Old secret", hash: sign(old, id) })).status).toBe(200);
    expect((await collect({ id, name: "New secret", hash: sign(fresh, id) })).status).toBe(200);
    await revokePreviousIdentifySecret(server.storage, server.project.id);
    expect((await collect({ id, name: "Old again", hash: sign(old, id) })).status).toBe(403);
    expect((await profile(id))?.name).toBe("New secret");
  });

  test("POST /api/v1/identify is trusted without a hash", async () => {
    const id = unique("user_");
    await collect({ id, email: "first@site.example" });
    const response = await server.api("/api/v1/identify", { method: "POST", json: { id, email: "second@site.example", name: "Grace" } });
    expect(response.status).toBe(200);
    expect(await profile(id)).toMatchObject({ email: "second@site.example", name: "Grace", email_verified: 1 });
  });
});

describe("traits", () => {
  test("20 identifies of 4 KB each cannot grow one profile's traits past 8 KB", async () => {
    const id = unique("user_");
    const hash = sign(await identifySecret(), id);
    const statuses: number[] = [];
    for (let call = 0; call < 20; call++) {
      statuses.push((await collect({ id, hash, [`t${call}`]: "x".repeat(3900) })).status);
      statuses.push((await server.api("/api/v1/identify", { method: "POST", json: { id, traits: { [`a${call}`]: "y".repeat(3900) } } })).status);
    }
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThan(30);
    expect(Buffer.byteLength((await profile(id))!.traits)).toBeLessThanOrEqual(8192);
    const refused = await server.api("/api/v1/identify", { method: "POST", json: { id, traits: { more: "z".repeat(3900) } } });
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("traits_too_large");
    const trimmed = await server.api("/api/v1/identify", { method: "POST", json: { id, traits: { t0: null, more: "small" } } });
    expect(trimmed.status).toBe(200);
    expect(JSON.parse((await profile(id))!.traits)).toMatchObject({ more: "small" });
  });
});

describe("the project's identify settings through the API", () => {
  test("GET /project shows the identify secret and the setting; PATCH refuses bad values whole", async () => {
    const project = (await (await server.api("/api/v1/project")).json()) as Record<string, unknown>;
    expect(project.identifySecret).toMatch(/^bt_ids_[A-Za-z0-9]{40}$/);
    expect(typeof project.verifiedEmailAttributionOnly).toBe("boolean");
    for (const json of [{ verifiedEmailAttributionOnly: "yes" }, { lookbackDays: 0, verifiedEmailAttributionOnly: true }, { identifySecret: "mine" }, { name: "" }]) {
      const response = await server.api("/api/v1/project", { method: "PATCH", json });
      expect(response.status).toBe(400);
    }
    expect((await (await server.api("/api/v1/project")).json()) as Record<string, unknown>).toEqual(project);
    const renamed = await server.api("/api/v1/project", { method: "PATCH", json: { name: "Renamed", lookbackDays: 30 } });
    expect(await renamed.json()).toMatchObject({ name: "Renamed", lookbackDays: 30, identifySecret: project.identifySecret });
  });
});
