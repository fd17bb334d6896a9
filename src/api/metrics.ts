/** Prometheus text exposition for the few series we keep; no dependency needed for this much. */
/** Distinct (action, parameter) series of ignored parameters kept before they are lumped together. */
const MAX_IGNORED_SERIES = 500;
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, { buckets: number[]; sum: number; count: number }>();
  private readonly ignored = new Map<string, number>();
  private readonly throttledBy = new Map<string, number>();

  /** Counts a request refused by a throttle (`auth_failures`, `account_rate`). */
  throttled(reason: string): void {
    this.throttledBy.set(reason, (this.throttledBy.get(reason) ?? 0) + 1);
  }

  /**
   * Counts an unknown parameter that was accepted and ignored. Names come from the caller, so the
   * series are capped: past the cap they are counted under `param="(other)"`.
   */
  ignoredParam(action: string, param: string): void {
    let key = `${labelValue(action)}\u0000${labelValue(param.replace(/\.\d+(?=\.|$)/g, ".N"))}`;
    if (!this.ignored.has(key) && this.ignored.size >= MAX_IGNORED_SERIES)
      key = `${labelValue(action)}\u0000(other)`;
    this.ignored.set(key, (this.ignored.get(key) ?? 0) + 1);
  }

  observe(action: string, retCode: number, seconds: number): void {
    const key = `${labelValue(action)}\u0000${retCode}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(action);
    if (!h) {
      h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(action, h);
    }
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    });
    h.sum += seconds;
    h.count++;
  }

  render(): string {
    const lines = [
      "# HELP ocs_requests_total API requests by Action and RetCode.",
      "# TYPE ocs_requests_total counter",
    ];
    for (const [key, n] of this.requests) {
      const [action, code] = key.split("\u0000");
      lines.push(`ocs_requests_total{action="${action}",retcode="${code}"} ${n}`);
    }
    lines.push(
      "# HELP ocs_request_duration_seconds API request latency.",
      "# TYPE ocs_request_duration_seconds histogram",
    );
    for (const [action, h] of this.latency) {
      const a = labelValue(action);
      BUCKETS.forEach((b, i) =>
        lines.push(`ocs_request_duration_seconds_bucket{action="${a}",le="${b}"} ${h.buckets[i]}`),
      );
      lines.push(`ocs_request_duration_seconds_bucket{action="${a}",le="+Inf"} ${h.count}`);
      lines.push(`ocs_request_duration_seconds_sum{action="${a}"} ${h.sum}`);
      lines.push(`ocs_request_duration_seconds_count{action="${a}"} ${h.count}`);
    }
    lines.push(
      "# HELP ocs_ignored_params_total Unknown parameters accepted and ignored, by Action and parameter.",
      "# TYPE ocs_ignored_params_total counter",
    );
    for (const [key, n] of this.ignored) {
      const [action, param] = key.split("\u0000");
      lines.push(`ocs_ignored_params_total{action="${action}",param="${param}"} ${n}`);
    }
    lines.push(
      "# HELP ocs_throttled_total Requests refused by a throttle, by reason.",
      "# TYPE ocs_throttled_total counter",
    );
    for (const [reason, n] of this.throttledBy)
      lines.push(`ocs_throttled_total{reason="${labelValue(reason)}"} ${n}`);
    return lines.join("\n") + "\n";
  }
}

function labelValue(s: string): string {
  return s.replace(/[^A-Za-z0-9_.()]/g, "_").slice(0, 64);
}
