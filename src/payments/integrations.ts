// Connections to payment providers: credentials sealed with BANTICO_SECRET, verified on connect,
// and the status a founder reads (last event, last pull, last error, backfill progress).
import type { JobSteps, JobTx } from "../db/storage/jobs.ts";
import type { Storage } from "../db/storage/storage.ts";
import type { AppContext } from "../context.ts";
import { seal, unseal } from "../core/secret.ts";
import { ApiError, badRequest } from "../http/errors.ts";
import { verifyPolarToken } from "./polar/client.ts";
import { verifyStripeKey } from "./stripe/client.ts";
import { createWebhookEndpoint, deleteWebhookEndpoint, type EndpointDeletion } from "./webhook-endpoints.ts";
import { NATIVE_PROVIDERS } from "./native-providers.ts";

export const INTEGRATION_PROVIDERS = ["stripe", "polar", "dodo", "lemonsqueezy", "paddle", "creem"] as const;
export type IntegrationProvider = (typeof INTEGRATION_PROVIDERS)[number];

export interface IntegrationStatus {
  provider: IntegrationProvider;
  connected: boolean;
  /** connected: key verified (pull + backfill); webhook_only: real-time only; error: the last pull failed. */
  status: "connected" | "webhook_only" | "error" | "not_connected";
  message: string;
  credentialHint: string | null;
  hasCredential: boolean;
  hasWebhookSecret: boolean;
  webhookPath: string;
  connectedAt: number | null;
  lastEventAt: number | null;
  lastPullAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  backfill: { state: "none" | "running" | "done"; from: number | null; processed: number; progress: number; doneAt: number | null };
}

interface IntegrationRow {
  project_id: string;
  provider: IntegrationProvider;
  credential_sealed: string | null;
  credential_hint: string | null;
  webhook_secret_sealed: string | null;
  webhook_endpoint_id: string | null;
  status: IntegrationStatus["status"];
  status_message: string;
  connected_at: number;
  updated_at: number;
  last_event_at: number | null;
  last_pull_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  cursor: string | null;
  backfill_state: "none" | "running" | "done";
  backfill_from: number | null;
  backfill_processed: number;
  backfill_progress: number;
  backfill_done_at: number | null;
}

export const BACKFILL_DAYS = 30;

const SELECT_ROW = "SELECT * FROM integrations WHERE project_id = ? AND provider = ?";

function getRow(storage: Storage, projectId: string, provider: IntegrationProvider): Promise<IntegrationRow | null> {
  return storage.get<IntegrationRow>(SELECT_ROW, [projectId, provider]);
}

function toStatus(provider: IntegrationProvider, projectId: string, row: IntegrationRow | null): IntegrationStatus {
  return {
    provider,
    connected: row !== null,
    status: row?.status ?? "not_connected",
    message: row?.status_message ?? "",
    credentialHint: row?.credential_hint ?? null,
    hasCredential: row?.credential_sealed != null,
    hasWebhookSecret: row?.webhook_secret_sealed != null,
    webhookPath: `/webhooks/${provider}/${projectId}`,
    connectedAt: row?.connected_at ?? null,
    lastEventAt: row?.last_event_at ?? null,
    lastPullAt: row?.last_pull_at ?? null,
    lastError: row?.last_error ?? null,
    lastErrorAt: row?.last_error_at ?? null,
    backfill: {
      state: row?.backfill_state ?? "none",
      from: row?.backfill_from ?? null,
      processed: row?.backfill_processed ?? 0,
      progress: row?.backfill_progress ?? 0,
      doneAt: row?.backfill_done_at ?? null,
    },
  };
}

export async function integrationStatus(storage: Storage, projectId: string, provider: IntegrationProvider): Promise<IntegrationStatus> {
  return toStatus(provider, projectId, await getRow(storage, projectId, provider));
}

/** Every provider's status, connected or not, in `INTEGRATION_PROVIDERS` order. */
export async function listIntegrations(storage: Storage, projectId: string): Promise<IntegrationStatus[]> {
  const rows = await storage.all<IntegrationRow>("SELECT * FROM integrations WHERE project_id = ?", [projectId]);
  return INTEGRATION_PROVIDERS.map((provider) => toStatus(provider, projectId, rows.find((row) => row.provider === provider) ?? null));
}

/** Enough to recognise a key in a list, never enough to use it. */
function hint(credential: string): string {
  const prefix = /^[a-z]+_(live|test)_/.exec(credential)?.[0] ?? /^[a-z]+_/.exec(credential)?.[0] ?? "";
  return `${prefix}…${credential.slice(-4)}`;
}

export interface ConnectInput {
  /** Stripe restricted key, Polar organization access token, or the other providers' API key. */
  credential?: string;
  webhookSecret?: string;
}

/**
 * Verifies and stores a connection. A credential the provider refuses is reported (4xx naming what
 * is missing) and nothing is stored. Fields not given keep their saved value.
 */
export async function connectIntegration(ctx: AppContext, projectId: string, provider: IntegrationProvider, input: ConnectInput): Promise<IntegrationStatus> {
  const credential = input.credential?.trim() || undefined;
  const webhookSecret = input.webhookSecret?.trim() || undefined;
  const noun = provider === "polar" ? "accessToken" : "apiKey";
  if (!credential && !webhookSecret) throw badRequest(`send ${noun}, webhookSecret, or both`);
  if (provider === "stripe" && credential && !/^(rk|sk)_(live|test)_\w+$/.test(credential)) {
    throw badRequest("apiKey must be a Stripe restricted key (rk_live_… or rk_test_…)", "invalid_credential");
  }
  if (provider === "stripe" && webhookSecret && !webhookSecret.startsWith("whsec_")) {
    throw badRequest("webhookSecret must be the endpoint's signing secret (whsec_…)", "invalid_webhook_secret");
  }
  let message = "";
  let secret = webhookSecret;
  let endpointId: string | null = null;
  if (credential) {
    const verdict =
      provider === "stripe"
        ? await verifyStripeKey(ctx, credential)
        : provider === "polar"
          ? await verifyPolarToken(ctx, credential)
          : await NATIVE_PROVIDERS[provider].verifyCredential(ctx, credential);
    if (!verdict.ok) throw new ApiError(verdict.status, verdict.code, verdict.message);
    message = verdict.message;
    if ((provider === "stripe" || provider === "polar") && !secret && !(await getRow(ctx.storage, projectId, provider))?.webhook_secret_sealed && ctx.config.baseUrl) {
      const endpoint = await createWebhookEndpoint(ctx, provider, credential, `${ctx.config.baseUrl}/webhooks/${provider}/${projectId}`);
      secret = endpoint.secret ?? undefined;
      endpointId = endpoint.id;
      message = `${message}; ${endpoint.message}`;
    }
  }
  const now = ctx.now();
  await ctx.writes.job(function* (tx) {
    const existing = yield* tx.get<IntegrationRow>(SELECT_ROW, [projectId, provider]);
    const credentialSealed = credential ? seal(ctx.secret, credential) : (existing?.credential_sealed ?? null);
    const secretSealed = secret ? seal(ctx.secret, secret) : (existing?.webhook_secret_sealed ?? null);
    const status: IntegrationStatus["status"] = credentialSealed ? "connected" : "webhook_only";
    const statusMessage =
      message ||
      (credentialSealed
        ? existing?.status_message || "connected"
        : `webhooks only: payments arrive in real time; add ${provider === "stripe" ? "a restricted key" : provider === "polar" ? "an access token" : "an API key"} to backfill the last ${BACKFILL_DAYS} days`);
    // The first credential starts the backfill; a rotated key keeps the cursor; a webhook secret alone never pulls.
    const startBackfill = credential !== undefined && existing?.credential_sealed == null;
    // `? = 1`, not a bare `?`: PostgreSQL wants a boolean there, and 1 is an integer.
    yield* tx.run(
      `INSERT INTO integrations (project_id, provider, credential_sealed, credential_hint, webhook_secret_sealed, webhook_endpoint_id, status, status_message,
         connected_at, updated_at, cursor, backfill_state, backfill_from, backfill_processed, backfill_progress)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 0, 0)
       ON CONFLICT (project_id, provider) DO UPDATE SET credential_sealed = excluded.credential_sealed, credential_hint = excluded.credential_hint,
         webhook_secret_sealed = excluded.webhook_secret_sealed, webhook_endpoint_id = coalesce(excluded.webhook_endpoint_id, integrations.webhook_endpoint_id),
         status = excluded.status, status_message = excluded.status_message, updated_at = excluded.updated_at, last_error = NULL, last_error_at = NULL,
         cursor = CASE WHEN ? = 1 THEN NULL ELSE integrations.cursor END,
         backfill_state = CASE WHEN ? = 1 THEN 'running' ELSE integrations.backfill_state END,
         backfill_from = CASE WHEN ? = 1 THEN excluded.backfill_from ELSE integrations.backfill_from END,
         backfill_processed = CASE WHEN ? = 1 THEN 0 ELSE integrations.backfill_processed END,
         backfill_progress = CASE WHEN ? = 1 THEN 0 ELSE integrations.backfill_progress END,
         backfill_done_at = CASE WHEN ? = 1 THEN NULL ELSE integrations.backfill_done_at END`,
      [
      projectId,
      provider,
      credentialSealed,
      credential ? hint(credential) : (existing?.credential_hint ?? null),
      secretSealed,
      endpointId,
      status,
      statusMessage,
      now,
      now,
      startBackfill ? "running" : "none",
      startBackfill ? now - BACKFILL_DAYS * 86_400_000 : null,
      ...Array<number>(6).fill(startBackfill ? 1 : 0),
      ],
    );
  });
  return integrationStatus(ctx.storage, projectId, provider);
}

/**
 * Forgets the connection, and deletes the webhook endpoint connect created at the provider, which
 * would otherwise go on delivering to a URL that refuses it. Says what happened to that endpoint, if there was one.
 */
export async function disconnectIntegration(ctx: AppContext, projectId: string, provider: IntegrationProvider): Promise<{ endpoint: EndpointDeletion | null }> {
  const row = await getRow(ctx.storage, projectId, provider);
  const endpoint =
    (provider === "stripe" || provider === "polar") && row?.webhook_endpoint_id && row.credential_sealed
      ? await deleteWebhookEndpoint(ctx, provider, unseal(ctx.secret, row.credential_sealed), row.webhook_endpoint_id)
      : null;
  await ctx.writes.job((tx) => tx.run("DELETE FROM integrations WHERE project_id = ? AND provider = ?", [projectId, provider]));
  return { endpoint };
}

/** One decrypted secret, for the webhook and pull code only; never sent anywhere else. Each unseals only what it uses. */
export async function integrationSecret(ctx: AppContext, projectId: string, provider: IntegrationProvider, which: "credential" | "webhookSecret"): Promise<string | null> {
  const row = await getRow(ctx.storage, projectId, provider);
  const sealed = which === "credential" ? row?.credential_sealed : row?.webhook_secret_sealed;
  return sealed ? unseal(ctx.secret, sealed) : null;
}

export interface PullState<Cursor> {
  cursor: Cursor | null;
  backfillState: IntegrationRow["backfill_state"];
  backfillFrom: number | null;
}

export async function pullState<Cursor>(storage: Storage, projectId: string, provider: IntegrationProvider): Promise<PullState<Cursor> | null> {
  const row = await getRow(storage, projectId, provider);
  if (!row?.credential_sealed) return null;
  return { cursor: row.cursor ? (JSON.parse(row.cursor) as Cursor) : null, backfillState: row.backfill_state, backfillFrom: row.backfill_from };
}

/** Saves pull progress in the same transaction as the payments it pulled, so a restart resumes exactly there. */
export function* savePullProgress(
  tx: JobTx,
  projectId: string,
  provider: IntegrationProvider,
  progress: { cursor: unknown; processed: number; fraction: number | null; passComplete: boolean },
  now: number,
): JobSteps<void> {
  const passComplete = progress.passComplete ? 1 : 0;
  // `? = 1`, not a bare `?`: PostgreSQL wants a boolean there, and 1 is an integer.
  yield* tx.run(
    `UPDATE integrations SET cursor = ?, last_pull_at = ?, status = 'connected', last_error = NULL, last_error_at = NULL,
       backfill_processed = backfill_processed + CASE WHEN backfill_state = 'running' THEN ? ELSE 0 END,
       backfill_progress = CASE WHEN backfill_state != 'running' THEN backfill_progress WHEN ? = 1 THEN 1 ELSE COALESCE(?, backfill_progress) END,
       backfill_done_at = CASE WHEN backfill_state = 'running' AND ? = 1 THEN ? ELSE backfill_done_at END,
       backfill_state = CASE WHEN backfill_state = 'running' AND ? = 1 THEN 'done' ELSE backfill_state END
     WHERE project_id = ? AND provider = ?`,
    [JSON.stringify(progress.cursor), now, progress.processed, passComplete, progress.fraction, passComplete, now, passComplete, projectId, provider],
  );
}

export function* recordIntegrationError(tx: JobTx, projectId: string, provider: IntegrationProvider, message: string, now: number): JobSteps<void> {
  yield* tx.run("UPDATE integrations SET status = 'error', last_error = ?, last_error_at = ? WHERE project_id = ? AND provider = ?", [message, now, projectId, provider]);
}

/** A delivery refused for its signature: counted for the attribution doctor (the delivery itself stores nothing). */
export function* recordSignatureFailure(tx: JobTx, projectId: string, provider: IntegrationProvider, code: string, now: number): JobSteps<void> {
  yield* tx.run(
    "UPDATE integrations SET signature_failures = signature_failures + 1, last_signature_failure_at = ?, last_signature_failure = ? WHERE project_id = ? AND provider = ?",
    [now, code, projectId, provider],
  );
}

export function* recordEventReceived(tx: JobTx, projectId: string, provider: IntegrationProvider, now: number): JobSteps<void> {
  yield* tx.run("UPDATE integrations SET last_event_at = ? WHERE project_id = ? AND provider = ?", [now, projectId, provider]);
}

/** Integrations that can pull (they have a credential), for the scheduler. */
export async function pullableIntegrations(storage: Storage): Promise<{ projectId: string; provider: IntegrationProvider }[]> {
  const rows = await storage.all<{ project_id: string; provider: IntegrationProvider }>("SELECT project_id, provider FROM integrations WHERE credential_sealed IS NOT NULL");
  return rows.map((r) => ({ projectId: r.project_id, provider: r.provider }));
}
