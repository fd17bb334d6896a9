import { SIM_SSH_PORT, privateIpOf } from "../../domain/addresses.js";
import type { Clock } from "../../domain/clock.js";
import type { ImageRecord } from "../../domain/images.js";
import type {
  Access,
  CaptureProgress,
  CaptureRequest,
  CapturedImage,
  Driver,
  DriverFault,
  DriverOp,
  InstanceSample,
  Observed,
  RuntimeSpec,
  SampleTarget,
  SimLoad,
} from "../driver.js";

interface SimInstance {
  running: boolean;
  gpus: number[];
  systemDiskGeneration: number;
  /** The runtime image its system disk was last made from (unknown after a restart). */
  image?: string;
}

/** A custom image the simulator holds. */
interface SimImage {
  ref: string;
  instanceId: string;
  sizeMB: number;
  seconds: number;
}

/**
 * Simulated time a capture takes per GB of system disk: a 50 GB disk takes 50 s of the emulator's
 * clock, so EmulatorAdvanceClock finishes a job at once and real time finishes it too.
 */
export const SIM_CAPTURE_MS_PER_GB = 1000;
/** How often (real time) a capture looks at the clock and reports its progress. */
const CAPTURE_POLL_MS = 25;

/** A number in [0, 1) fixed by a string: each instance's wave has its own phase. */
function phaseOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
}

/** `base ± amp`, a sine of `periodMs` on the emulator clock, shifted by the instance's phase. */
function wave(now: number, phase: number, base: number, amp: number, periodMs: number): number {
  return Math.round((base + amp * Math.sin(2 * Math.PI * (now / periodMs + phase))) * 100) / 100;
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
    syncDisks: 0,
    deleteDisk: 0,
    image: 0,
  };
  /** Data disks with storage (made by a start or a disk sync, gone with deleteDisk or a release). */
  readonly volumes = new Set<string>();
  private readonly loads = new Map<string, SimLoad>();
  /** Runtimes a create was asked for since {@link recallFrom}: never recalled from the store. */
  private readonly madeSinceRecall = new Set<string>();
  readonly images = new Map<string, SimImage>();
  /** Bumped to abandon the captures in flight (an emulator reset must not wait for them). */
  private captureEpoch = 0;
  private readonly capturing = new Map<string, Promise<CapturedImage>>();
  private faults: DriverFault[] = [];
  private memory?: SimMemory;
  private readonly gates = new Map<DriverOp, { opened: Promise<void>; open: () => void; waiting: number }>();

  constructor(
    public latencyMs = 0,
    private readonly random: () => number = Math.random,
    /** The emulator's clock: a capture's progress follows it. */
    private readonly clock: Clock = { now: () => Date.now() },
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

  /** Makes every capture in flight fail at its next look at the clock. */
  cancelCaptures(): void {
    this.captureEpoch++;
  }

  /**
   * After a restart the world is the store's: an instance's runtime is recalled from it the first
   * time a call names it, instead of loading every instance at start (a million of them held a
   * quarter of a gigabyte). Equivalent to loading them all then, since every later change of a
   * runtime goes through this driver, which asks the store before its first one; a runtime made
   * since the restart was made by `create`, which asks nobody.
   */
  recallFrom(memory: SimMemory): void {
    this.memory = memory;
    this.madeSinceRecall.clear();
  }

  private async entry(id: string): Promise<SimInstance | undefined> {
    const known = this.instances.get(id);
    if (known || !this.memory || this.madeSinceRecall.has(id)) return known;
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
    this.madeSinceRecall.clear();
    this.cancelCaptures();
    for (const g of this.gates.values()) g.open();
    this.gates.clear();
    this.instances.clear();
    this.images.clear();
    this.volumes.clear();
    this.loads.clear();
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
    // Asked to make it since the restart: whatever the store says, its runtime is only what this
    // create makes (a create that fails leaves none, as before the restart).
    this.madeSinceRecall.add(spec.id);
    await this.step("create");
    // Not recalled: every runtime made since the restart starts here (a Create, a Recover), and one
    // made before is made again as it was then (a Create cut short by the restart).
    if (!this.instances.has(spec.id))
      this.instances.set(spec.id, { running: false, gpus: [], systemDiskGeneration: 1, image: spec.image });
  }

  async start(spec: RuntimeSpec, gpus: number[]): Promise<Access> {
    await this.step("start");
    const inst = (await this.entry(spec.id)) ?? {
      running: false,
      gpus: [],
      systemDiskGeneration: 1,
      image: spec.image,
    };
    inst.running = true;
    inst.gpus = [...gpus];
    this.instances.set(spec.id, inst);
    for (const d of spec.dataDisks) this.volumes.add(d.id);
    // The emulated instance is reached on its private address, each port as itself.
    const ports: Record<string, number> = {};
    for (const p of spec.ports?.http ?? []) ports[`http/${p}`] = p;
    for (const p of spec.ports?.tcp ?? []) ports[`tcp/${p}`] = p;
    return { ip: privateIpOf(spec.id), sshPort: SIM_SSH_PORT, ports };
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
    inst.image = spec.image;
    this.instances.set(spec.id, inst);
  }

  async destroy(id: string, opts?: { releaseDataDisks: boolean; dataDiskIds: string[] }): Promise<void> {
    await this.step("destroy");
    this.instances.delete(id);
    this.loads.delete(id);
    if (opts?.releaseDataDisks) for (const d of opts.dataDiskIds) this.volumes.delete(d);
  }

  async syncDisks(spec: RuntimeSpec): Promise<void> {
    await this.step("syncDisks");
    for (const d of spec.dataDisks) this.volumes.add(d.id);
  }

  async deleteDisk(diskId: string): Promise<void> {
    await this.step("deleteDisk");
    this.volumes.delete(diskId);
  }

  setLoad(id: string, load: SimLoad | undefined): void {
    if (load) this.loads.set(id, { ...load });
    else this.loads.delete(id);
  }

  /**
   * Deterministic readings on the emulator clock: each metric a slow sine around a plausible level
   * with the instance's own phase, unless the emulator pinned a load (EmulatorSetLoad).
   */
  async sample(targets: SampleTarget[], now: number): Promise<InstanceSample[]> {
    return targets.map((t) => {
      const ph = phaseOf(t.id);
      const load = this.loads.get(t.id) ?? {};
      return {
        id: t.id,
        cpu: load.cpu ?? wave(now, ph, 25, 15, 300_000),
        memory: load.memory ?? wave(now, ph, 40, 10, 900_000),
        sysDisk: Math.round((10 + ph * 20) * 100) / 100,
        dataDisks: t.dataDisks.map((d) => ({
          id: d.id,
          used: Math.round((5 + phaseOf(d.id) * 30) * 100) / 100,
        })),
        gpus: t.gpus.map((index) => ({
          index,
          uuid: `GPU-sim-${t.hostId}-${index}`,
          busId: `00000000:${(0x18 + index).toString(16).padStart(2, "0").toUpperCase()}:00.0`,
          util: load.gpu ?? wave(now, phaseOf(`${t.id}/${index}`), 55, 35, 240_000),
          memory: load.gpuMemory ?? wave(now, phaseOf(`${t.id}/${index}`), 50, 20, 1_200_000),
        })),
        netIn: Math.max(0, wave(now, ph, 2e6, 1.5e6, 120_000)),
        netOut: Math.max(0, wave(now, ph, 5e5, 4e5, 180_000)),
        diskRead: Math.max(0, wave(now, ph, 1e7, 8e6, 200_000)),
        diskWrite: Math.max(0, wave(now, ph, 4e6, 3e6, 260_000)),
      };
    });
  }

  /**
   * Takes {@link SIM_CAPTURE_MS_PER_GB} of the emulator's clock per GB of system disk, counted from
   * when the job was accepted, reporting progress as the clock moves (advancing it finishes the
   * capture at once). The image is the size of the system disk.
   */
  captureImage(req: CaptureRequest, onProgress: (p: CaptureProgress) => void): Promise<CapturedImage> {
    const done = this.images.get(req.imageId);
    if (done) return Promise.resolve({ ref: done.ref, sizeMB: done.sizeMB, seconds: done.seconds });
    // A second call while the first runs (a claim taken over when the clock jumped) joins it.
    const running = this.capturing.get(req.imageId);
    if (running) return running;
    const capture = this.capture(req, onProgress).finally(() => this.capturing.delete(req.imageId));
    this.capturing.set(req.imageId, capture);
    return capture;
  }

  private async capture(
    req: CaptureRequest,
    onProgress: (p: CaptureProgress) => void,
  ): Promise<CapturedImage> {
    const epoch = this.captureEpoch;
    await this.step("image");
    if (!(await this.entry(req.instanceId))) throw new Error(`instance ${req.instanceId} does not exist`);
    const totalMs = Math.max(1, req.systemDiskGB) * SIM_CAPTURE_MS_PER_GB;
    const started = Math.min(req.acceptedAt, this.clock.now());
    for (;;) {
      if (epoch !== this.captureEpoch) throw new Error("capture abandoned: the emulator was reset");
      const elapsed = this.clock.now() - started;
      if (elapsed >= totalMs) break;
      onProgress({
        percent: Math.floor((elapsed / totalMs) * 1000) / 10,
        totalSeconds: Math.ceil(totalMs / 1000),
        remainingSeconds: Math.ceil((totalMs - elapsed) / 1000),
      });
      await new Promise((r) => setTimeout(r, CAPTURE_POLL_MS));
    }
    const image: SimImage = {
      ref: `sim-image:${req.imageId}`,
      instanceId: req.instanceId,
      sizeMB: Math.max(1, req.systemDiskGB) * 1024,
      seconds: Math.ceil(totalMs / 1000),
    };
    this.images.set(req.imageId, image);
    onProgress({ percent: 100, totalSeconds: image.seconds, remainingSeconds: 0 });
    return { ref: image.ref, sizeMB: image.sizeMB, seconds: image.seconds };
  }

  /** After a restart: the Available images the store holds are this emulator's again. */
  restoreImages(images: ImageRecord[]): void {
    for (const im of images)
      if (im.status === "Available" && im.runtimeRef)
        this.images.set(im.id, {
          ref: im.runtimeRef,
          instanceId: im.sourceInstanceId,
          sizeMB: im.sizeMB,
          seconds: im.totalSeconds,
        });
  }

  async removeImage(imageId: string): Promise<void> {
    this.images.delete(imageId);
  }

  async listImages(): Promise<string[]> {
    return [...this.images.keys()];
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
