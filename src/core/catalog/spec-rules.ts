import type { CatalogZone, ChargeType, GpuTypeSpec } from "../../domain/catalog.js";
import { CHARGE_TYPES } from "../../domain/catalog.js";
import { badParam } from "../../domain/errors.js";
import type { CatalogIndex } from "./catalog.js";

/** A disk as a request describes it; size and type may be absent where the action allows it. */
export interface DiskAsked {
  isBoot: boolean;
  type?: string;
  size?: number;
  /** The parameter it came from, for the error (`Disks.1`, `Volumes.0`). */
  param: string;
}

/** Parameter names differ between actions (GPU/CPU on Create, Gpu/Cpu on Resize and prices). */
export interface SizeNames {
  gpu: string;
  cpu: string;
  memory: string;
}

/**
 * The one place the catalog's rules for a spec live: zone, GPU type, GPU → CPU → memory sizes,
 * CPU platform, charge type and disks (images, platform or custom, are core/images/resolve.ts's).
 * Create, Resize, the price actions and the capacity action all ask here, so the same question gets
 * the same answer (and the same message) from each.
 */
export class SpecRules {
  constructor(readonly catalog: CatalogIndex) {}

  /** A zone of the region; the error lists the region's zones. */
  zone(region: string, zone: string): CatalogZone {
    const r = this.catalog.region(region);
    const z = r?.zones.find((x) => x.zone === zone);
    if (!r || !z) {
      const known = r?.zones.map((x) => x.zone).join(", ") ?? "";
      throw badParam("Zone", `unknown zone ${zone} in region ${region}; choose one of ${known}`);
    }
    return z;
  }

  /** GPU types sold in a zone, in catalog order. */
  typesIn(zone: string): GpuTypeSpec[] {
    return this.catalog.catalog.gpuTypes.filter((g) => g.zones.includes(zone));
  }

  /** A GPU type sold in the zone; the error lists what is. */
  gpuType(zone: string, name: string | undefined, param = "GpuType"): GpuTypeSpec {
    const g = name === undefined ? undefined : this.catalog.gpuType(name);
    if (!g || !g.zones.includes(zone)) {
      throw badParam(
        param,
        `${name} is not sold in ${zone}; choose one of ${this.typesIn(zone)
          .map((x) => x.name)
          .join(", ")}`,
      );
    }
    return g;
  }

  /** Charge types offered for this type in this zone (Spot only for spot-capable types). */
  chargeTypesFor(zone: string, type: GpuTypeSpec): ChargeType[] {
    const offered = this.catalog.zone(zone)?.chargeTypes ?? [];
    return offered.filter((ct) => ct !== "Spot" || type.spot);
  }

  /** A charge type offered for the type in the zone. */
  chargeType(zone: string, type: GpuTypeSpec, requested: string): ChargeType {
    if (!(CHARGE_TYPES as readonly string[]).includes(requested)) {
      throw badParam("ChargeType", `must be one of ${CHARGE_TYPES.join(", ")}`);
    }
    if (requested === "Spot" && !type.spot) {
      throw badParam("ChargeType", `Spot is not offered for GPU type ${type.name}`);
    }
    const offered = this.chargeTypesFor(zone, type);
    if (!offered.includes(requested as ChargeType)) {
      throw badParam(
        "ChargeType",
        `${requested} is not offered in ${zone}; choose one of ${offered.join(", ")}`,
      );
    }
    return requested as ChargeType;
  }

  /** GPU → CPU → memory must be one of the type's combinations; the error lists the legal ones. */
  size(type: GpuTypeSpec, gpu: number, cpu: number, memory: number, names: SizeNames): void {
    const forGpu = type.sizes.filter((s) => s.gpu === gpu);
    if (forGpu.length === 0) {
      throw badParam(
        names.gpu,
        `${gpu} is not offered for ${type.name}; choose one of ${[...new Set(type.sizes.map((s) => s.gpu))].join(", ")}`,
      );
    }
    const forCpu = forGpu.find((s) => s.cpu === cpu);
    if (!forCpu) {
      throw badParam(
        names.cpu,
        `${cpu} is not offered with ${gpu} × ${type.name}; choose one of ${forGpu.map((s) => s.cpu).join(", ")}`,
      );
    }
    if (memory % 1024 !== 0 || !forCpu.memory.includes(memory)) {
      throw badParam(
        names.memory,
        `${memory} MB is not offered with ${gpu} × ${type.name} and ${cpu} CPU; choose one of ${forCpu.memory.join(", ")}`,
      );
    }
  }

  /**
   * The CPU platform an instance gets. `Auto` (or nothing) takes the type's first platform;
   * `Vendor/Auto` the first of that vendor; anything else must be one of the type's platforms
   * exactly (a `MinimalCpuPlatform` the type cannot meet is refused, never approximated).
   */
  platform(type: GpuTypeSpec, requested: string | undefined): string {
    const platforms = type.cpuPlatforms;
    if (!requested || requested === "Auto") return platforms[0] ?? "Auto";
    if (platforms.includes(requested)) return requested;
    const vendor = requested.endsWith("/Auto") ? requested.slice(0, -"/Auto".length) : undefined;
    const match = vendor ? platforms.find((p) => p.startsWith(`${vendor}/`)) : undefined;
    if (match) return match;
    throw badParam(
      "MinimalCpuPlatform",
      `${requested} is not offered for ${type.name}; choose one of Auto, ${platforms.join(", ")}`,
    );
  }

  /**
   * Disk types and sizes within the type's limits (boot and data disks have their own), at most
   * one boot disk and four data disks; `exactlyOneBoot` where a whole instance is described.
   */
  disks(type: GpuTypeSpec, disks: DiskAsked[], opts: { exactlyOneBoot: boolean }): void {
    const boots = disks.filter((d) => d.isBoot).length;
    if (opts.exactlyOneBoot && boots !== 1)
      throw badParam("Disks", `exactly one disk must have IsBoot=true, got ${boots}`);
    if (boots > 1) throw badParam("Disks", `at most one disk may have IsBoot=true, got ${boots}`);
    const maxData = maxDataDisks(type);
    if (disks.length - boots > maxData)
      throw badParam("Disks", `at most 1 boot disk and ${maxData} data disks`);
    for (const d of disks) {
      const limits = d.isBoot ? type.bootDisk : type.dataDisk;
      if (d.type !== undefined && !limits.types.includes(d.type)) {
        throw badParam(
          `${d.param}.Type`,
          `${d.type} is not offered for ${type.name}; choose one of ${limits.types.join(", ")}`,
        );
      }
      if (d.size !== undefined && (d.size < limits.minGB || d.size > limits.maxGB)) {
        throw badParam(`${d.param}.Size`, `must be between ${limits.minGB} and ${limits.maxGB} GB`);
      }
    }
  }

  /** The boot disk a request without `Disks` gets. */
  defaultBootDisk(type: GpuTypeSpec): { isBoot: true; type: string; size: number } {
    return { isBoot: true, type: type.bootDisk.types[0] ?? "CLOUD_SSD", size: DEFAULT_BOOT_GB };
  }
}

/** Data disks an instance of this type may have attached at once (the catalog's, else 4). */
export function maxDataDisks(type: GpuTypeSpec): number {
  return type.maxDataDisks ?? 4;
}

/** Size of a boot disk nobody asked for (Create without Disks, Recover's fresh system disk). */
export const DEFAULT_BOOT_GB = 50;
