import assert from "node:assert/strict";
import { it } from "node:test";
import type { CaptureProgress, Driver, RuntimeSpec } from "../src/drivers/driver.js";

/** A small runtime spec for driver-level tests. */
/**
 * A suffix for the names this suite gives runtimes, disks and images: suites of two test runs may
 * share one Docker Engine, where `ocs-<id>` names would otherwise collide.
 */
const RUN = process.pid.toString(36);

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
    const s = testSpec(`uhost-conf${name.slice(0, 3)}1${RUN}`, image, hostId);
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

  it(`${name}: captureImage makes an image new instances start from; idempotent; listImages and removeImage`, async () => {
    const d = make();
    assert.ok(d.captureImage && d.removeImage && d.listImages, `${name} makes custom images`);
    const tag = name.slice(0, 3);
    const src = testSpec(`uhost-imgsrc${tag}1${RUN}`, image, hostId);
    const child = { ...testSpec(`uhost-imgkid${tag}1${RUN}`, image, hostId), baseImage: image };
    const imageId = `compshareImage-conf${tag}1${RUN}`;
    for (const s of [src, child]) await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    await d.removeImage(imageId, null);
    try {
      await assert.rejects(
        d.captureImage(
          { instanceId: `uhost-none${tag}9`, imageId: `${imageId}x`, systemDiskGB: 1, acceptedAt: 0 },
          () => {},
        ),
      );
      await d.create(src);
      await d.start(src, []);
      const reports: CaptureProgress[] = [];
      // Accepted long ago: the simulator's emulated duration is over at once.
      const req = { instanceId: src.id, imageId, systemDiskGB: 1, acceptedAt: 0 };
      const made = await d.captureImage(req, (p) => reports.push(p));
      assert.ok(made.ref.length > 0 && made.sizeMB > 0 && made.seconds >= 0, JSON.stringify(made));
      assert.ok(reports.every((p) => p.percent >= 0 && p.percent <= 100));
      assert.equal(reports.at(-1)?.percent, 100);
      assert.deepEqual(
        (await d.captureImage(req, () => {})).ref,
        made.ref,
        "a repeated call returns the image",
      );
      assert.ok((await d.listImages()).includes(imageId));
      child.image = made.ref;
      await d.create(child);
      await d.start(child, []);
      assert.deepEqual(await d.inspect(child.id), { exists: true, running: true });
      await d.removeImage(imageId, made.ref);
      await d.removeImage(imageId, made.ref);
      assert.ok(!(await d.listImages()).includes(imageId));
      assert.deepEqual(
        await d.inspect(child.id),
        { exists: true, running: true },
        "its instance keeps running",
      );
    } finally {
      for (const s of [src, child]) await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
      await d.removeImage(imageId, null);
    }
  });

  it(`${name}: data disks sync on a stopped instance and are deleted idempotently; running instances are sampled`, async () => {
    const d = make();
    const s = testSpec(`uhost-cdisk${name.slice(0, 3)}1${RUN}`, image, hostId);
    const disk = `bs-conf${name.slice(0, 3)}1${RUN}`;
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
