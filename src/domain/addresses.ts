import { createHash } from "node:crypto";

function shortHash(s: string, n = 8): string {
  return createHash("sha1").update(s).digest("hex").slice(0, n);
}

/** Each project has one VPC, with one subnet per zone; the ids are derived, so they are stable. */
export function vpcIdOf(projectId: string): string {
  return `uvnet-${shortHash(projectId)}`;
}

export function subnetIdOf(projectId: string, zone: string): string {
  return `subnet-${shortHash(projectId + zone)}`;
}

/** A deterministic private address per instance (10.x), until a driver says where it is reached. */
export function privateIpOf(id: string): string {
  const h = createHash("sha1").update(id).digest();
  return `10.${(h[0] as number) % 250}.${(h[1] as number) % 250}.${((h[2] as number) % 250) + 2}`;
}

/** A stable MAC address per instance. */
export function macOf(id: string): string {
  return `52:54:00:${shortHash(id, 6).match(/../g)?.join(":")}`;
}

/** The SSH port of an instance whose driver publishes none of its own (the sim driver's). */
export const SIM_SSH_PORT = 60022;
