// Scheduled work that must run once however many nodes share the database (SPEC §11) holds a lease:
// a row naming its node until a time. The node renews it while it works; a node that dies stops
// renewing, and once the lease has expired the next node to try takes it over, resuming from what
// the work itself stored (a pull's cursor, a re-conversion's step).
import type { AppContext } from "../context.ts";
import type { Storage } from "./storage/storage.ts";

export const LEASE_MS = 60_000;

/**
 * The holder on SQLite, whose file one node serves: the same across restarts, so a server restarted
 * after a crash takes its jobs' leases at once instead of waiting for the dead process's to expire.
 */
export const SQLITE_NODE_ID = "sqlite";

const TAKE = `INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
  WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= ?
  RETURNING holder`;

/** Takes the lease or renews it for `holder`; false while another holder's has not expired. */
export async function takeLease(storage: Storage, name: string, holder: string, now: number, ms = LEASE_MS): Promise<boolean> {
  return (await storage.get(TAKE, [name, holder, now + ms, now])) !== null;
}

export async function releaseLease(storage: Storage, name: string, holder: string): Promise<void> {
  await storage.run("DELETE FROM job_leases WHERE name = ? AND holder = ?", [name, holder]);
}

export type LeaseContext = Pick<AppContext, "storage" | "nodeId" | "now">;

/**
 * Runs `work` holding the lease `name`, renewed every third of its length, and releases it after;
 * null without running it while another node holds the lease. `lost()` turns true when a renewal
 * finds the lease taken over, or when renewals have failed until the lease ran out (another node
 * may hold it by now): `work` stops at its next step.
 */
export async function whileHolding<T>(ctx: LeaseContext, name: string, work: (lost: () => boolean) => Promise<T>, ms = LEASE_MS): Promise<{ value: T } | null> {
  const takenAt = ctx.now();
  if (!(await takeLease(ctx.storage, name, ctx.nodeId, takenAt, ms))) return null;
  let heldUntil = takenAt + ms;
  let takenOver = false;
  let renewing: Promise<void> = Promise.resolve();
  const renewal = setInterval(() => {
    const at = ctx.now();
    renewing = takeLease(ctx.storage, name, ctx.nodeId, at, ms).then(
      (held) => {
        if (held) heldUntil = at + ms;
        else takenOver = true;
      },
      (error: Error) => console.error(`lease ${name}: renewal failed (${error.message}); held until ${new Date(heldUntil).toISOString()}`),
    );
  }, ms / 3);
  const lost = () => takenOver || ctx.now() >= heldUntil;
  try {
    return { value: await work(lost) };
  } finally {
    clearInterval(renewal);
    // A renewal still under way would otherwise land after the release and hold the lease for no one.
    await renewing;
    if (!lost()) await releaseLease(ctx.storage, name, ctx.nodeId).catch(() => {});
  }
}
