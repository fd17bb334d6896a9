import { readFileSync } from "node:fs";
import type {
  Catalog,
  CatalogRegion,
  CatalogZone,
  DiskLimits,
  GpuTypeSpec,
  HostSpec,
  ImageSpec,
  MachineSize,
} from "../../domain/catalog.js";
import { CHARGE_TYPES } from "../../domain/catalog.js";
import { validateSoftware } from "./software.js";

function sizes(perGpuCpu: number, perGpuMemGB: number, counts: number[]): MachineSize[] {
  return counts.map((g) => ({ gpu: g, cpu: perGpuCpu * g, memory: [perGpuMemGB * g * 1024] }));
}

const SSD: DiskLimits = { types: ["CLOUD_SSD"], minGB: 20, maxGB: 500 };
const DATA: DiskLimits = { types: ["CLOUD_SSD"], minGB: 20, maxGB: 4000 };

function gpuType(
  name: string,
  zones: string[],
  mem: number,
  tflops: number,
  spot: boolean,
  counts = [1, 2, 4, 8],
  extra: Partial<GpuTypeSpec> = {},
): GpuTypeSpec {
  return {
    name,
    zones,
    graphicsMemoryGB: mem,
    performanceTflops: tflops,
    cpuPlatforms: ["Amd/Epyc2"],
    spot,
    sizes: sizes(16, 64, counts),
    bootDisk: SSD,
    dataDisk: DATA,
    withoutGpu: { cpu: 2, memory: 8192 },
    description: DESCRIPTIONS[name],
    ...extra,
  };
}

/** What the console and the CLI's `instance families` show for each built-in type. */
const DESCRIPTIONS: Record<string, string> = {
  "4090": "NVIDIA GeForce RTX 4090 24GB",
  "5090": "NVIDIA GeForce RTX 5090 32GB",
  "3090": "NVIDIA GeForce RTX 3090 24GB",
  "3080Ti": "NVIDIA GeForce RTX 3080 Ti 12GB",
  "4090_48G": "NVIDIA GeForce RTX 4090 48GB",
  A800: "NVIDIA A800 80GB",
};

function hosts(zone: string, type: string, n: number, gpus = 8): HostSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${zone}-${type.toLowerCase().replace(/_/g, "-")}-${String(i + 1).padStart(2, "0")}`,
    zone,
    gpuType: type,
    gpus,
    cpu: gpus * 16,
    memoryMB: gpus * 64 * 1024,
  }));
}

/**
 * The built-in catalog: the zones users saw on the real service (reference §1.7, cn-wlcb first),
 * the GPU types it sold in 2026-08 (§3.1), and Dynamic prices measured there (§3.4). Spot is off for
 * the types the docs list (4090_48G, A800, …); cn-sh2-01 does not sell Dynamic (§3.1, [3P]).
 */
export const DEFAULT_CATALOG: Catalog = {
  regions: [
    {
      region: "cn-wlcb",
      regionId: 1000009,
      name: "华北二（乌兰察布）",
      isDefault: true,
      zones: [
        { zone: "cn-wlcb-01", zoneId: 1, name: "乌兰察布A", isDefault: true, chargeTypes: [...CHARGE_TYPES] },
      ],
    },
    {
      region: "cn-bj2",
      regionId: 1000001,
      name: "华北一（北京）",
      zones: [
        {
          zone: "cn-bj2-02",
          zoneId: 2,
          name: "北京二B",
          chargeTypes: ["Month", "Day", "Dynamic", "Postpay"],
        },
      ],
    },
    {
      region: "cn-sh2",
      regionId: 1000002,
      name: "华东（上海）",
      zones: [{ zone: "cn-sh2-01", zoneId: 3, name: "上海二A", chargeTypes: ["Month", "Day", "Postpay"] }],
    },
    {
      region: "cn-gd",
      regionId: 1000004,
      name: "华南（广州）",
      zones: [
        { zone: "cn-gd-02", zoneId: 4, name: "广州B", chargeTypes: ["Month", "Day", "Dynamic", "Postpay"] },
      ],
    },
    {
      region: "us-den",
      regionId: 1000012,
      name: "美国（丹佛）",
      zones: [{ zone: "us-den-01", zoneId: 5, name: "丹佛A", chargeTypes: ["Month", "Dynamic", "Postpay"] }],
    },
  ],
  gpuTypes: [
    gpuType("4090", ["cn-wlcb-01", "cn-bj2-02", "cn-gd-02", "us-den-01"], 24, 82.6, true),
    gpuType("5090", ["cn-wlcb-01"], 32, 104.8, true),
    gpuType("3090", ["cn-wlcb-01", "cn-sh2-01"], 24, 35.6, true),
    gpuType("3080Ti", ["cn-wlcb-01"], 12, 34.1, true, [1, 2, 4]),
    gpuType("4090_48G", ["cn-wlcb-01"], 48, 82.6, false),
    gpuType("A800", ["cn-wlcb-01"], 80, 19.5, false, [1, 2, 4, 8], {
      cpuPlatforms: ["Intel/IceLake"],
      bootDisk: { types: ["CLOUD_SSD", "CLOUD_RSSD"], minGB: 20, maxGB: 500 },
      dataDisk: { types: ["CLOUD_SSD", "CLOUD_RSSD"], minGB: 20, maxGB: 8000 },
    }),
  ],
  hosts: [
    ...hosts("cn-wlcb-01", "4090", 4),
    ...hosts("cn-wlcb-01", "5090", 1),
    ...hosts("cn-wlcb-01", "3090", 2),
    ...hosts("cn-wlcb-01", "3080Ti", 1, 4),
    ...hosts("cn-wlcb-01", "4090_48G", 1),
    ...hosts("cn-wlcb-01", "A800", 1),
    ...hosts("cn-bj2-02", "4090", 1),
    ...hosts("cn-sh2-01", "3090", 1),
    ...hosts("cn-gd-02", "4090", 1),
    ...hosts("us-den-01", "4090", 1, 4),
  ],
  images: [
    {
      id: "compshareImage-ubuntu2204",
      name: "Ubuntu 22.04",
      type: "System",
      osType: "Linux",
      osName: "Ubuntu 22.04 64位",
      sizeMB: 20480,
      container: false,
      author: "opencompshare",
      description: "Plain Ubuntu 22.04 with the NVIDIA driver",
      tags: ["ubuntu"],
      runtimeImage: "local/busybox:1",
    },
    {
      id: "compshareImage-cuda124",
      name: "CUDA 12.4",
      type: "System",
      osType: "Linux",
      osName: "Ubuntu 22.04 64位",
      sizeMB: 30720,
      container: false,
      author: "opencompshare",
      description: "Ubuntu 22.04 with CUDA 12.4 and cuDNN",
      tags: ["cuda"],
      runtimeImage: "local/busybox:1",
    },
    {
      id: "compshareImage-pytorch21",
      name: "PyTorch 2.1",
      type: "App",
      osType: "Linux",
      osName: "Ubuntu 22.04 64位",
      sizeMB: 40960,
      container: true,
      author: "opencompshare",
      description: "PyTorch 2.1 with CUDA 12.1 and JupyterLab",
      tags: ["pytorch", "jupyter"],
      runtimeImage: "local/busybox:1",
      softwares: ["JupyterLab"],
    },
  ],
  prices: {
    gpu: {
      "4090": { Dynamic: 2.05, Postpay: 2.05, Spot: 0.99, Day: 44, Month: 1150 },
      "5090": { Dynamic: 2.77, Postpay: 2.77, Spot: 1.39, Day: 60, Month: 1550 },
      "3090": { Dynamic: 1.13, Postpay: 1.13, Spot: 0.55, Day: 24, Month: 630 },
      "3080Ti": { Dynamic: 0.93, Postpay: 0.93, Spot: 0.45, Day: 20, Month: 520 },
      "4090_48G": { Dynamic: 2.68, Postpay: 2.68, Day: 58, Month: 1500 },
      A800: { Dynamic: 6.5, Postpay: 6.5, Day: 140, Month: 3600 },
    },
    withoutGpuPerCpuHour: 0.05,
    diskPerGbHour: { CLOUD_SSD: 0.0003, CLOUD_RSSD: 0.0005 },
    nightDiscount: { fromHour: 0, toHour: 8, rate: 0.8, utcOffsetHours: 8 },
  },
};

/** Raised for a catalog that cannot be served; the message names the offending path. */
export class CatalogError extends Error {}

/** Reads and validates a JSON catalog file. */
export function loadCatalog(path: string): Catalog {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CatalogError(`OCS_CATALOG: cannot read ${path}: ${(e as Error).message}`);
  }
  return validateCatalog(parsed, path);
}

/** Checks every cross-reference so a bad catalog stops the server at start, not at request time. */
export function validateCatalog(c: unknown, where = "catalog"): Catalog {
  const fail = (path: string, msg: string): never => {
    throw new CatalogError(`${where}: ${path}: ${msg}`);
  };
  if (!c || typeof c !== "object") fail("$", "must be an object");
  const cat = c as Catalog;
  for (const key of ["regions", "gpuTypes", "hosts", "images"] as const) {
    if (!Array.isArray(cat[key])) fail(key, "must be an array");
  }
  if (!cat.prices || typeof cat.prices !== "object") fail("prices", "must be an object");
  if (cat.regions.length === 0) fail("regions", "needs at least one region");
  const zones = new Set<string>();
  cat.regions.forEach((r, i) => {
    if (typeof r.region !== "string" || !r.region) fail(`regions[${i}].region`, "must be a non-empty string");
    if (!Array.isArray(r.zones) || r.zones.length === 0)
      fail(`regions[${i}].zones`, "needs at least one zone");
    r.zones.forEach((z, j) => {
      if (typeof z.zone !== "string" || !z.zone)
        fail(`regions[${i}].zones[${j}].zone`, "must be a non-empty string");
      if (zones.has(z.zone)) fail(`regions[${i}].zones[${j}].zone`, `duplicate zone ${z.zone}`);
      zones.add(z.zone);
      if (!Array.isArray(z.chargeTypes)) fail(`regions[${i}].zones[${j}].chargeTypes`, "must be an array");
      for (const ct of z.chargeTypes) {
        if (!CHARGE_TYPES.includes(ct))
          fail(`regions[${i}].zones[${j}].chargeTypes`, `unknown charge type ${ct}`);
      }
    });
  });
  const types = new Set<string>();
  const products = new Map<string, string>();
  cat.gpuTypes.forEach((g, i) => {
    const p = `gpuTypes[${i}]`;
    if (typeof g.name !== "string" || !g.name) fail(`${p}.name`, "must be a non-empty string");
    if (types.has(g.name)) fail(`${p}.name`, `duplicate GPU type ${g.name}`);
    types.add(g.name);
    for (const z of g.zones ?? []) if (!zones.has(z)) fail(`${p}.zones`, `unknown zone ${z}`);
    if (g.description !== undefined && typeof g.description !== "string")
      fail(`${p}.description`, "must be a string");
    if (!Array.isArray(g.sizes) || g.sizes.length === 0) fail(`${p}.sizes`, "needs at least one size");
    g.sizes.forEach((s, j) => {
      if (!(Number.isInteger(s.gpu) && s.gpu >= 1)) fail(`${p}.sizes[${j}].gpu`, "must be an integer ≥ 1");
      if (!(Number.isInteger(s.cpu) && s.cpu >= 1)) fail(`${p}.sizes[${j}].cpu`, "must be an integer ≥ 1");
      if (
        !Array.isArray(s.memory) ||
        s.memory.some((m) => !Number.isInteger(m) || m % 1024 !== 0 || m <= 0)
      ) {
        fail(`${p}.sizes[${j}].memory`, "must be positive multiples of 1024 (MB)");
      }
    });
    if (
      g.products !== undefined &&
      !(Array.isArray(g.products) && g.products.every((x) => typeof x === "string" && x.length > 0))
    )
      fail(`${p}.products`, "must be an array of non-empty strings");
    for (const product of g.products ?? []) {
      const key = product.toLowerCase();
      if (products.has(key)) fail(`${p}.products`, `${product} is already a product of ${products.get(key)}`);
      products.set(key, g.name);
    }
    if (!cat.prices.gpu?.[g.name]) fail(`prices.gpu.${g.name}`, "missing price for GPU type");
    if (g.maxDataDisks !== undefined && !(Number.isInteger(g.maxDataDisks) && g.maxDataDisks >= 0))
      fail(`${p}.maxDataDisks`, "must be a non-negative integer");
    for (const d of ["bootDisk", "dataDisk"] as const) {
      const l = g[d];
      if (!l || !Array.isArray(l.types) || !(l.minGB > 0) || !(l.maxGB >= l.minGB)) {
        fail(`${p}.${d}`, "needs types[], minGB > 0 and maxGB ≥ minGB");
      }
    }
  });
  const hostIds = new Set<string>();
  cat.hosts.forEach((h, i) => {
    const p = `hosts[${i}]`;
    if (typeof h.id !== "string" || !h.id) fail(`${p}.id`, "must be a non-empty string");
    if (hostIds.has(h.id)) fail(`${p}.id`, `duplicate host ${h.id}`);
    hostIds.add(h.id);
    if (!zones.has(h.zone)) fail(`${p}.zone`, `unknown zone ${h.zone}`);
    if (!types.has(h.gpuType)) fail(`${p}.gpuType`, `unknown GPU type ${h.gpuType}`);
    for (const k of ["gpus", "cpu", "memoryMB"] as const) {
      if (!(Number.isInteger(h[k]) && h[k] >= 0)) fail(`${p}.${k}`, "must be a non-negative integer");
    }
  });
  const imageIds = new Set<string>();
  cat.images.forEach((im, i) => {
    if (typeof im.id !== "string" || !im.id.startsWith("compshareImage-")) {
      fail(`images[${i}].id`, 'must start with "compshareImage-"');
    }
    if (imageIds.has(im.id)) fail(`images[${i}].id`, `duplicate image ${im.id}`);
    imageIds.add(im.id);
    if (!["System", "App", "Game", "Other"].includes(im.type))
      fail(`images[${i}].type`, "must be System, App, Game or Other");
    if (
      im.runtimeCommand !== undefined &&
      !(
        Array.isArray(im.runtimeCommand) &&
        im.runtimeCommand.length > 0 &&
        im.runtimeCommand.every((a) => typeof a === "string")
      )
    ) {
      fail(`images[${i}].runtimeCommand`, "must be a non-empty array of strings");
    }
  });
  validateSoftware(cat, fail);
  return cat;
}

/** Read-only lookups over a validated catalog. */
export class CatalogIndex {
  constructor(readonly catalog: Catalog) {}

  regionOf(zone: string): CatalogRegion | undefined {
    return this.catalog.regions.find((r) => r.zones.some((z) => z.zone === zone));
  }
  region(region: string): CatalogRegion | undefined {
    return this.catalog.regions.find((r) => r.region === region);
  }
  zone(zone: string): CatalogZone | undefined {
    for (const r of this.catalog.regions) {
      const z = r.zones.find((x) => x.zone === zone);
      if (z) return z;
    }
    return undefined;
  }
  gpuType(name: string): GpuTypeSpec | undefined {
    return this.catalog.gpuTypes.find((g) => g.name === name);
  }
  image(id: string): ImageSpec | undefined {
    return this.catalog.images.find((i) => i.id === id);
  }
  /** The GPU type whose `products` name this GPU model (compared without regard to case). */
  gpuTypeOfProduct(product: string): GpuTypeSpec | undefined {
    const key = product.toLowerCase();
    return this.catalog.gpuTypes.find((g) => g.products?.some((p) => p.toLowerCase() === key));
  }
  /** Every zone of every region, in catalog order. */
  allZones(): string[] {
    return this.catalog.regions.flatMap((r) => r.zones.map((z) => z.zone));
  }
  defaultRegion(): CatalogRegion {
    return this.catalog.regions.find((r) => r.isDefault) ?? (this.catalog.regions[0] as CatalogRegion);
  }
}
