import type { Config } from "../../config.js";
import { ConfigError } from "../../config.js";
import { contextNamespace, loadKubeConfig } from "./client.js";
import { KubernetesDriver } from "./kubernetes-driver.js";

/**
 * The kubernetes driver as configured: the cluster from KUBECONFIG (or the pod's service account),
 * the OCS_K8S_* settings, and the store's id that labels everything it makes. A cluster that
 * cannot be found stops the server at start with a message naming KUBECONFIG.
 */
export function kubernetesDriver(k: Config["kubernetes"], storeId: string): KubernetesDriver {
  let kubeConfig: ReturnType<typeof loadKubeConfig>;
  try {
    kubeConfig = loadKubeConfig(k.kubeconfig);
  } catch (e) {
    throw new ConfigError(`KUBECONFIG: OCS_DRIVER=kubernetes: ${(e as Error).message}`);
  }
  return new KubernetesDriver({
    kubeConfig,
    namespace: k.namespace ?? contextNamespace(kubeConfig),
    storeId,
    storageClass: k.storageClass,
    serviceType: k.serviceType,
    accessHost: k.accessHost,
    scheduleTimeoutMs: k.scheduleTimeoutSeconds * 1000,
    startTimeoutMs: k.startTimeoutSeconds * 1000,
    persistPaths: k.persistPaths,
    imageMode: k.imageMode,
    snapshotClass: k.snapshotClass,
  });
}
