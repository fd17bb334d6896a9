// Takes the README's screenshots from the real console: a throwaway server (sim driver) with a few
// accounts and instances, Debian's Chromium through playwright-core, 1280×800. Run after
// `npm run build`: `node scripts/console-screenshots.mjs` writes docs/console-*.png.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { loadConfig } from "../dist/src/config.js";
import { silentLogger } from "../dist/src/log.js";
import { CompShareClient } from "../dist/src/sdk/index.js";
import { createServer } from "../dist/src/server.js";
import { ensureChromium } from "./chromium.mjs";

const root = resolve(import.meta.dirname, "..");
const out = join(root, "docs");
const ROOT_KEYS = { publicKey: "screenshot-root-public", privateKey: "screenshot-root-private" };
const data = mkdtempSync(join(tmpdir(), "ocs-shots-"));
const server = await createServer(
  loadConfig({
    OCS_PORT: "0",
    OCS_DATA_DIR: data,
    OCS_ROOT_PUBLIC_KEY: ROOT_KEYS.publicKey,
    OCS_ROOT_PRIVATE_KEY: ROOT_KEYS.privateKey,
    OCS_SIM_LATENCY_MS: "0",
  }),
  { log: silentLogger },
);
const { port } = await server.listen();
const base = `http://127.0.0.1:${port}`;
const client = (keys) =>
  new CompShareClient({ baseUrl: base, ...keys, region: "cn-wlcb", zone: "cn-wlcb-01" });
const spec = (gpuType, gpu, extra = {}) => ({
  GpuType: gpuType,
  GPU: gpu,
  CPU: 16 * gpu,
  Memory: 65536 * gpu,
  MachineType: "G",
  CompShareImageId: "compshareImage-cuda124",
  ChargeType: "Postpay",
  Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 100 }],
  ...extra,
});
const settle = () => server.internals.worker.drain();

// A small lab: two users besides the operator, instances in every usual state.
const alice = await server.services.accounts.createAccount("alice");
const lab = await server.services.accounts.createAccount("vision-lab");
// A lab's users hold more than a new account's default GPU quota.
for (const u of [alice, lab]) await server.services.accounts.setQuotas(u.account.id, { gpus: 32 });
const a = client(alice.keyPair);
const l = client(lab.keyPair);
const made = [];
for (const [c, s] of [
  [a, spec("4090", 2, { Name: "llm-finetune" })],
  [a, spec("4090", 1, { Name: "notebook" })],
  [a, spec("4090", 1, { Name: "eval-runner", ChargeType: "Dynamic" })],
  [a, spec("3090", 1, { Name: "data-prep" })],
  [a, spec("A800", 4, { Name: "pretrain-7b", CPU: 64, Memory: 262144 })],
  [l, spec("4090", 4, { Name: "detector-train" })],
  [l, spec("4090", 1, { Name: "labeling-ui" })],
]) {
  made.push((await c.createCompShareInstance(s)).UHostIds[0]);
}
await settle();
const [, notebook, evalRunner, dataPrep] = made;
await a.stopCompShareInstance({ UHostId: notebook });
await a.stopCompShareInstance({ UHostId: dataPrep });
await settle();
await a.startCompShareInstance({ UHostId: notebook, WithoutGpu: true });
await a.updateCompShareStopScheduler({
  UHostId: evalRunner,
  StopTime: Math.floor(Date.now() / 1000) + 3 * 3600,
});
await settle();
// One still installing, so the list shows a transition.
const hold = server.internals.sim.hold("create");
await a.createCompShareInstance(spec("4090", 1, { Name: "sweep-03" }));
await l.createCompShareInstance(spec("5090", 1, { Name: "seg-v2" }));

const { path } = ensureChromium();
const profile = mkdtempSync(join(tmpdir(), "ocs-shots-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: path,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
  ],
  viewport: { width: 1280, height: 800 },
  locale: "en-US",
});
const page = context.pages()[0] ?? (await context.newPage());
const signIn = async (keys) => {
  await page.goto(`${base}/console/`);
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${base}/console/`);
  await page.getByLabel("Public key").fill(keys.publicKey);
  await page.getByLabel("Private key").fill(keys.privateKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".live.live").waitFor();
};
mkdirSync(out, { recursive: true });
const shot = async (name) => {
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(out, `console-${name}.png`) });
  console.log(`docs/console-${name}.png`);
};
try {
  await signIn(alice.keyPair);
  await page.locator("tr[data-id] .state").first().waitFor();
  await shot("instances");
  await page.getByRole("link", { name: "Create instance" }).first().click();
  await page.locator("[data-testid=price]").getByText("¥").waitFor();
  await page.getByRole("radio", { name: /2 × GPU · 32 CPU · 128 GB/ }).check();
  await page.getByLabel("Name (optional)").fill("llm-finetune-2");
  await page.evaluate(() => {
    document.activeElement?.blur();
    scrollTo(0, 0);
  });
  await shot("create");
  await signIn(ROOT_KEYS);
  await page.getByRole("link", { name: "Hosts & GPUs" }).click();
  await page.locator(".gpu.held").first().waitFor();
  await page.getByLabel("Only hosts in use").check();
  await shot("gpu-map");
} finally {
  hold.release();
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await server.close();
  rmSync(data, { recursive: true, force: true });
}
