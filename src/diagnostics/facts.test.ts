import { afterEach, expect, test } from "bun:test";
import { describeOnEngines, freshDatabase, type TestDatabase } from "../testing/engines.ts";
import { createProject } from "../projects/service.ts";
import { createLink, updateLink } from "../links/service.ts";
import { loadDoctorFacts } from "./facts.ts";

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12);

describeOnEngines("what the attribution doctor reads", (engine) => {
  test("the last 60 days of sales and renewals, the links, the emails with a profile, the integrations and the tracker's hosts", async () => {
    const db = await freshDatabase(engine);
    open.push(db);
    const { storage } = db;
    const project = await createProject(storage, { name: "Doctor" });
    const link = await createLink(storage, project.id, { destinationUrl: "https://example.com/", slug: "doc-live" });
    const old = await createLink(storage, project.id, { destinationUrl: "https://example.com/old", slug: "doc-old" });
    await updateLink(storage, project.id, old.linkId, { archived: true });
    const pay = (id: string, kind: string, daysAgo: number, metadata: Record<string, string>, email: string | null) => {
      const amount = kind === "refund" ? -1000 : 1000;
      return storage.run(
        `INSERT INTO payments (id, project_id, provider, kind, payment_key, amount, net, currency, occurred_at, received_at, method, attributed_at, metadata, customer_email)
         VALUES (?, ?, 'api', ?, ?, ?, ?, 'EUR', ?, ?, 'unattributed', ?, ?, ?)`,
        [id, project.id, kind, `key_${id}`, amount, amount, NOW - daysAgo * DAY, NOW, NOW, JSON.stringify(metadata), email],
      );
    };
    await pay("pay_recent", "sale", 1, { bantico_link_id: old.linkId }, "known@example.com");
    await pay("pay_renewal", "renewal", 10, {}, "stranger@example.com");
    await pay("pay_refund", "refund", 2, {}, null);
    await pay("pay_too_old", "sale", 61, {}, null);
    await storage.run("INSERT INTO profiles (project_id, id, email, created_at, updated_at) VALUES (?, 'prf_1', 'known@example.com', ?, ?)", [project.id, NOW, NOW]);
    await storage.run("INSERT INTO integrations (project_id, provider, status, connected_at, updated_at, signature_failures) VALUES (?, 'stripe', 'connected', ?, ?, 2)", [project.id, NOW, NOW]);
    await storage.run("INSERT INTO tracker_hosts (project_id, host, persisted, first_seen_at, last_seen_at) VALUES (?, 'shop.example', 1, ?, ?)", [project.id, NOW, NOW]);

    const facts = await loadDoctorFacts(storage, project.id, NOW);
    expect(facts.payments.map((p) => [p.id, p.occurredAt, p.email])).toEqual([
      ["pay_recent", NOW - DAY, "known@example.com"],
      ["pay_renewal", NOW - 10 * DAY, "stranger@example.com"],
    ]);
    expect(facts.payments[0]!.metadata.linkId).toBe(old.linkId);
    expect(facts.links).toEqual(new Map([[link.linkId, { archived: false }], [old.linkId, { archived: true }]]));
    expect(facts.profileEmails).toEqual(new Set(["known@example.com"]));
    expect(facts.integrations).toMatchObject([{ provider: "stripe", connectedAt: NOW, hasCredential: false, signatureFailures: 2 }]);
    expect(facts.trackerHosts).toEqual([{ host: "shop.example", persisted: true, lastSeenAt: NOW }]);
  });
});
