// Cookieless visitor ids: HMAC(daily random salt, project + IP + user agent). A salt lives at most
// 48 hours (today's and yesterday's, for sessions that straddle midnight), then it is deleted and
// yesterday's ids can no longer be recomputed from an IP.
import type { Storage } from "../db/storage/storage.ts";

export interface Salts {
  /** The UTC day [start, end) in unix ms, so the hot path checks the day without formatting a date. */
  dayStart: number;
  dayEnd: number;
  today: Uint8Array;
  yesterday: Uint8Array | null;
}

const DAY_MS = 86_400_000;
const cache = new WeakMap<Storage, Salts>();
const loading = new WeakMap<Storage, { dayStart: number; read: Promise<Salts> }>();

export function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

/** Today's and yesterday's salts from memory, without a query (the hot paths); undefined on a day's first call: then `loadSalts`. */
export function cachedSalts(storage: Storage, now: number): Salts | undefined {
  const cached = cache.get(storage);
  return cached && now >= cached.dayStart && now < cached.dayEnd ? cached : undefined;
}

/**
 * Reads today's and yesterday's salts, creating today's if no node has yet (every node sharing the
 * database then hashes with the same salt) and deleting older ones. Calls made together for one day share one read.
 */
export function loadSalts(storage: Storage, now: number): Promise<Salts> {
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const pending = loading.get(storage);
  if (pending?.dayStart === dayStart) return pending.read;
  const read = readSalts(storage, now).finally(() => {
    if (loading.get(storage)?.read === read) loading.delete(storage);
  });
  loading.set(storage, { dayStart, read });
  return read;
}

async function readSalts(storage: Storage, now: number): Promise<Salts> {
  const day = utcDay(now);
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const yesterdayDay = utcDay(now - DAY_MS);
  const rows = await storage.transaction(async (tx) => {
    await tx.run("INSERT INTO visitor_salts (day, salt, created_at) VALUES (?, ?, ?) ON CONFLICT (day) DO NOTHING", [day, crypto.getRandomValues(new Uint8Array(32)), now]);
    // SQLite's secure_delete overwrites the freed bytes, so a deleted salt is not left in the file.
    if (tx.engine === "sqlite") await tx.run("PRAGMA secure_delete = ON");
    await tx.run("DELETE FROM visitor_salts WHERE day < ?", [yesterdayDay]);
    if (tx.engine === "sqlite") await tx.run("PRAGMA secure_delete = FAST");
    return tx.all<{ day: string; salt: Uint8Array }>("SELECT day, salt FROM visitor_salts WHERE day IN (?, ?)", [day, yesterdayDay]);
  });
  const salts = {
    dayStart,
    dayEnd: dayStart + DAY_MS,
    today: rows.find((row) => row.day === day)!.salt,
    yesterday: rows.find((row) => row.day === yesterdayDay)?.salt ?? null,
  };
  cache.set(storage, salts);
  return salts;
}

export function visitorHash(salt: Uint8Array, projectId: string, ip: string, userAgent: string): string {
  return new Bun.CryptoHasher("sha256", salt).update(`${projectId}\n${ip}\n${userAgent}`).digest("hex").slice(0, 24);
}

/** What `visitorHash` makes: a cookieless id, new each day, as opposed to the ids the tracker persists. */
export const COOKIELESS_ID_PATTERN = /^[0-9a-f]{24}$/;

/** The visitor's cookieless id under today's salt, then under yesterday's (to continue a session across midnight). */
export function cookielessVisitorIds(salts: Salts, projectId: string, ip: string | null, userAgent: string): string[] {
  const ids = [visitorHash(salts.today, projectId, ip ?? "", userAgent)];
  if (salts.yesterday) ids.push(visitorHash(salts.yesterday, projectId, ip ?? "", userAgent));
  return ids;
}

/** Today's cookieless id only: what a click records, so the visit that follows it has the same id. */
export function cookielessVisitorId(salts: Salts, projectId: string, ip: string | null, userAgent: string): string {
  return visitorHash(salts.today, projectId, ip ?? "", userAgent);
}

/** Ids the tracker generates in persist mode, and the hashes above: nothing else is accepted as a visitor id. */
export const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
