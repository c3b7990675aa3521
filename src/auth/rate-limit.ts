// Login throttling: failures are counted per IP+email, per IP and per account in a sliding window, in memory
// (one process serves the instance; a restart forgetting the counts is acceptable).

export interface RateLimitRule {
  limit: number;
  windowMs: number;
  /** Instead of waiting for the window: each failure past the limit doubles the wait after it, up to maxMs. */
  backoff?: { firstMs: number; maxMs: number };
}

const MAX_TRACKED_KEYS = 10_000;

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly rule: RateLimitRule) {}

  /** Milliseconds until another attempt is allowed for this key; 0 when allowed now. */
  retryAfter(key: string, now: number): number {
    const recent = this.recent(key, now);
    const beyondLimit = recent.length - this.rule.limit;
    if (beyondLimit < 0) return 0;
    const { backoff } = this.rule;
    if (!backoff) return recent[beyondLimit]! + this.rule.windowMs - now;
    const wait = Math.min(backoff.firstMs * 2 ** beyondLimit, backoff.maxMs);
    return Math.max(0, recent[recent.length - 1]! + wait - now);
  }

  recordFailure(key: string, now: number): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.set(key, recent);
    if (this.failures.size > MAX_TRACKED_KEYS) this.prune(now);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.rule.windowMs);
  }

  private prune(now: number): void {
    for (const [key, times] of this.failures) {
      if (times.every((t) => t <= now - this.rule.windowMs)) this.failures.delete(key);
    }
    // A flood of made-up emails within a day's window must not grow memory without end: the oldest keys go first.
    for (const key of this.failures.keys()) {
      if (this.failures.size <= MAX_TRACKED_KEYS * 0.9) break;
      this.failures.delete(key);
    }
  }
}
