import type { OffsetClock } from "../../domain/clock.js";
import type { DriverFault, DriverOp, SimLoad } from "../../drivers/driver.js";
import type { ApiFault, FaultTable } from "./faults.js";

/** Every driver operation, listed once more as a value: a new one does not compile until it is here. */
const OPS: Record<DriverOp, true> = {
  create: true,
  start: true,
  stop: true,
  reboot: true,
  reinstall: true,
  destroy: true,
  syncDisks: true,
  deleteDisk: true,
  image: true,
};
/** Driver operations the simulator can be told to fail (`image`: a custom image capture). */
export const SIM_OPS = Object.keys(OPS) as DriverOp[];

/** The controls the simulated driver offers (it satisfies this shape; core never imports it). */
export interface SimulatorControls {
  latencyMs: number;
  readonly calls: Readonly<Record<DriverOp, number>>;
  injectFault(fault: DriverFault): void;
  clearFaults(): void;
  /** Sets (or with `undefined` clears) the load an instance's monitoring readings show. */
  setLoad(id: string, load: SimLoad | undefined): void;
}

export interface EmulatorDeps {
  clock: OffsetClock;
  sim: SimulatorControls;
  faults: FaultTable;
  /** Wakes the worker: timers due by a moved clock fire at once. */
  kick: () => void;
  /** Whether an instance of any account exists (the load control names one). */
  exists: (id: string) => Promise<boolean>;
  /** Deletes every instance, disk and task and resets the simulator (accounts stay). */
  reset: () => Promise<void>;
}

/**
 * The emulator's controls (extensions for users testing their own CompShare automation): a clock
 * that only moves forward, driver latency, API and driver faults, and a reset.
 */
export class EmulatorService {
  constructor(private readonly d: EmulatorDeps) {}

  now(): number {
    return this.d.clock.now();
  }

  get offsetMs(): number {
    return this.d.clock.offset;
  }

  advanceClock(seconds: number): void {
    this.d.clock.advance(seconds * 1000);
    this.d.kick();
  }

  setLatency(ms: number): void {
    this.d.sim.latencyMs = ms;
  }

  get latencyMs(): number {
    return this.d.sim.latencyMs;
  }

  get driverCalls(): Record<DriverOp, number> {
    return { ...this.d.sim.calls };
  }

  injectApiFault(fault: ApiFault): void {
    this.d.faults.add(fault);
  }

  injectDriverFault(fault: DriverFault): void {
    this.d.sim.injectFault(fault);
  }

  /** Pins an instance's monitoring readings (an idle GPU: `gpu: 0`); `undefined` clears. */
  setLoad(id: string, load: SimLoad | undefined): void {
    this.d.sim.setLoad(id, load);
  }

  exists(id: string): Promise<boolean> {
    return this.d.exists(id);
  }

  apiFaults(): ApiFault[] {
    return this.d.faults.list();
  }

  clearFaults(): void {
    this.d.sim.clearFaults();
    this.d.faults.clear();
  }

  reset(): Promise<void> {
    return this.d.reset();
  }
}
