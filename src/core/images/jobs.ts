import type { Clock } from "../../domain/clock.js";
import type { ImageRecord } from "../../domain/images.js";
import type { TaskRecord } from "../../domain/records.js";
import type { CaptureProgress, CapturedImage, Driver } from "../../drivers/driver.js";
import type { Store } from "../../store/store.js";
import { DEFAULT_BOOT_GB } from "../catalog/spec-rules.js";
import { recordImageEvent } from "../events.js";
import type { TaskResult } from "../tasks.js";
import { retryDriverStep } from "../tasks.js";

/** What the image jobs are built from (by the composition root). */
export interface ImageJobsDeps {
  store: Store;
  clock: Clock;
  /** Driver attempts before a job is declared failed (the instance operations' number). */
  driverAttempts: number;
}

/** A progress report is written when its whole percent changes, or at least this often. */
const PROGRESS_EVERY_MS = 2000;
/** The longest wait between two tries of removing a deleted image from the runtime. */
const MAX_REMOVE_BACKOFF_MS = 10 * 60_000;

type Outcome = { ok: true; captured: CapturedImage } | { ok: false; reason: string };

/**
 * The worker's image tasks. `image` runs the capture (outside any transaction, retried with backoff
 * like an operation's driver step) and ends the job with one guarded transaction: the image
 * Available or UnAvailable with the reason, the instance's flag cleared, the task gone. A crash at
 * any point leaves the task, which runs again: the driver's capture is idempotent, so the job ends
 * with a finished image or a failed one, never a flag left set. `image-remove` takes a deleted
 * image out of the runtime.
 */
export class ImageJobs {
  constructor(private readonly d: ImageJobsDeps) {}

  async capture(task: TaskRecord, driver: Driver): Promise<TaskResult> {
    const image = await this.d.store.images.get(task.instanceId);
    // Stale: the job has ended (its end removes this task; only a hand-edited store gets here).
    if (!image || image.status !== "Making") return { done: true };
    if (!driver.captureImage) {
      await this.end(task, image, {
        ok: false,
        reason: `the ${driver.name} driver cannot make custom images`,
      });
      return { done: true };
    }
    const boot = (await this.d.store.disks.ofInstances([image.sourceInstanceId])).find((d) => d.isBoot);
    const progress = this.progressWriter(image.id);
    try {
      const captured = await driver.captureImage(
        {
          instanceId: image.sourceInstanceId,
          imageId: image.id,
          systemDiskGB: boot?.sizeGB ?? DEFAULT_BOOT_GB,
          acceptedAt: image.createdAt,
        },
        progress.report,
      );
      await progress.flush();
      await this.end(task, image, { ok: true, captured });
      return { done: true };
    } catch (e) {
      await progress.flush();
      const reason = e instanceof Error ? e.message : String(e);
      if (task.attempts < this.d.driverAttempts)
        return retryDriverStep(task.attempts, `image ${image.id}: ${reason}`);
      await this.end(task, image, { ok: false, reason });
      // What a capture may have left behind goes with the failed image (the reconciler removes it
      // at the next start if this fails too).
      await driver.removeImage?.(image.id, null).catch(() => {});
      return { done: true, note: `image ${image.id} failed: ${reason}` };
    }
  }

  /**
   * Ends a job in one transaction. The flag is cleared only by the transaction that takes the image
   * out of Making, so a stale run can never clear the flag of a newer job on the same instance.
   */
  private async end(task: TaskRecord, image: ImageRecord, outcome: Outcome): Promise<void> {
    const now = this.d.clock.now();
    await this.d.store.tx(async (r) => {
      const ended = outcome.ok
        ? await r.images.finish(
            image.id,
            {
              status: "Available",
              runtimeRef: outcome.captured.ref,
              sizeMB: outcome.captured.sizeMB,
              totalSeconds: outcome.captured.seconds,
            },
            now,
          )
        : await r.images.finish(
            image.id,
            { status: "UnAvailable", reason: outcome.reason.slice(0, 500) },
            now,
          );
      if (ended) {
        await r.instances.cas(image.sourceInstanceId, { lockedBy: "any", now }, { makingImage: false });
        await recordImageEvent(
          r,
          image,
          outcome.ok ? "image.available" : "image.failed",
          now,
          outcome.ok
            ? { instanceId: image.sourceInstanceId, sizeMB: outcome.captured.sizeMB }
            : { instanceId: image.sourceInstanceId, reason: outcome.reason.slice(0, 500) },
        );
      }
      await r.tasks.delete(task.id);
    });
  }

  /**
   * Writes the driver's progress reports to the image row (any replica answers the progress call),
   * at most once per whole percent or every few seconds. Below 100 while Making: the official CLI
   * takes 100 for done.
   */
  private progressWriter(imageId: string) {
    let lastPercent = -1;
    let lastAt = 0;
    let chain: Promise<void> = Promise.resolve();
    const report = (p: CaptureProgress) => {
      const percent = Math.min(99, Math.max(0, p.percent));
      const now = this.d.clock.now();
      if (Math.floor(percent) === lastPercent && now - lastAt < PROGRESS_EVERY_MS) return;
      lastPercent = Math.floor(percent);
      lastAt = now;
      chain = chain
        .then(() =>
          this.d.store.images.reportProgress(
            imageId,
            {
              progress: Math.round(percent * 10) / 10,
              totalSeconds: Math.max(0, Math.round(p.totalSeconds)),
              remainingSeconds: Math.max(0, Math.round(p.remainingSeconds)),
            },
            now,
          ),
        )
        // A lost progress report is not worth failing the job for; the next one replaces it.
        .catch(() => {});
    };
    return { report, flush: () => chain };
  }

  /** Removes a deleted image from the runtime, retried with a growing backoff until it succeeds. */
  async remove(task: TaskRecord, driver: Driver): Promise<TaskResult> {
    const image = await this.d.store.images.get(task.instanceId);
    if (!image || image.deletedAt === null || !driver.removeImage) return { done: true };
    try {
      await driver.removeImage(image.id, image.runtimeRef);
      return { done: true };
    } catch (e) {
      return {
        retryInMs: Math.min(MAX_REMOVE_BACKOFF_MS, 1000 * 2 ** task.attempts),
        reason: `removing image ${image.id}: ${(e as Error).message}`,
      };
    }
  }
}

/**
 * Start-up repair, beside the instances' own (cannot happen through the API, where the flag, the
 * image and its task are written in one transaction; a hand-edited store can): an image Making
 * without its job becomes UnAvailable, and an instance flagged without an image being made from
 * it is unflagged. Returns what it repaired, for the log.
 */
export async function recoverImageJobs(
  store: Store,
  now: number,
): Promise<{ imagesFailed: number; flagsCleared: number }> {
  return store.tx(async (r) => {
    let imagesFailed = 0;
    const making = await r.images.making();
    for (const image of making) {
      if ((await r.tasks.of(image.id)).some((t) => t.kind === "image")) continue;
      await r.images.finish(image.id, { status: "UnAvailable", reason: "the image job was lost" }, now);
      imagesFailed++;
    }
    const stillMaking = new Set((await r.images.making()).map((i) => i.sourceInstanceId));
    let flagsCleared = 0;
    for (const id of await r.instances.makingImage()) {
      if (stillMaking.has(id)) continue;
      await r.instances.cas(id, { lockedBy: "any", now }, { makingImage: false });
      flagsCleared++;
    }
    return { imagesFailed, flagsCleared };
  });
}
