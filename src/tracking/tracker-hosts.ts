// Which hostnames the tracker runs on, persisted or cookieless, for the attribution doctor. Written
// with a hit at most once an hour per project, host and mode, so collect stays one cheap transaction.
import type { Database } from "bun:sqlite";
import { prepared } from "./statements.ts";

const NOTE_EVERY_MS = 3_600_000;
const lastNoted = new Map<string, number>();

/** Call inside the hit's write transaction. */
export function noteTrackerHost(db: Database, projectId: string, host: string, persisted: boolean, now: number): void {
  const key = `${projectId}\n${host}\n${persisted ? 1 : 0}`;
  if (now - (lastNoted.get(key) ?? 0) < NOTE_EVERY_MS) return;
  lastNoted.set(key, now);
  prepared(
    db,
    `INSERT INTO tracker_hosts (project_id, host, persisted, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO UPDATE SET last_seen_at = excluded.last_seen_at`,
  ).run(projectId, host.toLowerCase(), persisted ? 1 : 0, now, now);
}
