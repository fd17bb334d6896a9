import { Lru } from "./lru.js";
import { sha1, sha1Hex } from "./sha1.js";

function shortHash(s: string, n = 8): string {
  return sha1Hex(s).slice(0, n);
}

/** Values kept per kind (a page of 100 needs 100 addresses and MACs, and one VPC and subnet). */
const KEPT = 10_000;

/**
 * One kind of derived value, kept: Describe asks for them per row (two digests per instance were
 * a twentieth of a page of 100). Keyed by the argument itself, so a lookup builds no key string
 * (a composed key per call was 7% of a page). Bounded like every per-record memo ({@link Lru}).
 */
class Derived {
  private readonly kept = new Lru<string, string>(KEPT);
  constructor(private readonly make: (key: string) => string) {}

  of(key: string): string {
    let v = this.kept.get(key);
    if (v === undefined) {
      v = this.make(key);
      this.kept.set(key, v);
    }
    return v;
  }
}

const vpcs = new Derived((projectId) => `uvnet-${shortHash(projectId)}`);
const subnets = new Lru<string, Derived>(KEPT);
const ips = new Derived((id) => {
  const h = sha1(id);
  return `10.${(h[0] as number) % 250}.${(h[1] as number) % 250}.${((h[2] as number) % 250) + 2}`;
});
const macs = new Derived((id) => `52:54:00:${shortHash(id, 6).match(/../g)?.join(":")}`);

/** Each project has one VPC, with one subnet per zone; the ids are derived, so they are stable. */
export function vpcIdOf(projectId: string): string {
  return vpcs.of(projectId);
}

export function subnetIdOf(projectId: string, zone: string): string {
  let zones = subnets.get(projectId);
  if (!zones) {
    zones = new Derived((z) => `subnet-${shortHash(projectId + z)}`);
    subnets.set(projectId, zones);
  }
  return zones.of(zone);
}

/** A deterministic private address per instance (10.x), until a driver says where it is reached. */
export function privateIpOf(id: string): string {
  return ips.of(id);
}

/** A stable MAC address per instance. */
export function macOf(id: string): string {
  return macs.of(id);
}

/** The SSH port of an instance whose driver publishes none of its own (the sim driver's). */
export const SIM_SSH_PORT = 60022;
