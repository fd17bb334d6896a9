import assert from "node:assert/strict";
import { it } from "node:test";
import { eachDialect, migrateBefore } from "../../test/helpers.js";
import type { ImageRecord } from "../domain/images.js";
import { migrate } from "./migrations.js";
import { Store } from "./store.js";

function image(id: string, overrides: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id,
    accountId: "a1",
    projectId: "p",
    region: "cn-wlcb",
    zone: "cn-wlcb-01",
    name: id,
    description: "",
    tags: [],
    softwares: { applications: [], cudaVersion: "", framework: "", frameworkVersion: "" },
    status: "Making",
    sourceInstanceId: "i1",
    sourceGpuType: "4090",
    baseImageId: "compshareImage-ubuntu2204",
    container: false,
    runtimeRef: null,
    sizeMB: 0,
    progress: 0,
    totalSeconds: 0,
    remainingSeconds: 0,
    failedReason: "",
    createdAt: 1,
    updatedAt: 1,
    finishedAt: null,
    deletedAt: null,
    ...overrides,
  };
}

/** The custom-image tables behave the same on every dialect (store conformance, images part). */
eachDialect("images store", 10, (fresh) => {
  it("accounts that existed get numbers in creation order; new ones the next", async () => {
    const db = await fresh();
    // The schema as it was before custom images, with two accounts in it.
    await migrateBefore(db, 7);
    await db.run(
      "INSERT INTO accounts (id, name, is_root, instance_quota, created_at) VALUES ('b', 'b', 0, 1, 20)",
    );
    await db.run(
      "INSERT INTO accounts (id, name, is_root, instance_quota, created_at) VALUES ('a', 'a', 1, 1, 10)",
    );
    await migrate(db);
    const store = new Store(db);
    assert.deepEqual(
      [(await store.accounts.accountById("a"))?.number, (await store.accounts.accountById("b"))?.number],
      [10_000_001, 10_000_002],
    );
    const n = await store.tx((r) =>
      r.accounts.insertAccount({
        id: "c",
        name: "c",
        isRoot: false,
        instanceQuota: 1,
        gpuQuota: 1,
        disabledAt: null,
        createdAt: 30,
      }),
    );
    assert.equal(n, 10_000_003);
    assert.deepEqual(
      (await store.images.accountsByNumber([10_000_003, 42])).map((x) => x.accountId),
      ["c"],
    );
  });

  const seeded = async () => {
    const db = await fresh();
    await migrate(db);
    const store = new Store(db);
    for (const id of ["a1", "a2"])
      await store.accounts.insertAccount({
        id,
        name: id,
        isRoot: false,
        instanceQuota: 1,
        gpuQuota: 1,
        disabledAt: null,
        createdAt: 0,
      });
    return store;
  };

  it("names are unique among an account's live images only; deleted ones stay readable", async () => {
    const store = await seeded();
    await store.images.insert(image("m1", { name: "env", status: "Available" }));
    await assert.rejects(store.images.insert(image("m2", { name: "env" })));
    assert.equal(await store.images.nameTaken("a1", "env"), true);
    assert.equal(await store.images.nameTaken("a1", "env", "m1"), false);
    assert.equal(await store.images.markDeleted("m1", 5), true);
    await store.images.insert(image("m2", { name: "env" }));
    await store.images.insert(image("m3", { name: "env", accountId: "a2" }));
    assert.equal((await store.images.get("m1"))?.deletedAt, 5);
    assert.equal(await store.images.countLive("a1"), 1);
    const mine = await store.images.owned("a1", { region: "cn-wlcb", offset: 0, limit: 10 });
    assert.deepEqual(
      mine.rows.map((r) => r.id),
      ["m2"],
    );
  });

  it("a job ends once, a Making image cannot be deleted, a deleted one cannot be held", async () => {
    const store = await seeded();
    await store.images.insert(image("m1"));
    assert.equal(await store.images.markDeleted("m1", 2), false, "not while Making");
    assert.equal(await store.images.holdUsable("m1"), false, "not Available yet");
    await store.images.reportProgress("m1", { progress: 42.5, totalSeconds: 50, remainingSeconds: 29 }, 3);
    assert.equal((await store.images.get("m1"))?.progress, 42.5);
    const done = { status: "Available" as const, runtimeRef: "ref-1", sizeMB: 100, totalSeconds: 50 };
    assert.equal(await store.images.finish("m1", done, 4), true);
    assert.equal(await store.images.finish("m1", { status: "UnAvailable", reason: "late" }, 5), false);
    await store.images.reportProgress("m1", { progress: 1, totalSeconds: 1, remainingSeconds: 1 }, 6);
    const im = await store.images.get("m1");
    assert.deepEqual(
      [im?.status, im?.progress, im?.runtimeRef, im?.finishedAt],
      ["Available", 100, "ref-1", 4],
    );
    assert.equal(await store.images.holdUsable("m1"), true);
    assert.deepEqual(await store.images.liveIds(), ["m1"]);
    assert.equal(await store.images.markDeleted("m1", 7), true);
    assert.equal(await store.images.holdUsable("m1"), false);
    assert.deepEqual(await store.images.liveIds(), []);
  });

  it("shares: added once however often, listed with account numbers, visible to the receiver only", async () => {
    const store = await seeded();
    await store.images.insert(image("m1", { status: "Available" }));
    await store.images.addShares("m1", ["a2", "a2"], 1);
    await store.images.addShares("m1", ["a2"], 2);
    assert.deepEqual(
      (await store.images.shares("m1")).map((s) => s.accountId),
      ["a2"],
    );
    assert.equal(await store.images.isSharedWith("m1", "a2"), true);
    const theirs = await store.images.sharedWith("a2", { region: "cn-wlcb", offset: 0, limit: 10 });
    assert.deepEqual([theirs.total, theirs.rows[0]?.id], [1, "m1"]);
    assert.equal((await store.images.sharedWith("a1", { region: "cn-wlcb", offset: 0, limit: 10 })).total, 0);
    await store.images.removeShares("m1", ["a2"]);
    assert.equal(await store.images.isSharedWith("m1", "a2"), false);
  });
});
