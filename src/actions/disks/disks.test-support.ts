import assert from "node:assert/strict";
import type { InstanceFixture } from "../instances/fixtures.test-support.js";

/** The disk helpers send no Zone: the instance's own applies, whichever zone it is in. */
const R = { Region: "cn-wlcb" };

export { WITH_DATA_DISK } from "../../../test/helpers.js";

/** One element of DescribeCompshareDisk's DiskSet. */
export type DiskRow = Record<string, unknown> & { ResourceId: string; Status: string; MountInstance: string };

/** The disk list, as DescribeCompshareDisk answers it (no Region: every region). */
export async function listDisks(
  fx: InstanceFixture,
  params: Record<string, string> = {},
): Promise<DiskRow[]> {
  const r = await fx.t.call("DescribeCompshareDisk", params);
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  return r.DiskSet as DiskRow[];
}

/** Describe's DiskSet of an instance. */
export async function diskSet(fx: InstanceFixture, id: string): Promise<Array<Record<string, unknown>>> {
  return ((await fx.describe(id))?.DiskSet ?? []) as Array<Record<string, unknown>>;
}

/** Creates and attaches a disk and waits for the operation to finish; returns its id. */
export async function newDisk(
  fx: InstanceFixture,
  uhostId: string,
  extra: Record<string, string | number> = {},
): Promise<string> {
  const r = await fx.t.call("CreateAndAttachCompshareDisk", {
    ...R,
    UHostId: uhostId,
    Size: 40,
    Name: "scratch",
    ...extra,
  });
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  await fx.settle();
  return r.UDiskId as string;
}

/** Detaches a disk from a stopped instance and waits for the operation to finish. */
export async function detached(fx: InstanceFixture, uhostId: string, diskId: string): Promise<void> {
  const r = await fx.t.call("DetachCompshareDisk", { ...R, UHostId: uhostId, UDiskId: diskId });
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  await fx.settle();
}

/** A disk's row in the store, for checks the wire does not show. */
export async function diskRow(fx: InstanceFixture, id: string): Promise<Record<string, unknown> | undefined> {
  return (await fx.t.server.internals.db.all("SELECT * FROM disks WHERE id = ?", [id]))[0];
}
