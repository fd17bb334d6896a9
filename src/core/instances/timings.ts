/** Timings from the docs and the operator's configuration. */
export interface LifecycleTimings {
  /** Per-instance operation lock TTL: 10 minutes per the docs. */
  lockTtlMs: number;
  /** How long a terminated instance stays in the recycle bin. */
  recycleRetentionMs: number;
  /** A stopped Postpay instance is released this long after it stopped: 7 days per the docs. */
  postpayReleaseMs: number;
  /** Earliest scheduled stop: now + 300 s per the docs. */
  minStopLeadMs: number;
  /** Driver attempts before an operation is declared failed and rolled back. */
  driverAttempts: number;
}

export const DEFAULT_TIMINGS: LifecycleTimings = {
  lockTtlMs: 10 * 60_000,
  recycleRetentionMs: 72 * 3600_000,
  postpayReleaseMs: 7 * 24 * 3600_000,
  minStopLeadMs: 300_000,
  driverAttempts: 3,
};
