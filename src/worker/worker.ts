import type { CatalogIndex } from "../core/catalog.js";
import type { Clock } from "../core/clock.js";
import { randomId } from "../core/ids.js";
import type { InstanceService } from "../core/instances.js";
import { Conflict, computeOf } from "../core/instances.js";
import type { Operation } from "../core/states.js";
import type { Access, Driver, RuntimeSpec } from "../drivers/driver.js";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import type { InstanceRecord, TaskRecord } from "../store/instances-repo.js";
import { instancesRepo as repo } from "../store/instances-repo.js";

export interface WorkerOptions {
  /** How long a claim lasts before another replica may take the task over. */
  claimMs: number;
  /** Idle poll interval (a kick wakes the worker at once). */
  pollMs: number;
  /** Tasks claimed per round, run concurrently. */
  batch: number;
  /** Driver attempts before a transition is declared failed. */
  maxAttempts: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  claimMs: 60_000,
  pollMs: 250,
  batch: 32,
  maxAttempts: 3,
};

/**
 * Claims due tasks and drives them: finish a transition through the driver, fire a scheduled stop,
 * release a stopped Postpay instance, purge the recycle bin. The driver is called outside any
 * transaction; the result is written with a guarded update that only the lock holder can make.
 */
export class Worker {
  readonly id = randomId("worker", 10);
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopping = false;
  private again = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly instances: InstanceService,
    private readonly driver: Driver,
    private readonly catalog: CatalogIndex,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: WorkerOptions = DEFAULT_WORKER_OPTIONS,
  ) {}

  start(): void {
    this.stopping = false;
    this.schedule(0);
  }

  /** Wakes the worker now (a new task was queued, or the clock moved). */
  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Stops taking new work, waits for the round in flight, then hands back any claim still held so
   * another replica takes it at once instead of waiting for the claim to expire (SIGTERM path).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.db.run("UPDATE tasks SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = ?", [
      this.id,
    ]);
  }

  private schedule(ms: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.round();
    }, ms);
  }

  /**
   * Runs rounds until no task is due, including due tasks another round of this process has
   * claimed and is still running (tests use this to wait for the worker deterministically).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.runOnce()) continue;
      const due = await this.db.all("SELECT id FROM tasks WHERE due_at <= ? LIMIT 1", [this.clock.now()]);
      if (due.length === 0) return;
      if (Date.now() > deadline) throw new Error("worker did not drain in time");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      let more = true;
      while (more && !this.stopping) {
        this.again = false;
        more = (await this.runOnce()) || this.again;
      }
    } catch (e) {
      this.log.error("worker round failed", { err: String(e) });
    } finally {
      this.running = false;
      this.schedule(this.opts.pollMs);
    }
  }

  /** One claim-and-run round; true when it did something. */
  async runOnce(): Promise<boolean> {
    const tasks = await repo.claimDue(this.db, this.id, this.clock.now(), this.opts.claimMs, this.opts.batch);
    if (tasks.length === 0) return false;
    await Promise.all(tasks.map((t) => this.run(t)));
    return true;
  }

  private async run(task: TaskRecord): Promise<void> {
    // A slow driver call must not lose its claim to another replica: extend it while we work.
    const heartbeat = setInterval(
      () => {
        this.db
          .run("UPDATE tasks SET claim_expires_at = ? WHERE id = ? AND claimed_by = ?", [
            this.clock.now() + this.opts.claimMs,
            task.id,
            this.id,
          ])
          .catch(() => {});
      },
      Math.max(50, this.opts.claimMs / 3),
    );
    try {
      await this.runClaimed(task);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async runClaimed(task: TaskRecord): Promise<void> {
    const log = this.log.child({ task: task.id, kind: task.kind, instance: task.instanceId });
    try {
      switch (task.kind) {
        case "transition":
          await this.transition(task, log);
          return;
        case "scheduled-stop":
        case "release": {
          const result =
            task.kind === "scheduled-stop"
              ? await this.instances.fireScheduledStop(task)
              : await this.instances.fireRelease(task);
          if (result === "retry") await repo.postpone(this.db, task.id, this.id, this.clock.now() + 1000);
          else await repo.completeTask(this.db, task.id, this.id);
          return;
        }
        case "purge": {
          const inst = await this.instances.purge(task);
          if (inst) {
            await this.driver
              .destroy(inst.id, { releaseDataDisks: inst.releaseUdisk, dataDiskIds: [] })
              .catch((e) => log.warn("driver destroy at purge failed", { err: String(e) }));
          }
          return;
        }
      }
    } catch (e) {
      if (e instanceof Conflict) {
        await repo.postpone(this.db, task.id, this.id, this.clock.now() + 1000);
        return;
      }
      log.error("task failed", { err: e instanceof Error ? e.stack : String(e) });
      await repo.postpone(
        this.db,
        task.id,
        this.id,
        this.clock.now() + Math.min(60_000, 1000 * 2 ** task.attempts),
      );
    }
  }

  private async transition(task: TaskRecord, log: Logger): Promise<void> {
    const op = task.payload.operation as Operation;
    const inst = await repo.get(this.db, task.instanceId);
    if (!inst || inst.operation !== op) {
      // Stale: the lock expired and another operation took over, or the instance is gone.
      await repo.completeTask(this.db, task.id, this.id);
      return;
    }
    let access: Access | undefined;
    try {
      access = await this.callDriver(op, inst);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (task.attempts < this.opts.maxAttempts) {
        log.warn("driver call failed; will retry", { op, attempt: task.attempts, err: reason });
        await repo.postpone(this.db, task.id, this.id, this.clock.now() + 200 * 2 ** task.attempts);
        return;
      }
      log.warn("transition failed", { op, err: reason });
      await this.instances.finishTransition(task, { ok: false, reason });
      return;
    }
    await this.instances.finishTransition(task, { ok: true, access });
    log.debug("transition finished", { op });
  }

  private async spec(inst: InstanceRecord): Promise<RuntimeSpec> {
    const image = this.catalog.image(inst.imageId);
    const disks = await repo.disksOf(this.db, [inst.id]);
    const type = this.catalog.gpuType(inst.gpuType);
    // Started without GPU, an instance runs the type's smaller no-GPU spec.
    const compute = type ? computeOf(inst, type) : { cpu: inst.cpu, memory: inst.memory };
    return {
      id: inst.id,
      image: image?.runtimeImage ?? inst.imageId,
      command: image?.runtimeCommand,
      imageId: inst.imageId,
      cpu: compute.cpu,
      memoryMB: compute.memory,
      hostId: inst.hostId ?? "",
      dataDisks: disks
        .filter((d) => !d.isBoot && d.state === "InUse")
        .map((d) => ({ id: d.id, sizeGB: d.sizeGB })),
      password: this.instances.password(inst),
    };
  }

  /** Runs the driver's part of an operation; Create and Start say how the instance is reached. */
  private async callDriver(op: Operation, inst: InstanceRecord): Promise<Access | undefined> {
    switch (op) {
      case "Create": {
        const spec = await this.spec(inst);
        await this.driver.create(spec);
        return this.driver.start(spec, await repo.gpusOf(this.db, inst.id));
      }
      case "Start":
        return this.driver.start(
          await this.spec(inst),
          inst.withoutGpu ? [] : await repo.gpusOf(this.db, inst.id),
        );
      case "Stop":
        await this.driver.stop(inst.id);
        return;
      case "Reboot":
        await this.driver.reboot(inst.id);
        return;
      case "Reinstall":
        await this.driver.reinstall(await this.spec(inst));
        return;
      case "Resize":
        // Only a Stopped instance is resized: the driver applies the new limits at its next start.
        return;
      case "Terminate": {
        const disks = await repo.disksOf(this.db, [inst.id]);
        await this.driver.destroy(inst.id, {
          releaseDataDisks: inst.releaseUdisk,
          dataDiskIds: disks.filter((d) => !d.isBoot).map((d) => d.id),
        });
        return;
      }
      case "Recover":
        await this.driver.create(await this.spec(inst));
        return;
    }
  }
}
