import assert from "node:assert/strict";
import { it } from "node:test";
import type { Driver, RuntimeSpec } from "../src/drivers/driver.js";

/** A small runtime spec for driver-level tests. */
export function testSpec(id: string, image = "x", hostId = "h"): RuntimeSpec {
  return { id, image, imageId: "x", cpu: 1, memoryMB: 256, hostId, dataDisks: [], password: "x" };
}

/**
 * The driver conformance suite: every driver (sim, docker, kubernetes) must pass it. Every call is
 * idempotent (the worker may repeat one after a crash) and inspect/list reflect what the calls did.
 * `hostId` is a host the driver can really run on (a fleet driver's node).
 */
export function driverConformance(name: string, make: () => Driver, image = "x", hostId = "h"): void {
  it(`${name}: create/start/stop/reboot/reinstall/destroy, each idempotent, visible to inspect and list`, async () => {
    const d = make();
    const s = testSpec(`uhost-conf${name.slice(0, 3)}1`, image, hostId);
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    assert.deepEqual(await d.inspect(s.id), { exists: false, running: false });
    await d.create(s);
    await d.create(s);
    assert.deepEqual(await d.inspect(s.id), { exists: true, running: false });
    assert.ok((await d.list()).includes(s.id));
    const access = await d.start(s, []);
    assert.ok(access === undefined || (typeof access.ip === "string" && access.sshPort > 0));
    await d.start(s, []);
    assert.deepEqual(await d.inspect(s.id), { exists: true, running: true });
    await d.reboot(s.id);
    assert.deepEqual(await d.inspect(s.id), { exists: true, running: true });
    await d.stop(s.id);
    await d.stop(s.id);
    assert.deepEqual(await d.inspect(s.id), { exists: true, running: false });
    await d.reinstall(s);
    assert.deepEqual(await d.inspect(s.id), { exists: true, running: false });
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    assert.deepEqual(await d.inspect(s.id), { exists: false, running: false });
    assert.ok(!(await d.list()).includes(s.id));
  });

  it(`${name}: data disks sync on a stopped instance and are deleted idempotently; running instances are sampled`, async () => {
    const d = make();
    const s = testSpec(`uhost-cdisk${name.slice(0, 3)}1`, image, hostId);
    const disk = `bs-conf${name.slice(0, 3)}1`;
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [disk] });
    try {
      await d.create(s);
      const withDisk = { ...s, dataDisks: [{ id: disk, sizeGB: 20 }] };
      await d.syncDisks?.(withDisk);
      await d.syncDisks?.(withDisk);
      assert.deepEqual(await d.inspect(s.id), { exists: true, running: false }, "still stopped");
      await d.start(withDisk, []);
      const [reading] = (await d.sample?.(
        [
          {
            id: s.id,
            hostId: "h",
            gpus: [],
            cpu: 1,
            memoryMB: 256,
            bootGB: 20,
            dataDisks: withDisk.dataDisks,
          },
        ],
        Date.now(),
      )) ?? [{ id: s.id }];
      assert.equal(reading?.id, s.id);
      await d.stop(s.id);
      await d.syncDisks?.(s);
      await d.deleteDisk?.(disk);
      await d.deleteDisk?.(disk);
    } finally {
      await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [disk] });
    }
  });

  it(`${name}: a stop of an instance that is gone is not an error (the reconciler handles it)`, async () => {
    const d = make();
    await d.stop(`uhost-gone${name.slice(0, 3)}9`);
  });
}
