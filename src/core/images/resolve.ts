import type { ImageSpec } from "../../domain/catalog.js";
import { ApiError, badParam } from "../../domain/errors.js";
import type { ImageRecord } from "../../domain/images.js";
import type { Repos, Store } from "../../store/store.js";
import type { CatalogIndex } from "../catalog/catalog.js";
import type { Scope } from "../instances/scope.js";

/**
 * An image as instances see it, platform or custom: what Describe shows of it and what a driver
 * starts from.
 */
export interface ResolvedImage {
  id: string;
  name: string;
  /** System, App, Game or Other for platform images; Custom for made ones. */
  type: string;
  container: boolean;
  osType: "Linux" | "Windows";
  osName: string;
  author: string;
  /** Official for platform images, Custom for made ones. */
  ownerAlias: string;
  /** Available, or a custom image's own status (UnAvailable once deleted). */
  status: string;
  /** What the driver starts from (RuntimeSpec.image). */
  runtimeImage: string;
  runtimeCommand?: string[];
  /** A custom image's platform runtime image, whose configuration applies (RuntimeSpec.baseImage). */
  baseImage?: string;
  /** The platform image at the root (the image itself for a platform image). */
  base?: ImageSpec;
  custom?: ImageRecord;
}

/**
 * The one place an image id becomes an image: the catalog's platform images first, then the
 * store's custom images. Create, Reinstall, the price and capacity checks and the driver's spec
 * all ask here, so a custom image is usable wherever a platform image is.
 */
export class ImageResolver {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogIndex,
  ) {}

  fromCatalog(spec: ImageSpec): ResolvedImage {
    return {
      id: spec.id,
      name: spec.name,
      type: spec.type,
      container: spec.container,
      osType: spec.osType,
      osName: spec.osName,
      author: spec.author,
      ownerAlias: "Official",
      status: "Available",
      runtimeImage: spec.runtimeImage ?? spec.id,
      runtimeCommand: spec.runtimeCommand,
      base: spec,
    };
  }

  fromCustom(rec: ImageRecord, ownerName = ""): ResolvedImage {
    const base = this.catalog.image(rec.baseImageId);
    return {
      id: rec.id,
      name: rec.name,
      type: "Custom",
      container: rec.container,
      osType: base?.osType ?? "Linux",
      osName: base?.osName ?? "",
      author: ownerName,
      ownerAlias: "Custom",
      status: rec.deletedAt === null ? rec.status : "UnAvailable",
      runtimeImage: rec.runtimeRef ?? rec.id,
      runtimeCommand: base?.runtimeCommand,
      baseImage: base ? (base.runtimeImage ?? base.id) : undefined,
      base,
      custom: rec,
    };
  }

  /**
   * An image the caller may start an instance from now: a platform image, or a live custom image
   * of its own or shared with it, in the request's region, Available. Unknown ids (another
   * account's image included) get the same error as before custom images existed.
   */
  async usable(scope: Scope, id: string, opts: { action: string; param?: string }): Promise<ResolvedImage> {
    const param = opts.param ?? "CompShareImageId";
    const spec = this.catalog.image(id);
    if (spec) return this.fromCatalog(spec);
    const rec = await this.store.images.get(id);
    const mine = rec?.accountId === scope.account.id;
    if (
      !rec ||
      rec.deletedAt !== null ||
      (!mine && !(await this.store.images.isSharedWith(id, scope.account.id)))
    )
      throw badParam(param, `image ${id} does not exist`);
    if (rec.region !== scope.region)
      throw badParam(
        param,
        `image ${id} is in region ${rec.region}; a custom image is used in its own region`,
      );
    if (rec.status !== "Available")
      throw new ApiError("InvalidImageState", {
        imageId: id,
        status: rec.status,
        action: opts.action,
        allowed: "Available",
      });
    const owner = (await this.store.images.owners([rec.accountId])).get(rec.accountId);
    return this.fromCustom(rec, owner?.name);
  }

  /**
   * In the caller's transaction: a custom image is still there and Available (a platform image
   * always is). The guarded update serialises with a concurrent delete, so no instance is ever
   * made from an image being removed.
   */
  async hold(r: Repos, id: string, param = "CompShareImageId"): Promise<void> {
    if (this.catalog.image(id)) return;
    if (!(await r.images.holdUsable(id)))
      throw badParam(param, `image ${id} was deleted or is no longer available`);
  }

  /** The image an instance names, deleted custom images included (undefined: unknown id). */
  async ofInstance(imageId: string): Promise<ResolvedImage | undefined> {
    return (await this.ofInstances([imageId])).get(imageId);
  }

  /** Images of many instances at once (Describe), with their owners' names. */
  async ofInstances(imageIds: string[]): Promise<Map<string, ResolvedImage>> {
    const out = new Map<string, ResolvedImage>();
    const unknown: string[] = [];
    for (const id of new Set(imageIds)) {
      const spec = this.catalog.image(id);
      if (spec) out.set(id, this.fromCatalog(spec));
      else unknown.push(id);
    }
    const recs = await this.store.images.byIds(unknown);
    const owners = await this.store.images.owners([...new Set(recs.map((r) => r.accountId))]);
    for (const rec of recs) out.set(rec.id, this.fromCustom(rec, owners.get(rec.accountId)?.name));
    return out;
  }
}
