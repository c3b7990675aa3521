// Which hostnames the tracker runs on, persisted or cookieless, for the attribution doctor. Written
// with a hit at most once an hour per project, host and mode, so collect stays one cheap transaction.
import { answered, type JobSteps, type JobTx } from "../db/storage/jobs.ts";

const NOTE_EVERY_MS = 3_600_000;
const lastNoted = new Map<string, number>();

const UPSERT_HOST = `INSERT INTO tracker_hosts (project_id, host, persisted, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (project_id, host, persisted) DO UPDATE SET last_seen_at = excluded.last_seen_at`;

/** Part of the hit's write job. */
export function noteTrackerHost(tx: JobTx, projectId: string, host: string, persisted: boolean, now: number): JobSteps<unknown> {
  const key = `${projectId}\n${host}\n${persisted ? 1 : 0}`;
  if (now - (lastNoted.get(key) ?? 0) < NOTE_EVERY_MS) return answered(null);
  lastNoted.set(key, now);
  return tx.run(UPSERT_HOST, [projectId, host.toLowerCase(), persisted ? 1 : 0, now, now]);
}
