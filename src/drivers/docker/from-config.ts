import type { Config } from "../../config.js";
import { ConfigError } from "../../config.js";
import type { Catalog } from "../../domain/catalog.js";
import { DockerDriver } from "./docker-driver.js";
import type { HostGpu } from "./gpus.js";
import { discoverGpus, findDriverFiles } from "./gpus.js";

/**
 * The docker driver runs one machine: the catalog must list it as its only host, with no more GPUs
 * than nvidia-smi finds (unless GPUs are only accounted, OCS_DOCKER_GPU_MODE=none).
 */
export function dockerDriver(config: Config, catalog: Catalog, storeId: string): DockerDriver {
  if (catalog.hosts.length !== 1) {
    throw new ConfigError(
      `OCS_CATALOG: OCS_DRIVER=docker runs one host, so the catalog must list exactly this machine as its one host (it lists ${catalog.hosts.length})`,
    );
  }
  const host = catalog.hosts[0] as Catalog["hosts"][number];
  let inventory: HostGpu[] = [];
  if (config.docker.gpuMode !== "none") {
    try {
      inventory = discoverGpus(config.docker.nvidiaSmi);
    } catch (e) {
      throw new ConfigError(
        `OCS_DOCKER_NVIDIA_SMI: cannot list this host's GPUs with ${config.docker.nvidiaSmi} (${(e as Error).message.split("\n")[0]}); set OCS_DOCKER_GPU_MODE=none on a host without GPUs`,
      );
    }
    if (inventory.length < host.gpus) {
      throw new ConfigError(
        `OCS_CATALOG: host ${host.id} declares ${host.gpus} GPUs but nvidia-smi lists ${inventory.length}`,
      );
    }
  }
  return new DockerDriver({
    socketPath: config.docker.socketPath,
    gpuMode: config.docker.gpuMode,
    inventory,
    files: { ...findDriverFiles(), bindHostLoader: config.docker.bindHostLoader },
    hostIp: config.docker.hostIp,
    network: config.docker.network,
    storeId,
    nvidiaSmi: config.docker.gpuMode === "none" ? undefined : config.docker.nvidiaSmi,
  });
}
