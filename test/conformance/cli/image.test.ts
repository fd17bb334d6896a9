import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../helpers.js";
import { createParams, startTestServer } from "../../helpers.js";
import { IMAGE_COMMANDS } from "./commands.js";
import { CompshareCli, needsCli, until } from "./harness.js";

type Obj = Record<string, unknown>;

const Z = ["--region", "cn-wlcb", "--zone", "cn-wlcb-01"];
const SPEC = ["--gpu", "4090", "--cpu", "16", "--memory", "64GiB", "--count", "1", "--charge", "Postpay"];

/**
 * Custom images through the official CLI only (text and --json), each step checked against the
 * server: make one with `image create --wait` (the CLI's wait loop reads Status and Progress),
 * list and show it, change and share it, start instances from it (`instance create --image-source
 * custom`, and `shared` as the account it is shared with), delete it.
 */
describe("official CLI (compshare-cli): custom images", needsCli(), () => {
  let t: TestServer;
  let cli: CompshareCli;
  let src = "";
  let image = "";

  /** The caller's custom images as the server holds them. */
  const serverImages = async (keys?: { publicKey: string; privateKey: string }) =>
    (await t.call("DescribeCompShareCustomImages", { Region: "cn-wlcb", Limit: 100 }, keys))
      .ImageSet as Obj[];

  /**
   * Runs `image create --wait`. The CLI polls every 5 s; once the server has the job, the emulator's
   * clock is moved past it, so the CLI's next poll sees it Available.
   */
  async function createImage(args: string[]): Promise<string> {
    const before = (await serverImages()).length;
    const running = cli.ok(["image", "create", "--instance", src, "--yes", "--wait", ...args]);
    await until(async () => (await serverImages()).length > before);
    t.server.internals.clock.advance(3600_000);
    return running;
  }

  before(async () => {
    t = await startTestServer({ OCS_SIM_LATENCY_MS: "0" });
    cli = new CompshareCli(t, IMAGE_COMMANDS);
    const r = await t.call("CreateCompShareInstance", createParams());
    src = (r.UHostIds as string[])[0] as string;
    await t.waitState(src, "Running");
    await t.call("ModifyCompShareInstanceName", {
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      UHostId: src,
      Name: "src",
    });
  });
  after(async () => {
    cli?.close();
    await t?.close();
  });

  it("image create --wait: the job's progress until Available, text and --json", async () => {
    const out = await createImage(["--name", "cli-image", "--description", "made by the official CLI"]);
    const made = (await serverImages()).find((i) => i.Name === "cli-image") as Obj;
    image = String(made.CompShareImageId);
    assert.match(out, new RegExp(`Waiting for image ${image}: Making \\(\\d+(\\.\\d+)?%\\)`));
    assert.match(out, new RegExp(`Waiting for image ${image}: Available \\(100%\\)`));
    assert.deepEqual([made.Status, made.Description], ["Available", "made by the official CLI"]);

    const before = (await serverImages()).length;
    const json = cli.json<{ operation: Obj; final: Obj }>([
      "image",
      "create",
      "--instance",
      src,
      "--name",
      "cli-image-json",
      "--yes",
      "--wait",
    ]);
    await until(async () => (await serverImages()).length > before);
    t.server.internals.clock.advance(3600_000);
    const done = await json;
    assert.match(String(done.operation.CompShareImageId), /^compshareImage-/);
    assert.deepEqual([done.final.Status, done.final.Progress, done.final.Process], ["Available", 100, 100]);
  });

  it("image progress, list --source custom, show --source custom (and show by id alone)", async () => {
    const progress = await cli.json<Obj>(["image", "progress", image, "--region", "cn-wlcb"]);
    assert.match(JSON.stringify(progress), /"Process":100/);
    assert.match(
      await cli.ok(["image", "list", "--source", "custom"]),
      new RegExp(`${image}\\s+cli-image\\s+Custom\\s+root\\s+Available`),
    );
    const list = await cli.json<{ items: Obj[] }>(["image", "list", "--source", "custom"]);
    assert.deepEqual(
      list.items.map((i) => i.Name),
      ["cli-image-json", "cli-image"],
    );
    assert.match(await cli.ok(["image", "show", image, "--source", "custom"]), /STATUS\s+Available/);
    const shown = await cli.json<{ image: Obj }>(["image", "show", image, "--source", "custom"]);
    assert.equal(shown.image.Description, "made by the official CLI");
    // Without --source the CLI asks the platform list by id, which finds the caller's own image too.
    assert.match(await cli.ok(["image", "show", image]), /TYPE\s+Custom/);
  });

  it("image update: name, description and tags", async () => {
    await cli.ok([
      "image",
      "update",
      image,
      "--region",
      "cn-wlcb",
      "--name",
      "cli-image-2",
      "--description",
      "renamed by the CLI",
      "--tag",
      "cli,llm",
    ]);
    const im = (await serverImages()).find((i) => i.CompShareImageId === image) as Obj;
    assert.deepEqual(
      [im.Name, im.Description, im.Tags],
      ["cli-image-2", "renamed by the CLI", ["cli", "llm"]],
    );
    const refused = await cli.run([
      "--json",
      "image",
      "update",
      image,
      "--region",
      "cn-wlcb",
      "--price",
      "2",
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout, /community images are not offered/);
  });

  it("instance create --image-source custom starts from the image", async () => {
    const created = await cli.json<Obj>([
      "instance",
      "create",
      ...Z,
      ...SPEC,
      "--image-source",
      "custom",
      "--image",
      image,
      "--name",
      "from-image",
      "--yes",
      "--wait",
    ]);
    const id = String(JSON.stringify(created).match(/uhost-[a-z0-9]{8}/)?.[0]);
    const u = (await t.describeOne(id)) as Obj;
    assert.deepEqual([u.State, u.CompShareImageId, u.CompShareImageType], ["Running", image, "Custom"]);
    assert.equal(t.server.internals.sim?.instances.get(id)?.image, `sim-image:${image}`);
  });

  it("image share / shares / unshare by account number; the receiver lists it and creates from it", async () => {
    const bob = await t.server.services.accounts.createAccount(`cli-bob-${Date.now()}`);
    const number = String(bob.account.number);
    assert.match(await cli.ok(["image", "share", image, number, "--region", "cn-wlcb"]), /Shared image/);
    assert.match(
      await cli.ok(["image", "shares", image, "--region", "cn-wlcb"]),
      new RegExp(`${number}\\s+${bob.account.name}`),
    );
    const bobCli = new CompshareCli(t, IMAGE_COMMANDS, bob.keyPair);
    try {
      const shared = await bobCli.json<{ items: Obj[] }>(["image", "list", "--source", "shared"]);
      assert.deepEqual(
        shared.items.map((i) => i.CompShareImageId),
        [image],
      );
      const made = await bobCli.json<Obj>([
        "instance",
        "create",
        ...Z,
        ...SPEC,
        "--image-source",
        "shared",
        "--image",
        image,
        "--yes",
        "--wait",
      ]);
      assert.match(JSON.stringify(made), /uhost-[a-z0-9]{8}/);
    } finally {
      bobCli.close();
    }
    await cli.ok(["image", "unshare", image, number, "--region", "cn-wlcb", "--yes"]);
    assert.deepEqual(
      (await t.call("DescribeCompShareImageShareAccounts", { Region: "cn-wlcb", CompShareImageId: image }))
        .AccountSet,
      [],
    );
  });

  it("image delete: gone from the lists; the instance made from it keeps running", async () => {
    assert.match(await cli.ok(["image", "delete", image, "--region", "cn-wlcb", "--yes"]), /Deleted image/);
    assert.equal(
      (await serverImages()).some((i) => i.CompShareImageId === image),
      false,
    );
    const again = await cli.run(["--json", "image", "progress", image, "--region", "cn-wlcb"]);
    assert.notEqual(again.code, 0);
    assert.match(again.stdout, new RegExp(`CompShareImageId ${image} not found`));
    const list = await cli.json<{ items: Obj[] }>(["instance", "list"]);
    assert.ok(list.items.some((i) => i.Name === "from-image" && i.State === "Running"));
  });

  it("ran every command it claims", () => {
    cli.assertAllRan();
  });
});
