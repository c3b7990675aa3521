// Cookieless visitor ids: HMAC(daily random salt, project + IP + user agent). A salt lives at most
// 48 hours (today's and yesterday's, for sessions that straddle midnight), then it is deleted and
// yesterday's ids can no longer be recomputed from an IP.
import type { Database } from "bun:sqlite";
import { prepared } from "./statements.ts";

interface Salts {
  /** The UTC day [start, end) in unix ms, so the hot path checks the day without formatting a date. */
  dayStart: number;
  dayEnd: number;
  today: Uint8Array;
  yesterday: Uint8Array | null;
}

const DAY_MS = 86_400_000;
const cache = new WeakMap<Database, Salts>();

export function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

/** Today's and yesterday's salts; on the first call of a day, creates today's and deletes older ones. */
export function dailySalts(db: Database, now: number): Salts {
  const cached = cache.get(db);
  if (cached && now >= cached.dayStart && now < cached.dayEnd) return cached;
  const day = utcDay(now);
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const yesterdayDay = utcDay(now - DAY_MS);
  const salts = db.transaction(() => {
    db.query("INSERT OR IGNORE INTO visitor_salts (day, salt, created_at) VALUES (?, ?, ?)").run(day, crypto.getRandomValues(new Uint8Array(32)), now);
    // secure_delete overwrites the freed bytes, so a deleted salt is not left in the file.
    db.exec("PRAGMA secure_delete = ON");
    db.query("DELETE FROM visitor_salts WHERE day < ?").run(yesterdayDay);
    db.exec("PRAGMA secure_delete = FAST");
    const rows = db.query<{ day: string; salt: Uint8Array }, [string, string]>("SELECT day, salt FROM visitor_salts WHERE day IN (?, ?)").all(day, yesterdayDay);
    return {
      dayStart,
      dayEnd: dayStart + DAY_MS,
      today: rows.find((row) => row.day === day)!.salt,
      yesterday: rows.find((row) => row.day === yesterdayDay)?.salt ?? null,
    };
  }).immediate();
  cache.set(db, salts);
  return salts;
}

export function visitorHash(salt: Uint8Array, projectId: string, ip: string, userAgent: string): string {
  return new Bun.CryptoHasher("sha256", salt).update(`${projectId}\n${ip}\n${userAgent}`).digest("hex").slice(0, 24);
}

/** What `visitorHash` makes: a cookieless id, new each day, as opposed to the ids the tracker persists. */
export const COOKIELESS_ID_PATTERN = /^[0-9a-f]{24}$/;

/** The visitor's cookieless id under today's salt, then under yesterday's (to continue a session across midnight). */
export function cookielessVisitorIds(db: Database, projectId: string, ip: string | null, userAgent: string, now: number): string[] {
  const salts = dailySalts(db, now);
  const ids = [visitorHash(salts.today, projectId, ip ?? "", userAgent)];
  if (salts.yesterday) ids.push(visitorHash(salts.yesterday, projectId, ip ?? "", userAgent));
  return ids;
}

/** Today's cookieless id only: what a click records, so the visit that follows it has the same id. */
export function cookielessVisitorId(db: Database, projectId: string, ip: string | null, userAgent: string, now: number): string {
  return visitorHash(dailySalts(db, now).today, projectId, ip ?? "", userAgent);
}

/** Ids the tracker generates in persist mode, and the hashes above: nothing else is accepted as a visitor id. */
export const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
