import { sha1, sha1Hex } from "./sha1.js";

function shortHash(s: string, n = 8): string {
  return sha1Hex(s).slice(0, n);
}

/**
 * Derived ids and addresses, kept: Describe asks for them per row (two digests per instance were
 * a twentieth of a page of 100). Bounded: emptied when full, as every value is derived again.
 */
const derived = new Map<string, string>();
function memo(key: string, make: () => string): string {
  let v = derived.get(key);
  if (v === undefined) {
    if (derived.size >= 10_000) derived.clear();
    v = make();
    derived.set(key, v);
  }
  return v;
}

/** Each project has one VPC, with one subnet per zone; the ids are derived, so they are stable. */
export function vpcIdOf(projectId: string): string {
  return memo(`v ${projectId}`, () => `uvnet-${shortHash(projectId)}`);
}

export function subnetIdOf(projectId: string, zone: string): string {
  return memo(`s ${projectId} ${zone}`, () => `subnet-${shortHash(projectId + zone)}`);
}

/** A deterministic private address per instance (10.x), until a driver says where it is reached. */
export function privateIpOf(id: string): string {
  return memo(`i ${id}`, () => {
    const h = sha1(id);
    return `10.${(h[0] as number) % 250}.${(h[1] as number) % 250}.${((h[2] as number) % 250) + 2}`;
  });
}

/** A stable MAC address per instance. */
export function macOf(id: string): string {
  return memo(`m ${id}`, () => `52:54:00:${shortHash(id, 6).match(/../g)?.join(":")}`);
}

/** The SSH port of an instance whose driver publishes none of its own (the sim driver's). */
export const SIM_SSH_PORT = 60022;
