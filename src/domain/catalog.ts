/** The catalog's shape: what can be created, where, and at what price (data and checks live in core/catalog). */
export const CHARGE_TYPES = ["Month", "Day", "Dynamic", "Postpay", "Spot"] as const;
export type ChargeType = (typeof CHARGE_TYPES)[number];

export interface CatalogZone {
  zone: string;
  zoneId: number;
  name: string;
  isDefault?: boolean;
  chargeTypes: ChargeType[];
}

export interface CatalogRegion {
  region: string;
  regionId: number;
  name: string;
  isDefault?: boolean;
  zones: CatalogZone[];
}

export interface MachineSize {
  gpu: number;
  cpu: number;
  /** Legal memory sizes in MB for this GPU/CPU pair. */
  memory: number[];
}

export interface DiskLimits {
  types: string[];
  minGB: number;
  maxGB: number;
}

export interface GpuTypeSpec {
  name: string;
  /** Shown as the family's and the type's Description (e.g. "NVIDIA GeForce RTX 4090"). */
  description?: string;
  zones: string[];
  graphicsMemoryGB: number;
  performanceTflops: number;
  cpuPlatforms: string[];
  spot: boolean;
  sizes: MachineSize[];
  bootDisk: DiskLimits;
  dataDisk: DiskLimits;
  /** Data disks an instance of this type may have attached at once (default 4). */
  maxDataDisks?: number;
  /** The no-GPU spec an instance of this type runs with when started WithoutGpu (spec "A"). */
  withoutGpu: { cpu: number; memory: number };
  /**
   * Named no-GPU specs (`WithoutGpuSpec` on Start and Resize, as the official CLI sends "A" or "B").
   * Absent: A is `withoutGpu` and B twice its CPU and memory.
   */
  withoutGpuSpecs?: Record<string, { cpu: number; memory: number }>;
  /**
   * For the kubernetes driver: the `nvidia.com/gpu.product` values (NVIDIA GPU feature discovery,
   * e.g. "NVIDIA-H100-80GB-HBM3") of nodes that carry this type, when they are not labelled
   * `opencompshare.io/gpu-type` with its name.
   */
  products?: string[];
}

export interface HostSpec {
  id: string;
  zone: string;
  gpuType: string;
  gpus: number;
  cpu: number;
  memoryMB: number;
}

export interface ImageSpec {
  id: string;
  name: string;
  /** Platform image kinds (the official CLI pages through all four). */
  type: "System" | "App" | "Game" | "Other";
  osType: "Linux" | "Windows";
  osName: string;
  sizeMB: number;
  /** Container images give `cpod-` instances whose password may be reset while running. */
  container: boolean;
  author: string;
  description: string;
  tags: string[];
  /** For real drivers: the runtime image (e.g. a Docker reference) this image maps to. */
  runtimeImage?: string;
  /**
   * For the docker driver: the container's command (e.g. `["/usr/sbin/sshd", "-D"]`), passed to the
   * image's ENTRYPOINT when it has one. Left out, a keep-alive loop runs, so any image stays up.
   */
  runtimeCommand?: string[];
  /**
   * Software the image serves, by name from the catalog's `software` list (JupyterLab…): a new
   * instance publishes their ports, and Describe's `Softwares` links to them.
   */
  softwares?: string[];
}

/** One entry of DescribeCompShareSoftwarePort: a software and the container port it serves on. */
export interface SoftwareSpec {
  name: string;
  port: number;
  /** How it is reached: `http` (HttpPorts, an http:// URL) or `tcp` (TcpPorts). */
  protocol: "http" | "tcp";
}

export interface PriceTable {
  /** Price per GPU, per charge-type unit: hour (Dynamic/Postpay/Spot), day (Day), month (Month). */
  gpu: Record<string, Partial<Record<ChargeType, number>>>;
  /** Price per CPU core per hour while started without GPU. */
  withoutGpuPerCpuHour: number;
  /** Disk price per GB per hour, by disk type. */
  diskPerGbHour: Record<string, number>;
  /** Optional night discount (DiscountType 1) on hourly charge types, hours in `utcOffsetHours`. */
  nightDiscount?: { fromHour: number; toHour: number; rate: number; utcOffsetHours: number };
}

export interface Catalog {
  regions: CatalogRegion[];
  gpuTypes: GpuTypeSpec[];
  hosts: HostSpec[];
  images: ImageSpec[];
  prices: PriceTable;
  /** The software → port list (absent: the built-in one, see core/catalog/software.ts). */
  software?: SoftwareSpec[];
}

/** Hours in one charge-type unit, for turning hourly disk prices into per-unit prices. */
export const UNIT_HOURS: Record<ChargeType, number> = {
  Month: 720,
  Day: 24,
  Dynamic: 1,
  Postpay: 1,
  Spot: 1,
};
