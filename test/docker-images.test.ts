import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerCatalog } from "./docker-fixtures.js";
import type { TestServer } from "./helpers.js";
import { WITH_DATA_DISK, createParams, createRunning, dataDiskOf, startTestServer } from "./helpers.js";
import { eventually } from "./processes.js";

/**
 * Custom images on a real Docker Engine (scripts/test.mjs starts it and imports a busybox image):
 * a file written inside an instance is in an instance made from its image; the image is a labelled
 * commit; deleting it while an instance uses it keeps what that instance needs until it is gone;
 * images of this store the store does not know are removed at start, another install's never.
 */
const IMAGE = process.env.OCS_TEST_DOCKER_IMAGE;
const skip = IMAGE
  ? {}
  : process.env.CI === "true"
    ? (() => {
        throw new Error("Docker Engine missing in CI");
      })()
    : { skip: "Docker Engine not available (see npm test output)" };
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
const docker = (...args: string[]) =>
  execFileSync("docker", args, { encoding: "utf8", stdio: "pipe" }).trim();
const sh = (id: string, cmd: string) => docker("exec", `ocs-${id}`, "sh", "-c", cmd);
const exists = (ref: string) => {
  try {
    docker("image", "inspect", ref);
    return true;
  } catch {
    return false;
  }
};
/** Names of the stray objects are unique per run: two suites may share one engine. */
const RUN = randomBytes(3).toString("hex");

describe("custom images on a real Docker Engine", { ...skip, timeout: 300_000 }, () => {
  let t: TestServer;
  let storeId = "";
  const foreign = `another-install-${RUN}`;
  const env = {
    OCS_DRIVER: "docker",
    OCS_DOCKER_GPU_MODE: "none",
    OCS_DOCKER_NETWORK: "none",
    OCS_CATALOG: "",
    OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-docker-img-")),
  };

  /** Polls the job (real time here: a commit takes what it takes) until it ends. */
  async function waitImage(id: string): Promise<Array<Record<string, unknown>>> {
    const seen: Array<Record<string, unknown>> = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const p = await t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: id });
      assert.equal(p.RetCode, 0, JSON.stringify(p));
      seen.push(p);
      if (p.Status !== "Making") return seen;
      if (Date.now() > deadline) throw new Error(`image ${id} still Making: ${JSON.stringify(p)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    env.OCS_CATALOG = dockerCatalog(IMAGE as string);
    const first = await startTestServer(env);
    storeId = String((await first.server.internals.db.all("SELECT value FROM store_meta"))[0]?.value);
    await first.close();
    // Custom images the store never made: one of this store (a crash after a commit, say), one of
    // another install on the same engine.
    for (const store of [storeId, foreign]) {
      const name = `ocs-imgsrc-${store === storeId ? "own" : "foreign"}-${RUN}`;
      docker("create", "--name", name, "--label", `opencompshare.store=${store}`, IMAGE as string, "true");
      docker(
        "commit",
        "--change",
        `LABEL opencompshare.image=compshareImage-stray${store === storeId ? "1" : "2"}${RUN}`,
        name,
        `opencompshare-image:compshareImage-stray${store === storeId ? "1" : "2"}${RUN}`,
      );
      docker("rm", "-f", name);
    }
    t = await startTestServer(env);
  });

  after(async () => {
    await t?.close();
    for (const store of [storeId, foreign]) {
      const label = `label=opencompshare.store=${store}`;
      const ids = docker("ps", "-aq", "--filter", label).split("\n").filter(Boolean);
      if (ids.length) docker("rm", "-f", ...ids);
      const volumes = docker("volume", "ls", "-q", "--filter", label).split("\n").filter(Boolean);
      if (volumes.length) docker("volume", "rm", "-f", ...volumes);
      const images = docker("images", "-aq", "--filter", label).split("\n").filter(Boolean);
      if (images.length) docker("rmi", "-f", ...new Set(images));
    }
  });

  it("removes this store's custom images the store does not know, at start; never another install's", () => {
    assert.equal(exists(`opencompshare-image:compshareImage-stray1${RUN}`), false);
    assert.equal(exists(`opencompshare-image:compshareImage-stray2${RUN}`), true, "another install's stays");
  });

  it("a file written in an instance is in an instance made from its image; data disks are not in it", async () => {
    const src = await createRunning(t, WITH_DATA_DISK, 30_000);
    const disk = dataDiskOf(await t.waitState(src, "Running"));
    // 64 MB of random data: a commit that takes long enough to be caught in the middle.
    sh(src, `echo hello-from-source > /root/hello.txt; echo data > /mnt/${disk}/data.txt`);
    sh(src, "dd if=/dev/urandom of=/root/big bs=1M count=64 2>/dev/null");

    const made = await t.call("CreateCompShareCustomImage", {
      ...Z,
      UHostId: src,
      Name: `docker-img-${RUN}`,
    });
    assert.equal(made.RetCode, 0, JSON.stringify(made));
    const img = String(made.CompShareImageId);
    // The flag is set with the job's acceptance: Stop is refused until the job ends.
    const stop = await t.call("StopCompShareInstance", { ...Z, UHostId: src });
    assert.equal(stop.RetCode, 8044, JSON.stringify(stop));
    const reports = await waitImage(img);
    const last = reports.at(-1) as Record<string, unknown>;
    assert.deepEqual([last.Status, last.Process, last.RemainingDuration], ["Available", 100, "0"]);
    assert.ok(
      reports.slice(0, -1).every((p) => (p.Process as number) < 100),
      "never 100 before it is done",
    );
    const listed = (
      (await t.call("DescribeCompShareCustomImages", { ...Z, CompShareImageId: img })).ImageSet as Array<
        Record<string, unknown>
      >
    )[0];
    assert.equal(listed?.Status, "Available");
    assert.ok(
      (listed?.Size as number) >= 64,
      `the image holds the 64 MB written: ${String(listed?.Size)} MB`,
    );
    assert.equal(
      docker(
        "image",
        "inspect",
        "-f",
        '{{index .Config.Labels "opencompshare.image"}}',
        `opencompshare-image:${img}`,
      ),
      img,
    );
    assert.equal(
      docker(
        "image",
        "inspect",
        "-f",
        '{{index .Config.Labels "opencompshare.store"}}',
        `opencompshare-image:${img}`,
      ),
      storeId,
    );
    assert.equal((await t.describeOne(src))?.State, "Running", "the source kept running");

    const from = await t.call("CreateCompShareInstance", createParams({ CompShareImageId: img }));
    assert.equal(from.RetCode, 0, JSON.stringify(from));
    const child = (from.UHostIds as string[])[0] as string;
    const c = await t.waitState(child, "Running", 30_000);
    assert.equal(sh(child, "cat /root/hello.txt"), "hello-from-source");
    assert.equal(sh(child, `test -e /mnt/${disk}/data.txt && echo there || echo absent`), "absent");
    assert.deepEqual([c.CompShareImageType, c.BasicImageId], ["Custom", "compshareImage-ubuntu2204"]);
    // The child's own container is not taken for the image (its label is emptied).
    assert.equal(
      docker("inspect", "-f", '{{index .Config.Labels "opencompshare.image"}}', `ocs-${child}`),
      "",
    );

    // The source stops now that its image is made (its GPU is the other account's instance's).
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: src })).RetCode, 0);
    await t.waitState(src, "Stopped", 30_000);
    // Shared with another account, who starts an instance from it: the file is there too.
    const bob = await t.server.services.accounts.createAccount(`docker-bob-${RUN}`);
    const share = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: img,
      AddAccounts: [bob.account.number],
    });
    assert.deepEqual(share.InvalidAccounts, []);
    const theirs = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: img }),
      bob.keyPair,
    );
    assert.equal(theirs.RetCode, 0, JSON.stringify(theirs));
    const bobs = (theirs.UHostIds as string[])[0] as string;
    await eventually(
      async () => {
        const r = await t.call(
          "DescribeCompShareInstance",
          { Region: "cn-wlcb", UHostIds: [bobs] },
          bob.keyPair,
        );
        return (r.UHostSet as Array<{ State: string }>)[0]?.State === "Running";
      },
      30_000,
      "the other account's instance to run",
    );
    assert.equal(sh(bobs, "cat /root/hello.txt"), "hello-from-source");

    // Deleted while the children run from it: untagged at once, kept while they need it.
    const base = docker("inspect", "-f", "{{.Image}}", `ocs-${child}`);
    assert.equal((await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: img })).RetCode, 0);
    await t.server.internals.worker.drain();
    assert.equal(exists(`opencompshare-image:${img}`), false, "the tag is gone");
    assert.equal(exists(base), true, "the image stays while the child uses it");
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: child })).RetCode, 0);
    await t.waitState(child, "Stopped", 30_000);
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: child })).RetCode, 0);
    await t.waitState(child, "Running", 30_000);
    assert.equal(sh(child, "cat /root/hello.txt"), "hello-from-source", "the child keeps working");
    // When the children go, so does the image they were the last users of.
    await t.call("StopCompShareInstance", { ...Z, UHostId: child });
    await t.waitState(child, "Stopped", 30_000);
    assert.equal((await t.call("TerminateCompShareInstance", { ...Z, UHostId: child })).RetCode, 0);
    await t.server.internals.worker.drain();
    assert.equal(exists(base), true, "another account's instance still uses it");
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: bobs }, bob.keyPair)).RetCode, 0);
    await t.server.internals.worker.drain();
    assert.equal(
      (await t.call("TerminateCompShareInstance", { ...Z, UHostId: bobs }, bob.keyPair)).RetCode,
      0,
    );
    await t.server.internals.worker.drain();
    assert.equal(exists(base), false, "removed with its last container");
  });

  it("an image of an unused instance is removed at once when deleted", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    const id = (r.UHostIds as string[])[0] as string;
    await t.waitState(id, "Running", 30_000);
    const made = await t.call("CreateCompShareCustomImage", {
      ...Z,
      UHostId: id,
      Name: `docker-img2-${RUN}`,
    });
    const img = String(made.CompShareImageId);
    await waitImage(img);
    const sha = docker("image", "inspect", "-f", "{{.Id}}", `opencompshare-image:${img}`);
    assert.equal((await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: img })).RetCode, 0);
    await t.server.internals.worker.drain();
    assert.equal(exists(sha), false);
    assert.equal(exists(IMAGE as string), true, "the platform image stays");
  });
});
