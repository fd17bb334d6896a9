import assert from "node:assert/strict";
import type { InstanceFixture } from "../instances/fixtures.test-support.js";
import { Z } from "../instances/fixtures.test-support.js";

/** Key pair of an account other than root (sharing tests). */
export type Keys = { publicKey: string; privateKey: string };

let names = 0;
/** A fresh, valid image name. */
export const imageName = () => `img-${++names}`;

/**
 * Starts an image job of `uhostId`; returns the image id. The sim's capture takes 1 s of the
 * emulator's clock per GB of system disk (50 GB here), so the job stays Making until the clock
 * moves (see {@link finishJobs}).
 */
export async function makeImage(
  fx: InstanceFixture,
  uhostId: string,
  extra: Record<string, string> = {},
  keys?: Keys,
): Promise<string> {
  const r = await fx.t.call(
    "CreateCompShareCustomImage",
    { ...Z, UHostId: uhostId, Name: imageName(), ...extra },
    keys,
  );
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  return String(r.CompShareImageId);
}

/** Moves the emulator's clock past every capture in flight and waits for their jobs to end. */
export async function finishJobs(fx: InstanceFixture): Promise<void> {
  fx.t.server.internals.clock.advance(3600_000);
  await fx.settle();
}

/** The image as DescribeCompShareCustomImages shows it to its owner (undefined when not listed). */
export async function customImage(
  fx: InstanceFixture,
  id: string,
  keys?: Keys,
): Promise<Record<string, unknown> | undefined> {
  const r = await fx.t.call("DescribeCompShareCustomImages", { ...Z, CompShareImageId: id }, keys);
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  return (r.ImageSet as Array<Record<string, unknown>>)[0];
}

/** A running instance and an Available image of it. */
export async function availableImage(fx: InstanceFixture): Promise<{ instance: string; image: string }> {
  const instance = await fx.running();
  const image = await makeImage(fx, instance);
  await finishJobs(fx);
  assert.equal((await customImage(fx, image))?.Status, "Available");
  return { instance, image };
}

/** Polls until the job's progress report passes `percent` (the sim reports as its clock moves). */
export async function progressPast(
  fx: InstanceFixture,
  id: string,
  percent: number,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const p = await fx.t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: id });
    assert.equal(p.RetCode, 0, JSON.stringify(p));
    if ((p.Process as number) > percent) return p;
    if (Date.now() > deadline) throw new Error(`progress of ${id} stayed at ${String(p.Process)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A second account and its key pair, with its account number. */
export async function otherAccount(
  fx: InstanceFixture,
  name: string,
): Promise<{ keys: Keys; number: number; name: string }> {
  const a = await fx.t.server.services.accounts.createAccount(`${name}-${Date.now()}-${names++}`);
  return { keys: a.keyPair, number: a.account.number, name: a.account.name };
}
