import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { BrowserSession } from "./browser.js";
import { chromiumSkip, openBrowser } from "./browser.js";
import type { TestServer } from "./helpers.js";
import { ROOT, createParams, startTestServer } from "./helpers.js";

/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a real
 * server: every step goes through the page, as a user would, and waits on what the page shows.
 * A failing step leaves a screenshot in test-artifacts/.
 */
describe("the web console in Chromium", { ...chromiumSkip(), timeout: 180_000 }, () => {
  let t: TestServer;
  let b: BrowserSession;
  let page: Page;
  before(async () => {
    t = await startTestServer();
    b = await openBrowser();
    page = b.page;
  });
  after(async () => {
    await b?.close();
    await t?.close();
  });

  /** Runs one scenario; on failure a screenshot of the page is saved and named in the error. */
  const scenario = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      try {
        await fn();
      } catch (e) {
        const shot = await b.screenshot(`console-${name}`).catch(() => "(no screenshot)");
        throw new Error(`${(e as Error).message}\nscreenshot: ${shot}`, { cause: e });
      }
    });

  const signIn = async (keys = ROOT) => {
    await page.goto(`${t.url}/console/`);
    await page.getByLabel("Public key").fill(keys.publicKey);
    await page.getByLabel("Private key").fill(keys.privateKey);
    await page.getByRole("button", { name: "Sign in" }).click();
  };
  const waitState = (state: string) => page.locator(`.page-head .state[data-state="${state}"]`).waitFor();
  const action = (label: string) =>
    page.locator(".actions li").filter({ has: page.getByRole("button", { name: label, exact: true }) });
  /** Marks the document: if the page reloads, the mark is gone. */
  const markPage = () => page.evaluate(() => Object.assign(window, { __noReload: true }));
  const notReloaded = async () =>
    assert.equal(await page.evaluate(() => (window as { __noReload?: boolean }).__noReload), true);

  scenario("a wrong key is refused with a clear message, and nothing is kept", async () => {
    await signIn({ publicKey: ROOT.publicKey, privateKey: "not-the-private-key" });
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /private key does not match this public key.*RetCode 171/s);
    await signIn({ publicKey: "nobody-knows-this-key", privateKey: "x" });
    await page.getByText("This public key is unknown to the server").waitFor();
    assert.match(await page.getByRole("alert").innerText(), /RetCode 172/);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  });

  scenario("signs in by keyboard; the key pair stays in the tab's session storage", async () => {
    await page.goto(`${t.url}/console/`);
    await page.getByLabel("Public key").focus();
    await page.keyboard.type(ROOT.publicKey);
    await page.keyboard.press("Tab");
    await page.keyboard.type(ROOT.privateKey);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Instances" }).waitFor();
    await page.locator(".live.live").waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
    assert.match(stored, new RegExp(ROOT.privateKey));
    assert.equal(await page.evaluate(() => JSON.stringify({ ...localStorage }).includes("private")), false);
  });

  scenario("create through the wizard, then watch Install → Running without a reload", async () => {
    const sim = t.server.internals.sim;
    assert.ok(sim);
    const create = sim.hold("create");
    try {
      await page.getByRole("link", { name: "Create instance" }).first().click();
      await page.getByRole("heading", { name: "Create an instance" }).waitFor();
      await page.getByRole("radio", { name: /4090\s+NVIDIA GeForce RTX 4090 24GB/ }).check();
      await page.getByRole("radio", { name: /1 × GPU · 16 CPU · 64 GB\s+In stock/ }).check();
      await page.getByRole("radio", { name: /Postpay/ }).check();
      // The live price for the choice, before confirming.
      await page.locator("[data-testid=price]").getByText("¥2.065").waitFor();
      await page.getByLabel("Name (optional)").fill("from-the-wizard");
      await markPage();
      await page.getByRole("button", { name: "Create", exact: true }).click();
      await page.getByRole("heading", { name: /from-the-wizard/ }).waitFor();
      await waitState("Install");
    } finally {
      create.release();
    }
    await waitState("Running");
    await notReloaded();
    await page.locator(".history li[data-kind='operation.finished']").waitFor();
    assert.match(await page.locator("dd", { hasText: "ssh root@" }).innerText(), /ssh root@[\d.]+ -p \d+/);
  });

  scenario("every action shows its rule before the click; stop, then start without GPU", async () => {
    // Running: Terminate is refused with the server's reason, Stop says what it does.
    assert.match(
      await action("Terminate").innerText(),
      /is \[Running\]; TerminateCompShareInstance is allowed only from \[Stopped, Install Fail\]/,
    );
    assert.equal(await action("Terminate").getByRole("button").isDisabled(), true);
    assert.match(await action("Stop").innerText(), /Releases the GPUs/);
    await markPage();
    await action("Stop").getByRole("button").click();
    await waitState("Stopped");
    assert.match(
      await action("Start without GPU").innerText(),
      /Runs with 2 CPU and 8 GB memory at the no-GPU price/,
    );
    await action("Start without GPU").getByRole("button").click();
    await waitState("Running");
    await page.locator("dd", { hasText: "(no GPU)" }).waitFor();
    await notReloaded();
  });

  scenario("schedule a stop, and see it fire after the emulator's clock moves", async () => {
    await action("Schedule stop").getByRole("button").click();
    const dialog = page.getByRole("dialog", { name: "Schedule stop" });
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await page.locator("[data-testid=scheduled-stop]", { hasText: /in (1h|60m|59m)/ }).waitFor();
    const at = page.url();
    // The operator's emulator page, in the same tab: two hours pass on the server clock.
    await page.getByRole("link", { name: "Emulator" }).click();
    await page.getByLabel("Advance the clock (seconds)").fill("7200");
    await page.getByRole("button", { name: "Advance the clock" }).click();
    await page.getByText("EmulatorAdvanceClock accepted").waitFor();
    await page.goto(at);
    await waitState("Stopped");
    await page.locator(".history li[data-kind='schedule.fired']").waitFor();
    assert.equal(await page.locator("[data-testid=scheduled-stop]").innerText(), "none");
  });

  scenario("terminate into the recycle bin, then recover", async () => {
    await action("Terminate").getByRole("button").click();
    const dialog = page.getByRole("dialog", { name: "Terminate" });
    await dialog.getByText(/goes to the recycle bin/).waitFor();
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await page.getByRole("button", { name: "Recover" }).waitFor();
    await page.getByRole("link", { name: "Recycle bin" }).click();
    const row = page.locator("tr", { hasText: "from-the-wizard" });
    await row.waitFor();
    await row.getByRole("button", { name: "Recover" }).click();
    await page.getByText("The recycle bin is empty.").waitFor();
    await page.getByRole("link", { name: "Instances", exact: true }).click();
    await page
      .locator("tr", { hasText: "from-the-wizard" })
      .locator(".state[data-state='Stopped']")
      .waitFor();
  });

  scenario(
    "data disks: add one to a stopped instance, detach it, then delete it from the disks page",
    async () => {
      await page.locator("tr", { hasText: "from-the-wizard" }).getByRole("link").click();
      await waitState("Stopped");
      await markPage();
      await page.getByRole("button", { name: "Add a data disk" }).click();
      const add = page.getByRole("dialog", { name: "Add a data disk" });
      await add.getByLabel("Name").fill("datasets");
      await add.getByLabel("Size (GB)").fill("200");
      await add.getByRole("button", { name: "Confirm" }).click();
      const row = page.locator(".instance-disks tr", { hasText: "/dev/vdb" });
      await row.getByText("200").waitFor();
      await row.getByRole("button", { name: "Detach" }).click();
      await page.getByRole("dialog", { name: "Detach" }).getByRole("button", { name: "Confirm" }).click();
      await row.waitFor({ state: "detached" });
      await notReloaded();
      await page.getByRole("link", { name: "Data disks" }).click();
      const disk = page.locator("tr[data-disk]", { hasText: "datasets" });
      await disk.getByText("Available").waitFor();
      await disk.getByRole("button", { name: "Delete" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
      await disk.waitFor({ state: "detached" });
      await page.getByRole("link", { name: "Instances", exact: true }).click();
    },
  );

  scenario("make a custom image with its progress, then create an instance from it", async () => {
    await page.locator("tr", { hasText: "from-the-wizard" }).getByRole("link").click();
    await waitState("Stopped");
    await action("Make a custom image").getByRole("button").click();
    const dialog = page.getByRole("dialog", { name: "Make a custom image" });
    await dialog.getByLabel("Name").fill("wizard-image");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    // While it is made, a second one is refused before the click, with the server's reason.
    await action("Make a custom image")
      .getByText(/has a custom image being made/)
      .waitFor();
    await page.getByRole("link", { name: "Custom images" }).click();
    const row = page.locator("tr", { hasText: "wizard-image" });
    await row.locator("progress").waitFor();
    await markPage();
    // The sim copies 1 GB a second of its clock: two minutes on, the 50 GB disk is done.
    assert.equal((await t.call("EmulatorAdvanceClock", { Seconds: 120 })).RetCode, 0);
    await row.getByText("Available").waitFor();
    await notReloaded();
    await row.getByRole("link", { name: "Create an instance" }).click();
    await page.getByRole("button", { name: "My images", pressed: true }).waitFor();
    assert.equal(await page.getByRole("radio", { name: /wizard-image/ }).isChecked(), true);
    await page.getByLabel("Name (optional)").fill("from-my-image");
    await page.locator("[data-testid=price]").getByText("¥").waitFor();
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("heading", { name: /from-my-image/ }).waitFor();
    await waitState("Running");
    await page.locator("dd", { hasText: "wizard-image" }).waitFor();
    await page.getByRole("link", { name: "Instances", exact: true }).click();
  });

  scenario("the list follows changes made elsewhere, and the GPU map shows who holds which GPU", async () => {
    await markPage();
    const r = await t.call("CreateCompShareInstance", createParams({ Name: "made-by-the-api" }));
    const id = (r.UHostIds as string[])[0] as string;
    await page.locator(`tr[data-id='${id}'] .state[data-state='Running']`).waitFor();
    await notReloaded();
    await page.getByRole("link", { name: "Hosts & GPUs" }).click();
    const seat = page.locator(`.gpu[data-holder='${id}']`);
    await seat.waitFor();
    assert.match(await seat.innerText(), /made-by-the-api[\s\S]*root[\s\S]*Running/);
    // Stopped elsewhere: its GPU frees on the map without a reload.
    assert.equal(
      (await t.call("StopCompShareInstance", { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: id })).RetCode,
      0,
    );
    await seat.waitFor({ state: "detached" });
    await notReloaded();
  });

  scenario("Chinese labels, and a narrow window without sideways scrolling", async () => {
    await page.getByRole("button", { name: "中文" }).click();
    await page.getByRole("link", { name: "实例", exact: true }).waitFor();
    await page.getByRole("link", { name: "实例", exact: true }).click();
    await page.getByRole("heading", { name: "实例" }).waitFor();
    await page.locator(".state", { hasText: "已关机" }).first().waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok((await overflow()) <= 0, `the list is ${await overflow()}px wider than a 390px window`);
    await page.locator("tr[data-id]").first().getByRole("link").click();
    await page.locator(".history li").first().waitFor();
    assert.ok(
      (await overflow()) <= 0,
      `the instance page is ${await overflow()}px wider than a 390px window`,
    );
    await page.getByRole("link", { name: "实例", exact: true }).click();
    await page.getByRole("button", { name: "English" }).click();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("heading", { name: "Instances" }).waitFor();
  });

  scenario("an operator creates an account whose key pair signs in at once", async () => {
    await page.getByRole("link", { name: "Accounts" }).click();
    await page.getByRole("button", { name: "New account" }).click();
    await page.getByRole("dialog").getByLabel("Account name").fill("lab-user");
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    const pub = await page.locator("[data-testid=new-public-key]").innerText();
    const priv = await page.locator("[data-testid=new-private-key]").innerText();
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn({ publicKey: pub, privateKey: priv });
    await page.getByText("No instances here yet.").waitFor();
    // Not the operator: no operator pages.
    assert.equal(await page.getByRole("link", { name: "Hosts & GPUs" }).count(), 0);
    // The operator disables that key: it no longer signs in.
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn();
    await page.getByRole("link", { name: "Accounts" }).click();
    const keyRow = page.locator(`li.key[data-key='${pub}']`);
    await keyRow.getByRole("button", { name: "Disable" }).click();
    await keyRow.getByText("disabled").waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn({ publicKey: pub, privateKey: priv });
    await page.getByText("This public key is unknown to the server").waitFor();
  });

  scenario(
    "an operator sets an account's quotas and disables it: its other keys stop signing in too",
    async () => {
      await signIn();
      await page.getByRole("link", { name: "Accounts" }).click();
      const panel = page.getByRole("region", { name: "lab-user" });
      await panel.getByRole("button", { name: "Quotas" }).click();
      await page.getByRole("dialog").getByLabel("GPU quota").fill("3");
      await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
      await panel.getByText("GPU quota 3").waitFor();
      // A second key of the account, still enabled.
      await panel.getByRole("button", { name: "New key" }).click();
      const pub = await page.locator("[data-testid=new-public-key]").innerText();
      const priv = await page.locator("[data-testid=new-private-key]").innerText();
      await page.getByRole("button", { name: "Done" }).click();
      await panel.getByRole("button", { name: "Disable account" }).click();
      await panel.getByRole("button", { name: "Enable account" }).waitFor();
      const accounts = (await t.call("AdminDescribeAccounts")).AccountSet as Array<Record<string, unknown>>;
      const lab = accounts.find((a) => a.Name === "lab-user");
      assert.deepEqual([lab?.Disabled, lab?.GpuQuota], [true, 3]);
      await page.getByRole("button", { name: "Sign out" }).click();
      await signIn({ publicKey: pub, privateKey: priv });
      await page.getByText("This public key is unknown to the server").waitFor();
    },
  );
});
