import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Db } from "../src/store/db.js";
import { SqliteDb } from "../src/store/db.js";
import { PgDb } from "../src/store/pg.js";
import { WITH_DATA_DISK, assertSettled, createParams, createPgDatabase, pgSkip } from "./helpers.js";
import type { ServerProcess } from "./processes.js";
import { bigCatalogFile, eventually, startProcess } from "./processes.js";

const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
const WITH_DATA = createParams(WITH_DATA_DISK);

/** Every instance holds no lock and is in one of these states. */
async function settledIn(p: ServerProcess, ids: string[], state: string): Promise<void> {
  await eventually(
    async () => {
      const r = await p.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: ids, Limit: 100 });
      const set = r.UHostSet as Array<{ State: string }>;
      return set.length === ids.length && set.every((u) => u.State === state);
    },
    60_000,
    `${ids.length} instances ${state}`,
  );
}

/**
 * Disk changes in flight when the process is killed: creates on running instances, detaches on
 * stopped ones, deletes of detached disks. After a restart each change is finished (the worker runs
 * its task again), nothing is left Attaching or Detaching, no lock is stuck, no task is lost.
 */
async function scenario(env: Record<string, string>, openDb: () => Db): Promise<void> {
  const p = await startProcess({ ...env, OCS_SIM_LATENCY_MS: "0" });
  const running: string[] = [];
  const stopped: string[] = [];
  let deleted: string[] = [];
  try {
    for (let i = 0; i < 16; i++) {
      const r = await p.call("CreateCompShareInstance", WITH_DATA);
      assert.equal(r.RetCode, 0, JSON.stringify(r));
      ((i % 2 === 0 ? running : stopped) as string[]).push((r.UHostIds as string[])[0] as string);
    }
    await settledIn(p, [...running, ...stopped], "Running");
    for (const id of stopped)
      assert.equal((await p.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await settledIn(p, stopped, "Stopped");
    // Two detached disks to delete during the crash.
    const list = await p.call("DescribeCompshareDisk", {});
    const spare = (list.DiskSet as Array<{ ResourceId: string; MountInstance: string }>).filter((d) =>
      stopped.slice(0, 2).includes(d.MountInstance),
    );
    for (const d of spare) {
      assert.equal(
        (await p.call("DetachCompshareDisk", { ...Z, UHostId: d.MountInstance, UDiskId: d.ResourceId }))
          .RetCode,
        0,
      );
    }
    await settledIn(p, stopped, "Stopped");
    await eventually(
      async () =>
        ((await p.call("DescribeCompshareDisk", {})).DiskSet as Array<{ Status: string }>).filter(
          (d) => d.Status === "Available",
        ).length === 2,
      30_000,
      "two detached disks",
    );
    deleted = spare.map((d) => d.ResourceId);

    await p.call("EmulatorSetLatency", { Milliseconds: 1500 });
    for (const id of running) {
      const r = await p.call("CreateAndAttachCompshareDisk", { ...Z, UHostId: id, Size: 40, Name: "crash" });
      assert.equal(r.RetCode, 0, JSON.stringify(r));
    }
    for (const id of stopped.slice(2)) {
      const disk = (
        (await p.call("DescribeCompshareDisk", { HostId: id })).DiskSet as Array<{ ResourceId: string }>
      )[0]?.ResourceId as string;
      assert.equal((await p.call("DetachCompshareDisk", { ...Z, UHostId: id, UDiskId: disk })).RetCode, 0);
    }
    for (const d of deleted)
      assert.equal((await p.call("DeleteCompshareDisk", { ...Z, UDiskId: d })).RetCode, 0);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await p.kill("SIGKILL");
  }

  const again = await startProcess({ ...env, OCS_SIM_LATENCY_MS: "0" });
  try {
    await settledIn(again, running, "Running");
    await settledIn(again, stopped, "Stopped");
    const db = openDb();
    try {
      await eventually(
        async () =>
          (await db.all("SELECT id FROM tasks WHERE kind IN ('transition', 'disk-release')")).length === 0,
        60_000,
        "every transition and disk task done",
      );
      await assertSettled(db);
      assert.deepEqual(
        await db.all("SELECT id, state FROM disks WHERE state IN ('Attaching', 'Detaching')"),
        [],
        "no disk left half-way",
      );
      for (const id of running) {
        const n = await db.all(
          "SELECT id FROM disks WHERE instance_id = ? AND is_boot = 0 AND state = 'InUse'",
          [id],
        );
        assert.equal(n.length, 2, `${id}: its disk and the one created during the crash`);
      }
      for (const id of stopped) {
        const n = await db.all("SELECT id FROM disks WHERE instance_id = ? AND is_boot = 0", [id]);
        assert.equal(n.length, 0, `${id}: its disk detached`);
      }
      for (const d of deleted) {
        assert.equal((await db.all("SELECT state FROM disks WHERE id = ?", [d]))[0]?.state, "Deleted");
      }
    } finally {
      await db.close();
    }
  } finally {
    await again.kill();
  }
}

describe("kill -9 with disk changes in flight", { timeout: 300_000 }, () => {
  it("SQLite: every disk change finishes, none is left half-way, no lock stuck", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-disk-crash-"));
    await scenario(
      { OCS_DATA_DIR: dataDir, OCS_CATALOG: bigCatalogFile(2) },
      () => new SqliteDb(join(dataDir, "ocs.sqlite")),
    );
  });

  it("PostgreSQL: the same", pgSkip(), async () => {
    const url = (await createPgDatabase()) as string;
    await scenario(
      {
        OCS_DATABASE_URL: url,
        OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-disk-crash-")),
        OCS_CATALOG: bigCatalogFile(2),
        OCS_WORKER_CLAIM_SECONDS: "2",
      },
      () => new PgDb(url),
    );
  });
});
