import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Db } from "../src/store/db.js";
import { SqliteDb } from "../src/store/db.js";
import { PgDb } from "../src/store/pg.js";
import { dockerCatalog } from "./docker-fixtures.js";
import { assertSettled, createParams, createPgDatabase, pgSkip } from "./helpers.js";
import type { ServerProcess } from "./processes.js";
import { bigCatalogFile, eventually, startProcess } from "./processes.js";

type Obj = Record<string, unknown>;
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

async function images(p: ServerProcess): Promise<Obj[]> {
  const r = await p.call("DescribeCompShareCustomImages", { ...Z, Limit: 100 });
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  return r.ImageSet as Obj[];
}

async function running(p: ServerProcess, n: number, extra: Obj = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await p.call("CreateCompShareInstance", createParams(extra as never));
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    ids.push((r.UHostIds as string[])[0] as string);
  }
  await eventually(
    async () => {
      const r = await p.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: ids });
      return (r.UHostSet as Obj[]).every((u) => u.State === "Running");
    },
    60_000,
    "instances to run",
  );
  return ids;
}

/** After the restart: every image ended, every source unflagged and usable, the store settled. */
async function assertEnded(p: ServerProcess, db: Db, sources: string[]): Promise<void> {
  const flagged = await db.all("SELECT id FROM instances WHERE making_image = 1");
  assert.deepEqual(flagged, [], "no instance left flagged");
  assert.deepEqual(await db.all("SELECT id FROM tasks WHERE kind = 'image'"), [], "no job left behind");
  for (const id of sources) {
    const r = await p.call("StopCompShareInstance", { ...Z, UHostId: id });
    assert.equal(r.RetCode, 0, `${id} stops again: ${JSON.stringify(r)}`);
  }
  await eventually(
    async () => {
      const r = await p.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: sources });
      return (r.UHostSet as Obj[]).every((u) => u.State === "Stopped");
    },
    30_000,
    "sources to stop",
  );
  await assertSettled(db);
}

/**
 * kill -9 with image jobs in flight (the simulator's captures take emulated time, so they are
 * caught half-way): after the restart every job runs to its end, Available, the instances
 * unflagged and usable, nothing stuck.
 */
async function simScenario(env: Record<string, string>, openDb: () => Db): Promise<void> {
  const p = await startProcess({ ...env, OCS_SIM_LATENCY_MS: "0" });
  let sources: string[] = [];
  const made: string[] = [];
  try {
    sources = await running(p, 12);
    for (const id of sources) {
      const r = await p.call("CreateCompShareCustomImage", { ...Z, UHostId: id, Name: `crash-${id}` });
      assert.equal(r.RetCode, 0, JSON.stringify(r));
      made.push(String(r.CompShareImageId));
    }
    // Half of the emulated 50 s each: every job is in the middle of its capture.
    await p.call("EmulatorAdvanceClock", { Seconds: 25 });
    await eventually(
      async () => (await images(p)).every((i) => i.Status === "Making"),
      10_000,
      "jobs to be running",
    );
    await eventually(
      async () => {
        const all = await Promise.all(
          made.map((id) => p.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: id })),
        );
        return all.every((r) => (r.Process as number) >= 40);
      },
      10_000,
      "every job half-way",
    );
  } finally {
    await p.kill("SIGKILL");
  }

  const again = await startProcess({ ...env, OCS_SIM_LATENCY_MS: "0" });
  try {
    // The restarted emulator's clock starts over: moving it finishes the resumed captures.
    await again.call("EmulatorAdvanceClock", { Seconds: 3600 });
    await eventually(
      async () => (await images(again)).every((i) => i.Status === "Available"),
      60_000,
      "every image to be Available",
    );
    assert.deepEqual((await images(again)).map((i) => i.CompShareImageId).sort(), [...made].sort());
    const db = openDb();
    try {
      await assertEnded(again, db, sources);
    } finally {
      await db.close();
    }
    // And the images are usable.
    const from = await again.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: made[0] as string }),
    );
    assert.equal(from.RetCode, 0, JSON.stringify(from));
  } finally {
    await again.kill();
  }
}

describe("kill -9 with image jobs in flight", { timeout: 300_000 }, () => {
  it("SQLite: every job ends Available, no instance stays flagged, nothing is stuck", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-img-crash-"));
    await simScenario(
      { OCS_DATA_DIR: dataDir, OCS_CATALOG: bigCatalogFile(2) },
      () => new SqliteDb(join(dataDir, "ocs.sqlite")),
    );
  });

  it("PostgreSQL: the same, once the dead replica's claims expire", pgSkip(), async () => {
    const url = (await createPgDatabase()) as string;
    await simScenario(
      {
        OCS_DATABASE_URL: url,
        OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-img-crash-")),
        OCS_CATALOG: bigCatalogFile(2),
        OCS_WORKER_CLAIM_SECONDS: "2",
      },
      () => new PgDb(url),
    );
  });

  const IMAGE = process.env.OCS_TEST_DOCKER_IMAGE;
  it(
    "docker: a commit cut short by kill -9 ends as one image, nothing leaked in the engine",
    IMAGE ? {} : { skip: "Docker Engine not available (see npm test output)" },
    async () => {
      const docker = (...args: string[]) =>
        execFileSync("docker", args, { encoding: "utf8", stdio: "pipe" }).trim();
      const dataDir = mkdtempSync(join(tmpdir(), "ocs-img-crash-docker-"));
      const env = {
        OCS_DRIVER: "docker",
        OCS_DOCKER_GPU_MODE: "none",
        OCS_DOCKER_NETWORK: "none",
        OCS_CATALOG: dockerCatalog(IMAGE as string),
        OCS_DATA_DIR: dataDir,
      };
      const p = await startProcess(env);
      let storeId = "";
      let src = "";
      let img = "";
      try {
        [src] = (await running(p, 1)) as [string];
        // Enough to commit that the job is caught in the middle (about a second on an SSD).
        docker(
          "exec",
          `ocs-${src}`,
          "sh",
          "-c",
          "dd if=/dev/urandom of=/root/big bs=1M count=256 2>/dev/null",
        );
        const r = await p.call("CreateCompShareCustomImage", { ...Z, UHostId: src, Name: "crash-docker" });
        assert.equal(r.RetCode, 0, JSON.stringify(r));
        img = String(r.CompShareImageId);
        await eventually(
          async () => {
            const pr = await p.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: img });
            return pr.Status !== "Making" || Number(pr.TotalDuration) > 0;
          },
          20_000,
          "the commit to start",
        );
      } finally {
        await p.kill("SIGKILL");
      }
      const db = new SqliteDb(join(dataDir, "ocs.sqlite"));
      storeId = String((await db.all("SELECT value FROM store_meta"))[0]?.value);
      const again = await startProcess(env);
      try {
        await eventually(
          async () => (await images(again))[0]?.Status === "Available",
          60_000,
          "the image to be Available",
        );
        const ours = docker(
          "images",
          "-a",
          "--filter",
          `label=opencompshare.store=${storeId}`,
          "--filter",
          `label=opencompshare.image=${img}`,
          "--format",
          "{{.ID}} {{.Repository}}:{{.Tag}}",
        )
          .split("\n")
          .filter(Boolean);
        assert.equal(ours.length, 1, `one image, tagged: ${ours.join(", ")}`);
        assert.match(ours[0] as string, new RegExp(`opencompshare-image:${img}$`));
        await assertEnded(again, db, [src]);
      } finally {
        await again.kill();
        await db.close();
        const label = `label=opencompshare.store=${storeId}`;
        const ids = docker("ps", "-aq", "--filter", label).split("\n").filter(Boolean);
        if (ids.length) docker("rm", "-f", ...ids);
        const imgs = docker("images", "-aq", "--filter", label).split("\n").filter(Boolean);
        if (imgs.length) docker("rmi", "-f", ...new Set(imgs));
      }
    },
  );
});
