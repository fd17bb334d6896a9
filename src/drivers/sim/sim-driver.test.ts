import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { driverConformance, testSpec as spec } from "../../../test/driver-conformance.js";
import { SimDriver } from "./sim-driver.js";

describe("sim driver", () => {
  driverConformance("sim", () => new SimDriver(0));

  it("counts calls and fails on purpose (by count and by probability)", async () => {
    const d = new SimDriver(0, () => 0.5);
    d.injectFault({ op: "start", message: "boom", count: 2 });
    await assert.rejects(d.start(spec("u1"), []), /boom/);
    await assert.rejects(d.start(spec("u1"), []), /boom/);
    await d.start(spec("u1"), []);
    d.injectFault({ op: "stop", message: "flaky", probability: 0.4 });
    await d.stop("u1");
    d.injectFault({ op: "reboot", message: "always", probability: 0.6 });
    await assert.rejects(d.reboot("u1"), /always/);
    assert.deepEqual([d.calls.start, d.calls.stop, d.calls.reboot], [3, 1, 1]);
  });

  it("a capture follows the emulator's clock from the job's acceptance; a second call joins it; a reset abandons it", async () => {
    let now = 1_000_000;
    const d = new SimDriver(0, Math.random, { now: () => now });
    await d.create(spec("u2"));
    const reports: number[] = [];
    const req = { instanceId: "u2", imageId: "compshareImage-t1", systemDiskGB: 10, acceptedAt: now };
    const first = d.captureImage(req, (p) => reports.push(p.percent));
    const second = d.captureImage(req, () => {});
    now += 4_000;
    await waitFor(() => reports.some((p) => p >= 40));
    assert.ok(
      reports.every((p) => p < 100),
      "not done before 10 s of emulated time",
    );
    now += 6_000;
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual(a, { ref: "sim-image:compshareImage-t1", sizeMB: 10 * 1024, seconds: 10 });
    assert.deepEqual(b, a);
    assert.equal(d.calls.image, 1, "joined, not captured twice");
    assert.deepEqual(
      [...reports].sort((x, y) => x - y),
      reports,
      "progress only grows",
    );
    const abandoned = d.captureImage({ ...req, imageId: "compshareImage-t2", acceptedAt: now }, () => {});
    d.cancelCaptures();
    await assert.rejects(abandoned, /abandoned/);
    assert.deepEqual(await d.listImages(), ["compshareImage-t1"]);
  });
});

/** Polls (real time) until the capture loop has looked at the moved clock. */
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("the capture did not report");
    await new Promise((r) => setTimeout(r, 5));
  }
}
