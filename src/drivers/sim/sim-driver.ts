import { SIM_SSH_PORT, privateIpOf } from "../../domain/addresses.js";
import type { Access, Driver, DriverOp, Observed, RuntimeSpec } from "../driver.js";

interface SimInstance {
  running: boolean;
  gpus: number[];
  systemDiskGeneration: number;
}

/**
 * Where the world of a restarted simulator comes from: its runtimes are the instances its store
 * holds outside the recycle bin, running in the states where a runtime runs.
 */
export interface SimMemory {
  /** Whether the store has a live instance `id`, and if its runtime runs; undefined if none. */
  running(id: string): Promise<boolean | undefined>;
  /** Every live instance id in the store. */
  ids(): Promise<string[]>;
}

/** A fault the emulator injects into driver calls: fail the next `count` calls, or with a probability. */
export interface DriverFault {
  op: DriverOp;
  message: string;
  count?: number;
  probability?: number;
}

/**
 * The simulated driver: the embedded default and the emulator's engine. It keeps instances in
 * memory, waits a configurable latency per call (0 allowed), counts every call (tests use the
 * counts to prove each transition ran exactly once) and fails on purpose when told to.
 */
export class SimDriver implements Driver {
  readonly name = "sim";
  readonly instances = new Map<string, SimInstance>();
  readonly calls: Record<DriverOp, number> = {
    create: 0,
    start: 0,
    stop: 0,
    reboot: 0,
    reinstall: 0,
    destroy: 0,
  };
  private faults: DriverFault[] = [];
  private memory?: SimMemory;
  private readonly gates = new Map<DriverOp, { opened: Promise<void>; open: () => void; waiting: number }>();

  constructor(
    public latencyMs = 0,
    private readonly random: () => number = Math.random,
  ) {}

  injectFault(fault: DriverFault): void {
    this.faults.push({ ...fault });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /**
   * Holds every call of `op` until the returned `release` is called: a test opens an operation's
   * lock window for exactly as long as it needs, instead of guessing with latency and sleeps.
   * `waiting()` says how many calls are held.
   */
  hold(op: DriverOp): { release: () => void; waiting: () => number } {
    let open = () => {};
    const opened = new Promise<void>((r) => {
      open = r;
    });
    const gate = { opened, open, waiting: 0 };
    this.gates.set(op, gate);
    return {
      release: () => {
        if (this.gates.get(op) === gate) this.gates.delete(op);
        gate.open();
      },
      waiting: () => gate.waiting,
    };
  }

  /**
   * After a restart the world is the store's: an instance's runtime is recalled from it the first
   * time a call names it, instead of loading every instance at start (a million of them held a
   * quarter of a gigabyte). Equivalent to loading them all then, since every later change of a
   * runtime goes through this driver, which asks the store before its first one.
   */
  recallFrom(memory: SimMemory): void {
    this.memory = memory;
  }

  private async entry(id: string): Promise<SimInstance | undefined> {
    const known = this.instances.get(id);
    if (known || !this.memory) return known;
    const running = await this.memory.running(id);
    // Another call may have recalled (and changed) it meanwhile: that one wins.
    const raced = this.instances.get(id);
    if (raced || running === undefined) return raced;
    const recalled = { running, gpus: [], systemDiskGeneration: 1 };
    this.instances.set(id, recalled);
    return recalled;
  }

  reset(): void {
    this.memory = undefined;
    for (const g of this.gates.values()) g.open();
    this.gates.clear();
    this.instances.clear();
    this.clearFaults();
    for (const k of Object.keys(this.calls) as DriverOp[]) this.calls[k] = 0;
  }

  private async step(op: DriverOp): Promise<void> {
    this.calls[op]++;
    const gate = this.gates.get(op);
    if (gate) {
      gate.waiting++;
      await gate.opened;
      gate.waiting--;
    }
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const fault = this.faults.find((f) => f.op === op);
    if (!fault) return;
    if (fault.count !== undefined) {
      fault.count--;
      if (fault.count <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      throw new Error(fault.message);
    }
    if (this.random() < (fault.probability ?? 1)) throw new Error(fault.message);
  }

  async create(spec: RuntimeSpec): Promise<void> {
    await this.step("create");
    if (!(await this.entry(spec.id)))
      this.instances.set(spec.id, { running: false, gpus: [], systemDiskGeneration: 1 });
  }

  async start(spec: RuntimeSpec, gpus: number[]): Promise<Access> {
    await this.step("start");
    const inst = (await this.entry(spec.id)) ?? { running: false, gpus: [], systemDiskGeneration: 1 };
    inst.running = true;
    inst.gpus = [...gpus];
    this.instances.set(spec.id, inst);
    return { ip: privateIpOf(spec.id), sshPort: SIM_SSH_PORT };
  }

  async stop(id: string): Promise<void> {
    await this.step("stop");
    const inst = await this.entry(id);
    if (inst) {
      inst.running = false;
      inst.gpus = [];
    }
  }

  async reboot(id: string): Promise<void> {
    await this.step("reboot");
    if (!(await this.entry(id))?.running) throw new Error(`instance ${id} is not running`);
  }

  async reinstall(spec: RuntimeSpec): Promise<void> {
    await this.step("reinstall");
    const inst = (await this.entry(spec.id)) ?? { running: false, gpus: [], systemDiskGeneration: 0 };
    inst.systemDiskGeneration++;
    this.instances.set(spec.id, inst);
  }

  async destroy(id: string): Promise<void> {
    await this.step("destroy");
    await this.entry(id);
    this.instances.delete(id);
  }

  async inspect(id: string): Promise<Observed> {
    const inst = await this.entry(id);
    return { exists: inst !== undefined, running: inst?.running ?? false };
  }

  async list(): Promise<string[]> {
    for (const id of (await this.memory?.ids()) ?? []) await this.entry(id);
    return [...this.instances.keys()];
  }
}
