// Login throttling: failures are counted per IP+email, per IP and per account in a sliding window. The counts
// live in the database, so every node on one database (SPEC §11) holds the same limits. A key is stored as an
// HMAC under the instance secret: addresses and whatever is typed as an email are never stored.
import { createHmac } from "node:crypto";
import { deriveKey } from "../core/secret.ts";
import type { Storage } from "../db/storage/storage.ts";

interface RateLimitRule {
  limit: number;
  windowMs: number;
  /** Instead of waiting for the window: each failure past the limit doubles the wait after it, up to maxMs. */
  backoff?: { firstMs: number; maxMs: number };
}

const LOGIN_RULES = {
  ipAndAccount: { limit: 5, windowMs: 15 * 60_000 },
  ip: { limit: 30, windowMs: 15 * 60_000 },
  // Guesses spread over many addresses still reach one account: after 10 a day, each one waits twice as long as the last.
  account: { limit: 10, windowMs: 24 * 60 * 60_000, backoff: { firstMs: 60_000, maxMs: 15 * 60_000 } },
} satisfies Record<string, RateLimitRule>;

type Scope = keyof typeof LOGIN_RULES;
const SCOPES = Object.keys(LOGIN_RULES) as Scope[];
const LONGEST_WINDOW_MS = Math.max(...SCOPES.map((scope) => LOGIN_RULES[scope].windowMs));

export interface LoginAttempt {
  /** The client IP, or a stand-in when it is unknown. */
  ip: string;
  /** The normalised email typed in. */
  account: string;
}

/** Milliseconds until another attempt is allowed under `rule`, given the failure times in its window (ascending); 0 when allowed now. */
function waitUnder(rule: RateLimitRule, recent: readonly number[], now: number): number {
  const beyondLimit = recent.length - rule.limit;
  if (beyondLimit < 0) return 0;
  const { backoff } = rule;
  if (!backoff) return recent[beyondLimit]! + rule.windowMs - now;
  const wait = Math.min(backoff.firstMs * 2 ** beyondLimit, backoff.maxMs);
  return Math.max(0, recent[recent.length - 1]! + wait - now);
}

export class LoginThrottle {
  private readonly hmacKey: Buffer;

  constructor(
    private readonly storage: Storage,
    secret: string,
  ) {
    this.hmacKey = deriveKey(secret, "login-throttle");
  }

  /** Milliseconds until this address may try this account again; 0 when it may now. */
  async retryAfter(attempt: LoginAttempt, now: number): Promise<number> {
    const keys = this.keysOf(attempt);
    const rows = await this.storage.all<{ key: string; at: number }>(
      "SELECT key, at FROM login_failures WHERE key IN (?, ?, ?) AND at > ? ORDER BY at",
      [keys.ipAndAccount, keys.ip, keys.account, now - LONGEST_WINDOW_MS],
    );
    let wait = 0;
    for (const scope of SCOPES) {
      const rule = LOGIN_RULES[scope];
      const recent = rows.filter((row) => row.key === keys[scope] && row.at > now - rule.windowMs).map((row) => row.at);
      wait = Math.max(wait, waitUnder(rule, recent, now));
    }
    return wait;
  }

  async recordFailure(attempt: LoginAttempt, now: number): Promise<void> {
    const keys = this.keysOf(attempt);
    await this.storage.run(
      "INSERT INTO login_failures (key, at, expires_at) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)",
      SCOPES.flatMap((scope) => [keys[scope], now, now + LOGIN_RULES[scope].windowMs]),
    );
    // Failures past every window count for nothing: deleting them here keeps the table as small as the recent attempts.
    await this.storage.run("DELETE FROM login_failures WHERE expires_at <= ?", [now]);
  }

  /** A right password clears this account's failures; the address's count across accounts stays. */
  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    const keys = this.keysOf(attempt);
    await this.storage.run("DELETE FROM login_failures WHERE key IN (?, ?)", [keys.ipAndAccount, keys.account]);
  }

  private keysOf(attempt: LoginAttempt): Record<Scope, string> {
    const key = (scope: Scope, value: string) => createHmac("sha256", this.hmacKey).update(`${scope}\n${value}`).digest("base64url");
    return {
      ipAndAccount: key("ipAndAccount", `${attempt.ip}\n${attempt.account}`),
      ip: key("ip", attempt.ip),
      account: key("account", attempt.account),
    };
  }
}
