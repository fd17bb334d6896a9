/**
 * Token buckets keyed by a client address or an account, in this replica's memory. Each replica
 * keeps its own, so N replicas behind a load balancer allow up to N times the configured rate in
 * all (README "Security"); the point is to bound the work one client can cause, not to meter.
 */
export interface BucketOptions {
  /** Tokens a full bucket holds: the burst allowed after a quiet spell. */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
  /** Keys kept at most; past it, buckets that have refilled are forgotten (they equal a fresh one). */
  maxKeys?: number;
  /** Monotonic milliseconds (tests pass their own). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const DEFAULT_MAX_KEYS = 100_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: BucketOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
  }

  /** The bucket of `key`, refilled up to now (a fresh one is full). */
  private refill(key: string): Bucket {
    const now = this.now();
    const b = this.buckets.get(key);
    if (!b) return { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.perSecond);
    b.at = now;
    return b;
  }

  /** Whether `key` has a token left (without taking it). */
  allows(key: string): boolean {
    const b = this.buckets.get(key);
    return b === undefined || this.refill(key).tokens >= 1;
  }

  /** Takes one token; false (and nothing taken) when the bucket is empty. */
  take(key: string): boolean {
    const b = this.refill(key);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    // Re-inserted so the map stays in least-recently-used order for pruning.
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.prune();
    return true;
  }

  /** Seconds until `key` has a whole token again (0 when it has one). */
  retryAfter(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const missing = 1 - this.refill(key).tokens;
    return missing <= 0 ? 0 : Math.ceil(missing / this.opts.perSecond);
  }

  /**
   * Forgets the least recently used buckets until the map is back under its cap. Dropping one that
   * is not full yet forgives its owner a little; the cap bounds memory under a flood of addresses.
   */
  private prune(): void {
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys * 0.9) return;
      this.buckets.delete(key);
    }
  }

  /** Buckets held now (metrics, tests). */
  get size(): number {
    return this.buckets.size;
  }
}
