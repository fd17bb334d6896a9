import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import {
  availableImage,
  customImage,
  finishJobs,
  imageName,
  makeImage,
  otherAccount,
} from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("UpdateCompShareImage", () => {
  it("changes name, description, tags and softwares (a JSON string) and the framework", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    const name = imageName();
    const r = await t.call("UpdateCompShareImage", {
      ...Z,
      CompShareImageId: image,
      Name: name,
      Description: "trained weights inside",
      Tags: ["llm", "pytorch"],
      Softwares: JSON.stringify({ Application: ["jupyter"], CUDAVersion: "12.1", Framework: "PyTorch" }),
    });
    assert.deepEqual(r, { Action: "UpdateCompShareImageResponse", RetCode: 0 });
    const im = await customImage(fx, image);
    assert.deepEqual(
      [im?.Name, im?.Description, im?.Tags, im?.Softwares],
      [
        name,
        "trained weights inside",
        ["llm", "pytorch"],
        { Applications: ["jupyter"], CUDAVersion: "12.1", Framework: "PyTorch", FrameworkVersion: "" },
      ],
    );
    assert.equal(
      (await t.call("UpdateCompShareImage", { ...Z, CompShareImageId: image, Framework: "JAX" })).RetCode,
      0,
    );
    assert.equal(((await customImage(fx, image))?.Softwares as { Framework: string }).Framework, "JAX");
    await fx.stopped(instance);
  });

  it("refuses clearly: a name in use, bad values, community fields, nothing to change, another account's image", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    const taken = imageName();
    await makeImage(fx, instance, { Name: taken });
    await finishJobs(fx);
    const dup = await t.call("UpdateCompShareImage", { ...Z, CompShareImageId: image, Name: taken });
    assert.equal(dup.RetCode, 8071);
    const cases: Array<[Record<string, string | number | string[]>, number, RegExp]> = [
      [{ Name: "bad/name" }, 230, /Params \[Name\]/],
      [{ Tags: ["a", "b", "c", "d"] }, 230, /Params \[Tags\]/],
      [{ Softwares: "not json" }, 230, /Params \[Softwares\] not available: a JSON object/],
      [{ Visibility: 1 }, 230, /Params \[Visibility\]/],
      [{ Price: 1.5 }, 230, /Params \[Price\] not available: community images are not offered/],
      [{ Cover: "aGk=" }, 230, /Params \[Cover\]/],
      [{}, 210, /Missing params/],
    ];
    for (const [params, code, message] of cases) {
      const r = await t.call("UpdateCompShareImage", { ...Z, CompShareImageId: image, ...params });
      assert.equal(r.RetCode, code, `${JSON.stringify(params)}: ${JSON.stringify(r)}`);
      assert.match(String(r.Message), message);
    }
    const stranger = await otherAccount(fx, "upd");
    const theirs = await t.call(
      "UpdateCompShareImage",
      { ...Z, CompShareImageId: image, Name: "x" },
      stranger.keys,
    );
    assert.equal(theirs.RetCode, 8070);
    await fx.stopped(instance);
  });

  it("race: two renames to one name at once, one wins", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    const second = await makeImage(fx, instance);
    await finishJobs(fx);
    const name = imageName();
    const both = await Promise.all(
      [image, second].map((id) => t.call("UpdateCompShareImage", { ...Z, CompShareImageId: id, Name: name })),
    );
    assert.deepEqual(both.map((r) => r.RetCode).sort(), [0, 8071]);
    await fx.stopped(instance);
  });
});
