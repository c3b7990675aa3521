// Login throttling: failures are counted per IP+email and per IP in a sliding window, in memory
// (one process serves the instance; a restart forgetting the counts is acceptable).

export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly rule: RateLimitRule) {}

  /** Milliseconds until another attempt is allowed for this key; 0 when allowed now. */
  retryAfter(key: string, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < this.rule.limit) return 0;
    return recent[recent.length - this.rule.limit]! + this.rule.windowMs - now;
  }

  recordFailure(key: string, now: number): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.set(key, recent);
    if (this.failures.size > 10_000) this.prune(now);
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
  }
}
