import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import { InstanceFixture } from "./fixtures.test-support.js";

const fx = new InstanceFixture();
const kinds = (r: Record<string, unknown>) => (r.EventSet as Array<{ Kind: string }>).map((e) => e.Kind);

describe("DescribeCompShareInstanceEvents (extension)", () => {
  it("an instance's history, newest first, also from the recycle bin", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    const r = await t.call("DescribeCompShareInstanceEvents", { UHostId: id });
    assert.equal(r.RetCode, 0);
    assert.deepEqual(kinds(r), [
      "operation.finished",
      "gpus.released",
      "operation.started",
      "operation.finished",
      "gpus.taken",
      "operation.started",
      "instance.created",
    ]);
    const first = (r.EventSet as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    assert.equal(first.ResourceId, id);
    assert.deepEqual(first.Data, { operation: "Stop", state: "Stopped" });
    assert.equal(typeof first.Time, "number");
    assert.deepEqual(kinds(await t.call("DescribeCompShareInstanceEvents", { UHostId: id, Limit: 2 })), [
      "operation.finished",
      "gpus.released",
    ]);
    await fx.recycled(id);
    const binned = await t.call("DescribeCompShareInstanceEvents", { UHostId: id, Limit: 1 });
    assert.deepEqual(kinds(binned), ["operation.finished"]);
  });

  it("another account's instance, or an unknown one, is not found", async () => {
    const { t } = fx;
    const other = await t.server.services.accounts.createAccount(`history-${Date.now()}`);
    const r = await t.call("CreateCompShareInstance", createParams(), other.keyPair);
    const theirs = (r.UHostIds as string[])[0] as string;
    assert.equal((await t.call("DescribeCompShareInstanceEvents", { UHostId: theirs })).RetCode, 8039);
    assert.equal(
      (await t.call("DescribeCompShareInstanceEvents", { UHostId: "uhost-nothere1" })).RetCode,
      8039,
    );
    assert.equal((await t.call("DescribeCompShareInstanceEvents", {})).RetCode, 210);
    assert.equal(
      (await t.call("DescribeCompShareInstanceEvents", { UHostId: theirs, Limit: 501 })).RetCode,
      230,
    );
  });
});
