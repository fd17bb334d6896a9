import type { ImageSpec } from "../../domain/catalog.js";
import type { InstancePorts, InstanceRecord } from "../../domain/records.js";
import type { CatalogIndex } from "../catalog/catalog.js";
import { softwareOf } from "../catalog/software.js";
import { SSH_PORT } from "./ports.js";

/** What a new instance publishes: the ports of its image's software (SSH's 22 is always published). */
export function portsOfImage(catalog: CatalogIndex, image: ImageSpec): InstancePorts {
  const list = softwareOf(catalog.catalog);
  const ports: InstancePorts = { http: [], tcp: [] };
  for (const name of image.softwares ?? []) {
    const s = list.find((x) => x.name === name);
    if (!s || s.port === SSH_PORT) continue;
    ports[s.protocol].push(s.port);
  }
  return ports;
}

/** One entry of Describe's `Softwares`. */
export interface SoftwareLink {
  Name: string;
  URL: string;
}

/**
 * Describe's `Softwares`: every port the runtime published at the last start, named after the
 * catalog software on that port (else `HTTP 8188` / `TCP 23`), linked at the address users reach
 * the instance on. Only what is live: ports changed since the last start show after the next one.
 */
export function softwareLinks(catalog: CatalogIndex, inst: InstanceRecord, ip: string): SoftwareLink[] {
  if (inst.state !== "Running") return [];
  const list = softwareOf(catalog.catalog);
  return Object.entries(inst.publishedPorts)
    .map(([key, hostPort]) => {
      const [proto, port] = key.split("/") as ["http" | "tcp", string];
      const known = list.find((s) => s.port === Number(port) && s.protocol === proto);
      return {
        port: Number(port),
        link: {
          Name: known?.name ?? `${proto.toUpperCase()} ${port}`,
          URL: proto === "http" ? `http://${ip}:${hostPort}` : `tcp://${ip}:${hostPort}`,
        },
      };
    })
    .sort((a, b) => a.port - b.port)
    .map((x) => x.link);
}
