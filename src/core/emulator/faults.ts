/** An API-level fault injected by the emulator: the next calls of an Action fail as told. */
export interface ApiFault {
  action: string;
  retCode: number;
  message: string;
  /** Fail this many calls, then disappear. */
  count?: number;
  /** Or fail each call with this probability, until cleared. */
  probability?: number;
}

/** Faults the gateway consults before dispatching an Action. */
export class FaultTable {
  private faults: ApiFault[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(fault: ApiFault): void {
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  list(): ApiFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The fault to apply to this call, if any (consuming one count). */
  take(action: string): ApiFault | undefined {
    const f = this.faults.find((x) => x.action === action);
    if (!f) return undefined;
    if (f.count !== undefined) {
      f.count--;
      if (f.count <= 0) this.faults.splice(this.faults.indexOf(f), 1);
      return f;
    }
    return this.random() < (f.probability ?? 1) ? f : undefined;
  }
}
