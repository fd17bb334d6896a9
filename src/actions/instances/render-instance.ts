import type { CatalogIndex } from "../../core/catalog/catalog.js";
import { nightDiscount, quote, roundPrice } from "../../core/catalog/pricing.js";
import type { ResolvedImage } from "../../core/images/resolve.js";
import { DEFAULT_NO_GPU_SPEC, computeOf, noGpuSpec } from "../../core/instances/compute.js";
import type { SoftwareLink } from "../../core/instances/software-ports.js";
import { softwareLinks } from "../../core/instances/software-ports.js";
import type { Sample } from "../../core/monitor/monitor.js";
import { SIM_SSH_PORT, macOf, privateIpOf, subnetIdOf, vpcIdOf } from "../../domain/addresses.js";
import type { Catalog, GpuTypeSpec } from "../../domain/catalog.js";
import { unixSeconds } from "../../domain/clock.js";
import { Lru } from "../../domain/lru.js";
import type { DiskRecord, InstanceRecord } from "../../domain/records.js";
import { encodeValue } from "../../protocol/json.js";

/** How an instance is reached over SSH, as Describe shows it. */
export interface AccessShown {
  ip: string;
  sshPort: number;
}

/**
 * Renders one instance as a `UHostSet` element. Every field of the Go SDK's CompShareInstanceSet is
 * present with exactly its JSON type: the Go SDK fails the whole call on a single mismatch, so
 * `IsBoot` is the string "True"/"False", usage rates are strings, times are integers (0 when unset).
 */
export function renderInstance(
  inst: InstanceRecord,
  ctx: {
    catalog: Catalog;
    type: GpuTypeSpec | undefined;
    /** Platform or custom (a deleted custom image shows UnAvailable); undefined for an unknown id. */
    image: ImageShown | undefined;
    disks: readonly DiskRecord[];
    password: string;
    now: number;
    access: AccessShown;
    /** The newest monitoring sample since the last start, if any. */
    sample?: Sample;
    /** Published software and ports (see softwareLinks). */
    softwares: SoftwareLink[];
  },
) {
  const { type, image } = ctx;
  const noGpu = inst.withoutGpu;
  const compute = computeOf(inst, type);
  const price = quote(
    ctx.catalog,
    {
      gpuType: inst.gpuType,
      gpu: inst.gpu,
      cpu: compute.cpu,
      chargeType: inst.chargeType,
      withoutGpu: noGpu,
      disks: ctx.disks.map((d) => ({ isBoot: d.isBoot, type: d.diskType, sizeGB: d.sizeGB })),
    },
    ctx.now,
  );
  const running = inst.state === "Running";
  const vpc = vpcIdOf(inst.projectId);
  const subnet = subnetIdOf(inst.projectId, inst.zone);
  const ipSet = [
    {
      IP: ctx.access.ip,
      IPId: "",
      IPMode: "IPv4",
      Type: "Private",
      Bandwidth: 0,
      Default: "true",
      Mac: macOf(inst.id),
      NetworkInterfaceId: "",
      SubnetId: subnet,
      VPCId: vpc,
      Weight: 0,
    },
  ];
  const diskSet = ctx.disks.map((d) => ({
    DiskId: d.id,
    DiskType: d.diskType,
    Drive: d.drive,
    Size: d.sizeGB,
    IsBoot: d.isBoot ? "True" : "False",
    Encrypted: "false",
    Name: d.isBoot ? "" : d.name || d.id,
    Type: d.isBoot ? "Boot" : "Data",
    BackupType: "",
  }));
  const diskPriceInfo = (price?.disks ?? []).map((d) => ({
    ChargeType: inst.chargeType,
    IsBoot: d.isBoot,
    Price: d.price,
  }));
  // The spec a no-GPU start runs (or runs now) with: its own, or the one its no-GPU mode names.
  const spec = type
    ? noGpuSpec(type, inst.withoutGpuSpec ?? inst.noGpuMode ?? DEFAULT_NO_GPU_SPEC)
    : undefined;
  const withoutGpuSpec = { Cpu: spec?.cpu ?? 0, Gpu: 0, Memory: spec?.memory ?? 0 };
  const remark = inst.lastError
    ? `${inst.remark ? `${inst.remark}; ` : ""}last operation failed: ${inst.lastError}`
    : inst.remark;
  const t = (ms: number | null): number => (ms === null ? 0 : unixSeconds(ms));
  return {
    UHostId: inst.id,
    Name: inst.name,
    Zone: inst.zone,
    Region: inst.region,
    State: inst.state,
    MachineType: inst.machineType,
    InstanceType: inst.instanceType,
    CPU: compute.cpu,
    Memory: compute.memory,
    GPU: noGpu ? 0 : inst.gpu,
    GpuType: inst.gpuType,
    GraphicsMemory: { Value: type?.graphicsMemoryGB ?? 0, Rate: 100 },
    CpuPlatform: inst.cpuPlatform,
    CpuArch: "x86_64",
    ChargeType: inst.chargeType,
    AutoRenew: "No",
    IsExpire: isExpired(inst, ctx.now) ? "Yes" : "No",
    IsSpot: inst.chargeType === "Spot",
    CreateTime: t(inst.createdAt),
    ExpireTime: t(inst.expireAt),
    StartTime: t(inst.startedAt),
    UpdateTime: t(inst.updatedAt),
    ReleaseTime: inst.state === "Stopped" ? t(inst.releaseAt) : 0,
    // [G] names the scheduled stop StopTime/StopSchedulerTime, [P] SchedulerStopTime: all three.
    StopTime: t(inst.schedulerStopAt),
    StopSchedulerTime: t(inst.schedulerStopAt),
    SchedulerStopTime: t(inst.schedulerStopAt),
    AttachUs3Time: 0,
    CompShareImageId: inst.imageId,
    CompShareImageName: image?.name ?? "",
    CompShareImageBillId: "",
    CompShareImageOwnerAlias: image?.ownerAlias ?? "Official",
    CompShareImageStatus: image?.status ?? "UnAvailable",
    CompShareImageType: image?.type ?? "System",
    CompShareImageAuthor: image?.author ?? "",
    CompShareImagePrice: 0,
    // The platform image underneath (a custom image's base).
    BasicImageId: image?.baseId ?? inst.imageId,
    BasicImageName: image?.baseName ?? "",
    InstancePrice: price?.instance ?? 0,
    DiskPrice: price ? roundPrice(price.systemDisks + price.dataDisks) : 0,
    DiscountType: price?.discountType ?? 0,
    OsName: image?.osName ?? "",
    OsType: image?.osType ?? "Linux",
    Password: Buffer.from(ctx.password, "utf8").toString("base64"),
    FileBrowserPassword: "",
    SshLoginCommand:
      running && (image?.osType ?? "Linux") === "Linux"
        ? `ssh root@${ctx.access.ip} -p ${ctx.access.sshPort}`
        : "",
    Tag: inst.tag,
    Remark: remark,
    TotalDiskSpace: ctx.disks.filter((d) => !d.isBoot).reduce((s, d) => s + d.sizeGB, 0),
    DiskSet: diskSet,
    IPSet: ipSet,
    Softwares: ctx.softwares,
    DiskPriceInfo: diskPriceInfo,
    PostPayPowerOffBillingResource: inst.chargeType === "Postpay" ? diskPriceInfo : [],
    MonitorMessages: monitorMessages(running ? ctx.sample : undefined),
    SupportWithoutGpuStart: type !== undefined && inst.gpu > 0,
    WithoutGpuSpec: withoutGpuSpec,
    HostIp: "",
    HugepageCfg: "",
    PodId: "",
    QemuFullVersion: "",
    QemuVersion: "",
    UUID: inst.id,
    SetId: 0,
    PostPayShutdown: false,
  };
}

const pct = (v: number | undefined) => (v === undefined ? "" : v.toFixed(2));

/**
 * Describe's monitoring snapshot: the newest sample's readings as the SDK types them (strings);
 * empty until the collector has sampled the running instance once.
 */
function monitorMessages(sample: Sample | undefined) {
  return {
    CpuUsageRate: pct(sample?.data.cpu),
    MemUsageRate: pct(sample?.data.memory),
    GpuInfo: (sample?.data.gpus ?? []).map((g) => ({
      GPU: String(g.index),
      GpuUsageRate: pct(g.util),
      MemoryUsageRate: pct(g.memory),
    })),
  };
}

/** One element of DescribeCompShareInstance's `UHostSet`, as the server renders it. */
export type CompShareInstance = ReturnType<typeof renderInstance>;

/** What Describe shows of an instance's image (all it reads of one). */
export interface ImageShown {
  name: string;
  ownerAlias: string;
  status: string;
  type: string;
  author: string;
  osName: string;
  osType: string;
  /** The platform image underneath (a custom image's base). */
  baseId: string | undefined;
  baseName: string | undefined;
}

function imageShown(image: ResolvedImage | undefined): ImageShown | undefined {
  return (
    image && {
      name: image.name,
      ownerAlias: image.ownerAlias,
      status: image.status,
      type: image.type,
      author: image.author,
      osName: image.osName,
      osType: image.osType,
      baseId: image.base?.id,
      baseName: image.base?.name,
    }
  );
}

/** What Describe knows about an instance besides its record. */
export interface InstanceContext {
  catalog: CatalogIndex;
  image: ResolvedImage | undefined;
  disks: readonly DiskRecord[];
  sample: Sample | undefined;
  now: number;
  /** The instance's password in clear (only asked for when the instance is rendered anew). */
  password: (inst: InstanceRecord) => string;
}

/**
 * Everything a rendering reads besides the record: the rest (GPU type, password, address,
 * software links) is a function of the record and the catalog. The clock enters only through
 * the expiry and the night discount, so those two stand for it.
 */
interface RenderKey {
  inst: InstanceRecord;
  catalog: Catalog;
  image: ImageShown | undefined;
  disks: readonly DiskRecord[];
  /** A stored sample is never rewritten: (instance, time) is its key. */
  sampleAt: number | undefined;
  expired: boolean;
  night: number | undefined;
}

/** Rendered instances kept (a page of 100 at 10,000 instances is ~190 KB; these are ~19 MB). */
const RENDERED_KEPT = 10_000;
const rendered = new Lru<string, { key: RenderKey; bytes: Uint8Array }>(RENDERED_KEPT);

/**
 * One `UHostSet` element as UTF-8 JSON, rendered again only when something it shows changed:
 * the record is the store's shared one for its row version (a change is a new record), the disks
 * likewise, and the rest of the key is compared by value.
 */
export function renderedInstance(inst: InstanceRecord, c: InstanceContext): Uint8Array {
  const key: RenderKey = {
    inst,
    catalog: c.catalog.catalog,
    image: imageShown(c.image),
    disks: c.disks,
    sampleAt: c.sample?.at,
    expired: isExpired(inst, c.now),
    night: nightDiscount(c.catalog.catalog, inst.chargeType, c.now),
  };
  const hit = rendered.get(inst.id);
  if (hit && sameKey(hit.key, key)) return hit.bytes;
  // Until a driver says where it is reached, an instance shows its private address.
  const access = inst.accessHost
    ? { ip: inst.accessHost, sshPort: inst.accessPort ?? 22 }
    : { ip: privateIpOf(inst.id), sshPort: SIM_SSH_PORT };
  const bytes = encodeValue(
    renderInstance(inst, {
      catalog: c.catalog.catalog,
      type: c.catalog.gpuType(inst.gpuType),
      image: key.image,
      disks: c.disks,
      password: c.password(inst),
      now: c.now,
      access,
      sample: c.sample,
      softwares: softwareLinks(c.catalog, inst, access.ip),
    }),
  );
  rendered.set(inst.id, { key, bytes });
  return bytes;
}

const isExpired = (inst: InstanceRecord, now: number) => inst.expireAt !== null && inst.expireAt < now;

function sameKey(a: RenderKey, b: RenderKey): boolean {
  return (
    a.inst === b.inst &&
    a.catalog === b.catalog &&
    a.sampleAt === b.sampleAt &&
    a.expired === b.expired &&
    a.night === b.night &&
    a.disks.length === b.disks.length &&
    a.disks.every((d, i) => d === b.disks[i]) &&
    sameFields(a.image, b.image)
  );
}

/** Images are resolved per request: the fields shown are compared one by one. */
function sameFields(a: object | undefined, b: object | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
