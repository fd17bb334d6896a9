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

  it("after a restart, recalls each runtime from the store the first time a call names it", async () => {
    // What the store says: u1 runs, u2 is stopped, u3 is being stopped (its runtime still runs).
    const store = new Map([
      ["u1", true],
      ["u2", false],
      ["u3", true],
    ]);
    const asked: string[] = [];
    const d = new SimDriver(0);
    d.recallFrom({
      running: async (id) => {
        asked.push(id);
        return store.get(id);
      },
      ids: async () => [...store.keys()],
    });
    assert.equal(d.instances.size, 0, "nothing loaded at start");
    assert.deepEqual(await d.inspect("u1"), { exists: true, running: true });
    assert.deepEqual(await d.inspect("u2"), { exists: true, running: false });
    assert.deepEqual(await d.inspect("nope"), { exists: false, running: false });
    await d.reboot("u1");
    await assert.rejects(d.reboot("u2"), /not running/);
    await d.stop("u3");
    assert.deepEqual(await d.inspect("u3"), { exists: true, running: false });
    await d.start(spec("u2"), [0]);
    assert.deepEqual(await d.inspect("u2"), { exists: true, running: true });
    assert.deepEqual(asked, ["u1", "u2", "nope", "u3"], "each one asked for once");
    await d.destroy("u1");
    store.delete("u1");
    assert.deepEqual((await d.list()).sort(), ["u2", "u3"]);
  });

  it("after a restart, a runtime whose create failed since is not recalled from the store", async () => {
    const d = new SimDriver(0);
    // The store has the instance (Create wrote it before asking the driver), so a recall would find it.
    d.recallFrom({ running: async () => false, ids: async () => ["u9"] });
    d.injectFault({ op: "create", message: "no capacity", count: 1 });
    await assert.rejects(d.create(spec("u9")), /no capacity/);
    assert.deepEqual(await d.inspect("u9"), { exists: false, running: false });
    await assert.rejects(d.reboot("u9"));
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
