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
});
