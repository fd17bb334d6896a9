import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CATALOG } from "../src/core/catalog/catalog.js";
import type { Catalog } from "../src/domain/catalog.js";
import { assertSettled, createParams, startTestServer } from "./helpers.js";

/**
 * Soak (bounded: 20 s of load): mixed API calls from 16 clients while the sim driver fails a share
 * of its calls. At the end, with faults cleared and the worker drained, every instance must be
 * settled and the GPU/CPU accounting must balance.
 */
const catalog: Catalog = {
  ...DEFAULT_CATALOG,
  hosts: Array.from({ length: 4 }, (_, i) => ({
    id: `soak-${i}`,
    zone: "cn-wlcb-01",
    gpuType: "4090",
    gpus: 8,
    cpu: 128,
    memoryMB: 524288,
  })),
};
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

describe("soak with driver faults", { timeout: 120_000 }, () => {
  it("mixed load for 20 s, then everything settles and the GPUs balance", async () => {
    const t = await startTestServer({ OCS_SIM_LATENCY_MS: "5" }, { catalog });
    try {
      for (const op of ["create", "start", "stop", "reboot", "reinstall", "destroy"]) {
        assert.equal(
          (
            await t.call("EmulatorInjectFault", {
              Target: "Driver",
              Operation: op,
              Message: `flaky ${op}`,
              Probability: 0.15,
            })
          ).RetCode,
          0,
        );
      }
      const ids: string[] = [];
      const codes = new Map<number, number>();
      let seed = 20261123;
      const rand = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const deadline = Date.now() + 20_000;
      const worker = async () => {
        while (Date.now() < deadline) {
          const r = rand();
          const id = ids[Math.floor(rand() * ids.length)];
          let res: Record<string, unknown>;
          if (r < 0.12 || !id) {
            res = await t.call(
              "CreateCompShareInstance",
              createParams({ GPU: rand() < 0.7 ? 1 : 2, CPU: 16, Memory: 65536 }),
            );
            if (res.RetCode === 0) ids.push(...(res.UHostIds as string[]));
          } else if (r < 0.3) res = await t.call("StopCompShareInstance", { ...Z, UHostId: id, Force: true });
          else if (r < 0.48)
            res = await t.call("StartCompShareInstance", { ...Z, UHostId: id, WithoutGpu: rand() < 0.3 });
          else if (r < 0.56) res = await t.call("RebootCompShareInstance", { ...Z, UHostId: id });
          else if (r < 0.62)
            res = await t.call("ReinstallCompShareInstance", {
              ...Z,
              UHostId: id,
              CompShareImageId: "compshareImage-cuda124",
            });
          else if (r < 0.68) res = await t.call("TerminateCompShareInstance", { ...Z, UHostId: id });
          else if (r < 0.72)
            res = await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id });
          else if (r < 0.76)
            res = await t.call("ResizeCompShareInstance", {
              ...Z,
              UHostId: id,
              Gpu: 1,
              Cpu: 16,
              Memory: 65536,
            });
          else res = await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", Limit: 100 });
          codes.set(res.RetCode as number, (codes.get(res.RetCode as number) ?? 0) + 1);
          assert.notEqual(res.RetCode, 130, `internal error: ${JSON.stringify(res)}`);
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      assert.ok((codes.get(0) ?? 0) > 200, `too little accepted work: ${JSON.stringify([...codes])}`);
      await t.call("EmulatorClearFaults");
      const db = t.server.internals.db;
      const settleBy = Date.now() + 30_000;
      while ((await db.all("SELECT id FROM tasks WHERE kind = 'transition'")).length > 0) {
        if (Date.now() > settleBy) throw new Error("transitions did not drain");
        await new Promise((r) => setTimeout(r, 50));
      }
      await assertSettled(db);
      const failed = await db.all("SELECT COUNT(*) AS n FROM instances WHERE last_error IS NOT NULL");
      const calls = (await t.call("EmulatorStatus")).DriverCalls as Record<string, number>;
      process.stdout.write(
        `# soak: ${ids.length} instances, RetCodes ${JSON.stringify(Object.fromEntries(codes))}, driver calls ${JSON.stringify(calls)}, instances with a failed last operation: ${Number(failed[0]?.n)}\n`,
      );
    } finally {
      await t.close();
    }
  });
});
