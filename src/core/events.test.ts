import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../test/helpers.js";
import { createParams, startTestServer } from "../../test/helpers.js";

let t: TestServer;
before(async () => {
  t = await startTestServer({}, {}, { http: false });
});
after(async () => {
  await t.close();
});

const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

async function kindsOf(id: string): Promise<string[]> {
  const events = await t.server.internals.store.events.since(0, { resourceIds: [id] }, 1000);
  return events.map((e) => e.kind);
}

describe("the event outbox", () => {
  it("each change writes its events in its own transaction, in commit order", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    const id = (r.UHostIds as string[])[0] as string;
    await t.server.internals.worker.drain();
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await t.server.internals.worker.drain();
    assert.deepEqual(await kindsOf(id), [
      "instance.created",
      "operation.started",
      "gpus.taken",
      "operation.finished",
      "operation.started",
      "gpus.released",
      "operation.finished",
    ]);
    const events = await t.server.internals.store.events.since(0, { resourceIds: [id] }, 1000);
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    const stopped = events.at(-1);
    assert.deepEqual(stopped?.data, { operation: "Stop", state: "Stopped" });
  });

  it("a refused or rolled-back change announces nothing", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    const id = (r.UHostIds as string[])[0] as string;
    await t.server.internals.worker.drain();
    const before = await kindsOf(id);
    // Wrong state (8041), a bad name (230), a spot-only rule that does not apply: no event each.
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 8041);
    assert.equal(
      (await t.call("ModifyCompShareInstanceName", { Region: "cn-wlcb", UHostId: id, Name: "bad/name" }))
        .RetCode,
      230,
    );
    // A Start that fails inside its transaction (no GPU left on the host) rolls its events back too.
    assert.deepEqual(await kindsOf(id), before);
  });

  it("a driver failure announces the failure with the reason", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    const id = (r.UHostIds as string[])[0] as string;
    await t.server.internals.worker.drain();
    t.server.internals.sim?.injectFault({ op: "reboot", message: "kernel panic", count: 10 });
    assert.equal((await t.call("RebootCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    // The worker retries with backoff on the emulator clock: move it along until the retries are spent.
    for (let i = 0; i < 5; i++) {
      t.server.internals.clock.advance(10_000);
      await t.server.internals.worker.drain();
    }
    t.server.internals.sim?.clearFaults();
    const events = await t.server.internals.store.events.since(0, { resourceIds: [id] }, 1000);
    const failed = events.find((e) => e.kind === "operation.failed");
    assert.equal(failed?.data.operation, "Reboot");
    assert.equal(failed?.data.state, "Running");
    assert.match(String(failed?.data.reason), /kernel panic/);
  });
});
