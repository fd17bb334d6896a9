import type { Clock } from "../../domain/clock.js";
import { ApiError, badParam, missingParam } from "../../domain/errors.js";
import type { IdGen } from "../../domain/ids.js";
import type { ImagePatch, ImageRecord, ImageShareAccount } from "../../domain/images.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { State } from "../../domain/states.js";
import type { Driver } from "../../drivers/driver.js";
import type { Repos, Store } from "../../store/store.js";
import { recordImageEvent } from "../events.js";
import { explain, imageInProgress } from "../instances/engine.js";
import type { Scope } from "../instances/scope.js";
import { visibleOrThrow } from "../instances/scope.js";
import type { Page } from "../paging.js";
import { checkOffset } from "../paging.js";
import { queueTask } from "../tasks.js";
import type { ImageResolver, ResolvedImage } from "./resolve.js";
import type { SoftwaresAsked } from "./rules.js";
import { checkDescription, checkImageName, checkSoftwares, checkTags, imageableStates } from "./rules.js";

/** The Go SDK's ModifyCompShareImageShareAccount: "每次最多10个". */
const MAX_SHARE_CHANGES = 10;

/** What the image service is built from (by the composition root). */
export interface ImageServiceDeps {
  store: Store;
  clock: Clock;
  ids: IdGen;
  resolver: ImageResolver;
  /** Only asked whether it can make images at all; the worker runs the jobs. */
  driver: Driver;
  /** Wakes the worker (a job was queued). */
  kick: () => void;
  /** Live custom images an account may hold (OCS_IMAGE_QUOTA). */
  quota: number;
}

/** CreateCompShareCustomImage's request, as core takes it. */
export interface CreateImageInput {
  uhostId: string;
  name: string;
  description?: string;
  softwares?: SoftwaresAsked;
}

/** A list's window, its id filter, and whether it spans every region (the request named none). */
export interface ListInput {
  id?: string;
  page: Page;
  anyRegion?: boolean;
}

/** An image with its owner, as the lists render it. */
export interface ImageView {
  image: ImageRecord;
  owner: ImageShareAccount;
}

/**
 * Custom images as the actions see them. Making one is a job: one transaction flags the instance
 * (`making_image`, checked in the same compare-and-swap as its state), inserts the image as Making
 * and queues the worker's `image` task; the job (jobs.ts) ends it with another. Every other call
 * here is one transaction on the image rows.
 */
export class ImageService {
  constructor(private readonly d: ImageServiceDeps) {}

  get resolver(): ImageResolver {
    return this.d.resolver;
  }

  /** CreateCompShareCustomImage: starts the job; returns the new image's id. */
  async create(scope: Scope, input: CreateImageInput): Promise<string> {
    const name = checkImageName(input.name);
    const description = checkDescription(input.description ?? "");
    const softwares = checkSoftwares(input.softwares);
    if (!this.d.driver.captureImage) throw new ApiError("ImagesNotSupported", { driver: this.d.driver.name });
    const now = this.d.clock.now();
    const id = this.d.ids.next("compshareImage", 8);
    await this.d.store.tx(async (r) => {
      const inst = visibleOrThrow(await r.instances.get(input.uhostId), input.uhostId, scope);
      const allowed = imageableStates(inst);
      if (inst.makingImage) throw imageInProgress(inst, "CreateCompShareCustomImage");
      if (
        !(await r.instances.cas(
          inst.id,
          { states: allowed, inRecycle: false, now, makingImage: false },
          { makingImage: true },
        ))
      )
        throw this.refusal((await r.instances.get(inst.id)) ?? inst, allowed, now);
      await r.images.lockAccount(scope.account.id);
      if (await r.images.nameTaken(scope.account.id, name)) throw new ApiError("ImageNameInUse", { name });
      const count = await r.images.countLive(scope.account.id);
      if (count >= this.d.quota) throw new ApiError("ImageQuotaExceeded", { quota: this.d.quota, count });
      const image: ImageRecord = {
        id,
        accountId: scope.account.id,
        projectId: inst.projectId,
        region: inst.region,
        zone: inst.zone,
        name,
        description,
        tags: [],
        softwares,
        status: "Making",
        sourceInstanceId: inst.id,
        sourceGpuType: inst.gpuType,
        baseImageId: await baseImageOf(r, inst),
        container: inst.instanceType === "Container",
        runtimeRef: null,
        sizeMB: 0,
        progress: 0,
        totalSeconds: 0,
        remainingSeconds: 0,
        failedReason: "",
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
        deletedAt: null,
      };
      await r.images.insert(image);
      await queueTask(r, this.d.ids, { kind: "image", subject: id, dueAt: now }, now);
      await recordImageEvent(r, image, "image.making", now, { instanceId: inst.id, name });
    });
    this.d.kick();
    return id;
  }

  /** After a failed compare-and-swap: the image job, then the lock, then the state. */
  private refusal(inst: InstanceRecord, allowed: readonly State[], now: number): ApiError {
    if (inst.makingImage) return imageInProgress(inst, "CreateCompShareCustomImage");
    return explain(inst, "CreateCompShareCustomImage", allowed, now);
  }

  /** The caller's own live image in the request's region, or ImageNotFound. */
  async own(scope: Scope, id: string): Promise<ImageRecord> {
    return owned(await this.d.store.images.get(id), id, scope);
  }

  /**
   * DescribeCompShareCustomImages (`owned`) and DescribeCompShareSharingImages (`sharedWith`):
   * the caller's images, or those other accounts shared with it, in the region (every region when
   * the request names none, as the official CLI's lists send no Region), newest first.
   */
  async list(
    which: "owned" | "sharedWith",
    scope: Scope,
    f: ListInput,
  ): Promise<{ total: number; rows: ImageView[] }> {
    const { total, rows } = await this.d.store.images[which](scope.account.id, {
      region: f.anyRegion ? undefined : scope.region,
      id: f.id,
      offset: f.page.offset,
      limit: f.page.limit,
    });
    checkOffset(f.page, total, "images", "empty");
    return { total, rows: await this.withOwners(rows) };
  }

  /** A live custom image the caller owns or was shared, by id (DescribeCompShareImages by id). */
  async visible(scope: Scope, id: string, anyRegion = false): Promise<ImageView | undefined> {
    const image = await this.d.store.images.get(id);
    if (!image || image.deletedAt !== null || (!anyRegion && image.region !== scope.region)) return undefined;
    if (
      image.accountId !== scope.account.id &&
      !(await this.d.store.images.isSharedWith(id, scope.account.id))
    )
      return undefined;
    return (await this.withOwners([image]))[0];
  }

  private async withOwners(rows: ImageRecord[]): Promise<ImageView[]> {
    const owners = await this.d.store.images.owners([...new Set(rows.map((r) => r.accountId))]);
    return rows.map((image) => ({
      image,
      owner: owners.get(image.accountId) ?? { accountId: image.accountId, number: 0, name: "" },
    }));
  }

  /**
   * TerminateCompShareCustomImage: refused while Making. The image leaves every list at once; the
   * worker's `image-remove` task then removes it from the runtime, which keeps it while instances
   * made from it still use it (they keep working).
   */
  async terminate(scope: Scope, id: string): Promise<void> {
    const now = this.d.clock.now();
    await this.d.store.tx(async (r) => {
      const image = owned(await r.images.get(id), id, scope);
      if (!(await r.images.markDeleted(id, now))) {
        const again = owned(await r.images.get(id), id, scope);
        throw new ApiError("InvalidImageState", {
          imageId: id,
          status: again.status,
          action: "TerminateCompShareCustomImage",
          allowed: "Available, UnAvailable",
        });
      }
      await r.images.removeShares(id);
      await queueTask(r, this.d.ids, { kind: "image-remove", subject: id, dueAt: now }, now);
      await recordImageEvent(r, image, "image.deleted", now, { name: image.name });
    });
    this.d.kick();
  }

  /** UpdateCompShareImage: name (unique per account), description, tags, softwares. */
  async update(scope: Scope, id: string, patch: ImagePatch): Promise<void> {
    const checked: ImagePatch = {};
    if (patch.name !== undefined) checked.name = checkImageName(patch.name);
    if (patch.description !== undefined) checked.description = checkDescription(patch.description);
    if (patch.tags !== undefined) checked.tags = checkTags(patch.tags);
    if (patch.softwares !== undefined) checked.softwares = patch.softwares;
    const now = this.d.clock.now();
    await this.d.store.tx(async (r) => {
      const image = owned(await r.images.get(id), id, scope);
      if (checked.name !== undefined) {
        await r.images.lockAccount(scope.account.id);
        if (await r.images.nameTaken(scope.account.id, checked.name, id))
          throw new ApiError("ImageNameInUse", { name: checked.name });
      }
      if (!(await r.images.update(id, checked, now))) throw new ApiError("ImageNotFound", { imageId: id });
      await recordImageEvent(r, image, "image.updated", now, { ...checked });
    });
  }

  /**
   * ModifyCompShareImageShareAccount: accounts by number; numbers of no account (or the owner's
   * own) come back as InvalidAccounts, the rest take effect. Not for an image whose making failed.
   */
  async modifyShares(scope: Scope, id: string, add: number[], remove: number[]): Promise<number[]> {
    if (add.length === 0 && remove.length === 0) throw missingParam("AddAccounts.N or RemoveAccounts.N");
    for (const [param, list] of [
      ["AddAccounts", add],
      ["RemoveAccounts", remove],
    ] as const)
      if (list.length > MAX_SHARE_CHANGES) throw badParam(param, `at most ${MAX_SHARE_CHANGES} per call`);
    const now = this.d.clock.now();
    return this.d.store.tx(async (r) => {
      const image = owned(await r.images.get(id), id, scope);
      if (image.status === "UnAvailable")
        throw new ApiError("InvalidImageState", {
          imageId: id,
          status: image.status,
          action: "ModifyCompShareImageShareAccount",
          allowed: "Making, Available",
        });
      const known = new Map(
        (await r.images.accountsByNumber([...new Set([...add, ...remove])]))
          .filter((a) => a.accountId !== scope.account.id)
          .map((a) => [a.number, a.accountId]),
      );
      const invalid = [...new Set([...add, ...remove].filter((n) => !known.has(n)))];
      const pick = (list: number[]) => list.flatMap((n) => known.get(n) ?? []);
      await r.images.addShares(id, pick(add), now);
      await r.images.removeShares(id, pick(remove));
      const added = add.filter((n) => known.has(n));
      const removed = remove.filter((n) => known.has(n));
      if (added.length) await recordImageEvent(r, image, "image.shared", now, { accounts: added });
      if (removed.length) await recordImageEvent(r, image, "image.unshared", now, { accounts: removed });
      return invalid;
    });
  }

  /** DescribeCompShareImageShareAccounts. */
  async shareAccounts(scope: Scope, id: string): Promise<ImageShareAccount[]> {
    await this.own(scope, id);
    return this.d.store.images.shares(id);
  }

  /** An image Create, Reinstall or a price may start from (see ImageResolver.usable). */
  usable(scope: Scope, id: string, action: string): Promise<ResolvedImage> {
    return this.d.resolver.usable(scope, id, { action });
  }

  /** The images of many instances at once (Describe). */
  ofInstances(imageIds: string[]): Promise<Map<string, ResolvedImage>> {
    return this.d.resolver.ofInstances(imageIds);
  }
}

/** The caller's own live image in the request's region (another account's is not found either). */
function owned(image: ImageRecord | undefined, id: string, scope: Scope): ImageRecord {
  if (
    !image ||
    image.deletedAt !== null ||
    image.accountId !== scope.account.id ||
    image.region !== scope.region
  )
    throw new ApiError("ImageNotFound", { imageId: id });
  return image;
}

/** The platform image at the root of what an instance runs (a custom image's own base). */
async function baseImageOf(r: Repos, inst: InstanceRecord): Promise<string> {
  const custom = await r.images.get(inst.imageId);
  return custom ? custom.baseImageId : inst.imageId;
}
