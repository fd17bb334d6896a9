import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_CATALOG } from "../src/core/catalog/catalog.js";
import type { Catalog, HostSpec } from "../src/domain/catalog.js";
import type { ParamValue } from "../src/protocol/encode.js";
import { signedForm } from "../src/protocol/encode.js";
import { ROOT } from "./helpers.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "cli", "main.js");

/** A real `ocs serve` process, for tests where the point is several processes or a kill -9. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  call(action: string, params?: Record<string, ParamValue>): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A catalog with `hosts` 8-GPU 4090 hosts in cn-wlcb-01, written to a file for OCS_CATALOG. */
export function bigCatalogFile(hosts: number): string {
  const list: HostSpec[] = Array.from({ length: hosts }, (_, i) => ({
    id: `big-${i}`,
    zone: "cn-wlcb-01",
    gpuType: "4090",
    gpus: 8,
    cpu: 128,
    memoryMB: 524288,
  }));
  const catalog: Catalog = { ...DEFAULT_CATALOG, hosts: list };
  const path = join(mkdtempSync(join(tmpdir(), "ocs-catalog-")), "catalog.json");
  writeFileSync(path, JSON.stringify(catalog));
  return path;
}

export async function startProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN, "serve"], {
    env: {
      ...process.env,
      OCS_PORT: "0",
      OCS_ROOT_PUBLIC_KEY: ROOT.publicKey,
      OCS_ROOT_PRIVATE_KEY: ROOT.privateKey,
      OCS_LOG_LEVEL: "error",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (!url) {
    url = /listening on (http:\/\/[\d.:]+)/.exec(out)?.[1];
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`ocs serve did not start: ${out}\n${err}`);
    if (!url) await new Promise((r) => setTimeout(r, 20));
  }
  const base = url;
  return {
    url: base,
    child,
    async call(action, params = {}) {
      const body = signedForm({ Action: action, ...params }, ROOT.publicKey, ROOT.privateKey);
      const res = await fetch(base, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
      return (await res.json()) as Record<string, unknown>;
    },
    kill(signal = "SIGTERM") {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls until `check` holds or fails after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An `ocs serve` process with what it has written so far (for tests of the banner and signals). */
export interface ServeOutput {
  child: ChildProcess;
  /** The URL of its banner (http or https). */
  url: string;
  out(): string;
  err(): string;
  /** SIGTERM, and the exit. */
  stop(): Promise<void>;
}

/** Starts `ocs serve` with `env` over this process's environment; resolves once its banner is out. */
export async function serveProcess(env: Record<string, string>): Promise<ServeOutput> {
  const child = spawn(process.execPath, [MAIN, "serve"], { env: { ...process.env, OCS_PORT: "0", ...env } });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const deadline = Date.now() + 30_000;
  while (!/listening on[\s\S]*\n\n$/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`ocs serve did not start: ${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    url: /listening on (\S+)/.exec(out)?.[1] as string,
    out: () => out,
    err: () => err,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
