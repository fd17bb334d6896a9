/** Prometheus text exposition for the few series we keep; no dependency needed for this much. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, { buckets: number[]; sum: number; count: number }>();

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
    return lines.join("\n") + "\n";
  }
}

function labelValue(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 64);
}
