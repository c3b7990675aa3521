// Loads what the attribution doctor decides over: the last 60 days of sales and renewals, the
// project's links and identified emails, its integrations and the tracker's hosts.
import type { Storage } from "../db/storage/storage.ts";
import { readBanticoMetadata } from "../payments/metadata.ts";
import { PROVIDER_NAMES } from "../payments/guides.ts";
import type { IntegrationProvider } from "../payments/integrations.ts";
import type { DoctorFacts } from "./doctor.ts";

const WINDOW_MS = 60 * 86_400_000;
const EMAIL_BATCH = 100;

export async function loadDoctorFacts(storage: Storage, projectId: string, now: number): Promise<DoctorFacts> {
  const payments = (
    await storage.all<{ id: string; provider: string; occurred_at: number; metadata: string; method: string; mismatches: string; customer_email: string | null }>(
      `SELECT id, provider, occurred_at, metadata, method, mismatches, customer_email FROM payments
       WHERE project_id = ? AND occurred_at >= ? AND kind IN ('sale', 'renewal') ORDER BY occurred_at DESC`,
      [projectId, now - WINDOW_MS],
    )
  ).map((row) => ({
    id: row.id,
    provider: row.provider,
    occurredAt: row.occurred_at,
    metadata: readBanticoMetadata(JSON.parse(row.metadata) as Record<string, string>),
    method: row.method,
    mismatches: (JSON.parse(row.mismatches) as unknown[]).length,
    email: row.customer_email,
  }));
  const links = new Map(
    (await storage.all<{ id: string; archived: number }>("SELECT id, archived FROM links WHERE project_id = ?", [projectId])).map((row) => [
      row.id,
      { archived: row.archived === 1 },
    ]),
  );
  const emails = [...new Set(payments.map((p) => p.email).filter((e): e is string => e !== null))];
  const profileEmails = new Set<string>();
  // INDEXED BY is SQLite's own; PostgreSQL chooses its index by statistics. The emails go EMAIL_BATCH at a
  // time, the last batch padded with its first email, so one statement serves every batch.
  const known = `SELECT email FROM profiles ${storage.engine === "sqlite" ? "INDEXED BY profiles_email" : ""}
    WHERE project_id = ? AND email IN (${Array(EMAIL_BATCH).fill("?").join(", ")})`;
  for (let at = 0; at < emails.length; at += EMAIL_BATCH) {
    const batch = emails.slice(at, at + EMAIL_BATCH);
    const padded = [...batch, ...Array<string>(EMAIL_BATCH - batch.length).fill(batch[0]!)];
    for (const row of await storage.all<{ email: string }>(known, [projectId, ...padded])) profileEmails.add(row.email);
  }
  const integrations = (
    await storage.all<{
      provider: IntegrationProvider;
      connected_at: number;
      credential_sealed: string | null;
      webhook_secret_sealed: string | null;
      last_event_at: number | null;
      last_pull_at: number | null;
      signature_failures: number;
      last_signature_failure_at: number | null;
      last_signature_failure: string | null;
    }>("SELECT * FROM integrations WHERE project_id = ? ORDER BY provider", [projectId])
  ).map((row) => ({
    provider: row.provider,
    name: PROVIDER_NAMES[row.provider],
    connectedAt: row.connected_at,
    hasCredential: row.credential_sealed !== null,
    hasWebhookSecret: row.webhook_secret_sealed !== null,
    lastEventAt: row.last_event_at,
    lastPullAt: row.last_pull_at,
    signatureFailures: row.signature_failures,
    lastSignatureFailureAt: row.last_signature_failure_at,
    lastSignatureFailure: row.last_signature_failure,
  }));
  const trackerHosts = (
    await storage.all<{ host: string; persisted: number; last_seen_at: number }>("SELECT host, persisted, last_seen_at FROM tracker_hosts WHERE project_id = ?", [projectId])
  ).map((row) => ({ host: row.host, persisted: row.persisted === 1, lastSeenAt: row.last_seen_at }));
  return { now, payments, links, profileEmails, integrations, trackerHosts };
}
