import type { CaptureProgress, CaptureRequest, CapturedImage } from "../driver.js";
import type { Engine } from "./engine.js";
import { EngineError, unless } from "./engine.js";

/**
 * The custom image an image is labelled with: its id on custom images, and "" on every instance
 * container (a container inherits its image's labels, and a snapshot its container's, so the empty
 * value keeps snapshots from passing for custom images).
 */
export const IMAGE_LABEL = "opencompshare.image";
/** Custom images are tagged `opencompshare-image:<image id>`. */
const IMAGES_REPO = "opencompshare-image";
/** The tag of a custom image on the engine. */
export const imageTag = (imageId: string) => `${IMAGES_REPO}:${imageId}`;

/**
 * What a commit copies per second until one has been measured on this engine: the writable layer
 * is read from the storage driver and written as a new layer (overlay2 on an SSD does several
 * hundred MB/s; a conservative first guess, replaced by what each commit actually achieved).
 */
const FIRST_GUESS_BYTES_PER_S = 100 * 1024 * 1024;
/** A commit answers only when it is done: the socket may stay silent for this long. */
const COMMIT_TIMEOUT_MS = 60 * 60_000;
const PROGRESS_EVERY_MS = 1000;

const mb = (bytes: number) => Math.max(1, Math.round(bytes / (1024 * 1024)));

interface ImageRow {
  Id: string;
  RepoTags: string[] | null;
  Labels: Record<string, string> | null;
}

/**
 * Custom images on the local engine: a commit of the instance's container (its filesystem, which
 * is the system disk; data disks are volumes and not part of it), labelled with the store and the
 * image id and tagged by the image id.
 */
export class DockerImages {
  /** Measured commit throughput (bytes/s), smoothed over the commits so far. */
  private bytesPerSecond = FIRST_GUESS_BYTES_PER_S;
  /** Commits in flight by image id: a repeated call (a claim taken over) joins, never commits twice. */
  private readonly committing = new Map<string, Promise<CapturedImage>>();

  constructor(
    private readonly engine: Engine,
    private readonly storeLabel: { key: string; value: string },
  ) {}

  /**
   * Commits the container. Progress is the commit's real time so far against an estimate from the
   * size of the container's writable layer (what a commit copies) and the throughput measured on
   * this engine; it stays below 100 until the engine answers. A commit that already finished (a
   * crash before the store heard of it) is returned as it is.
   */
  capture(
    container: string,
    req: CaptureRequest,
    onProgress: (p: CaptureProgress) => void,
  ): Promise<CapturedImage> {
    const running = this.committing.get(req.imageId);
    if (running) return running;
    const commit = this.commit(container, req, onProgress).finally(() => this.committing.delete(req.imageId));
    this.committing.set(req.imageId, commit);
    return commit;
  }

  private async commit(
    container: string,
    req: CaptureRequest,
    onProgress: (p: CaptureProgress) => void,
  ): Promise<CapturedImage> {
    const done = await this.inspect(imageTag(req.imageId));
    if (done && done.Config?.Labels?.[this.storeLabel.key] === this.storeLabel.value)
      return { ref: done.Id, sizeMB: mb(done.Size), seconds: 0 };
    const c = await unless(
      this.engine.call<{ SizeRw?: number }>("GET", `/containers/${container}/json?size=1`),
      404,
    );
    if (!c) throw new Error(`the instance's container ${container} is gone: there is nothing to capture`);
    const bytes = c.SizeRw ?? 0;
    const estimate = Math.max(1, bytes / this.bytesPerSecond);
    const started = Date.now();
    const tick = () => {
      const elapsed = (Date.now() - started) / 1000;
      const total = Math.max(estimate, elapsed + 1);
      onProgress({
        percent: Math.min(99, (elapsed / total) * 100),
        totalSeconds: total,
        remainingSeconds: total - elapsed,
      });
    };
    tick();
    const timer = setInterval(tick, PROGRESS_EVERY_MS);
    let id: string;
    try {
      // pause=true: a running container is frozen for the copy, so the image is consistent.
      const answer = await this.engine.call<{ Id: string }>(
        "POST",
        `/commit?container=${container}&repo=${IMAGES_REPO}&tag=${encodeURIComponent(req.imageId)}&pause=true`,
        { Labels: { [IMAGE_LABEL]: req.imageId, [this.storeLabel.key]: this.storeLabel.value } },
        { timeoutMs: COMMIT_TIMEOUT_MS },
      );
      id = answer.Id;
    } finally {
      clearInterval(timer);
    }
    const seconds = (Date.now() - started) / 1000;
    // Only a commit long enough to time says anything about the throughput.
    if (bytes > 0 && seconds >= 0.5) this.bytesPerSecond = (this.bytesPerSecond + bytes / seconds) / 2;
    // A commit the engine finished for a run that crashed meanwhile lost its tag to this one.
    for (const row of await this.rows({ [IMAGE_LABEL]: req.imageId }))
      if (row.Id !== id && !tagged(row)) await this.removeIfUnused(row.Id);
    const image = await this.inspect(id);
    onProgress({ percent: 100, totalSeconds: seconds, remainingSeconds: 0 });
    return { ref: id, sizeMB: mb(image?.Size ?? bytes), seconds: Math.max(1, Math.round(seconds)) };
  }

  /**
   * Untags the image. Where no container uses it, it is deleted with it; where one does, the engine
   * keeps it untagged and it goes with the last container that uses it (see DockerDriver.destroy),
   * or at the reconciler's next start.
   */
  async remove(imageId: string): Promise<void> {
    const tag = encodeURIComponent(imageTag(imageId));
    try {
      await this.engine.call("DELETE", `/images/${tag}`);
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      // 409: a container uses it; force only takes the tag away, the image stays while it is used.
      if (e.status === 409) await unless(this.engine.call("DELETE", `/images/${tag}?force=1`), 404, 409);
      else if (e.status !== 404) throw e;
    }
    for (const row of await this.rows({ [IMAGE_LABEL]: imageId })) {
      if (tagged(row)) continue;
      await this.removeIfUnused(row.Id);
    }
  }

  /** Removes an untagged custom image unless a container or a snapshot still stands on it. */
  async removeIfUnused(id: string): Promise<void> {
    await unless(this.engine.call("DELETE", `/images/${encodeURIComponent(id)}`), 404, 409);
  }

  /**
   * Ids of this store's custom images that could go: every tagged one, and untagged ones no
   * container of this store runs from (the others go with their last container).
   */
  async list(): Promise<string[]> {
    const used = new Set(
      (
        await this.engine.call<Array<{ ImageID: string }>>(
          "GET",
          `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`${this.storeLabel.key}=${this.storeLabel.value}`] }))}`,
        )
      ).map((c) => c.ImageID),
    );
    const ids = new Set<string>();
    for (const row of await this.rows()) {
      const imageId = row.Labels?.[IMAGE_LABEL];
      if (!imageId || (!tagged(row) && used.has(row.Id))) continue;
      ids.add(imageId);
    }
    return [...ids];
  }

  private async rows(labels: Record<string, string> = {}): Promise<ImageRow[]> {
    const label = [
      IMAGE_LABEL,
      `${this.storeLabel.key}=${this.storeLabel.value}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ];
    return this.engine.call<ImageRow[]>(
      "GET",
      `/images/json?filters=${encodeURIComponent(JSON.stringify({ label }))}`,
    );
  }

  private inspect(ref: string) {
    return unless(
      this.engine.call<{ Id: string; Size: number; Config?: { Labels?: Record<string, string> | null } }>(
        "GET",
        `/images/${encodeURIComponent(ref)}/json`,
      ),
      404,
    );
  }
}

const tagged = (row: ImageRow) => (row.RepoTags ?? []).some((t) => t !== "<none>:<none>");
