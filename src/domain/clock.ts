/** Core code reads time from a Clock, never from Date.now(), so tests and the emulator can move it. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** Real time plus an offset that the emulator's AdvanceClock control can only increase. */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError("the clock only moves forward");
    this.offsetMs += ms;
  }
  get offset(): number {
    return this.offsetMs;
  }
  reset(): void {
    this.offsetMs = 0;
  }
}

/** Unix seconds, the unit of every time field on the wire. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
