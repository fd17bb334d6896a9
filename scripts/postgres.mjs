// A throwaway PostgreSQL server for the test run: installed from Debian's packages when missing,
// started on a free port in a temporary directory, removed at the end. Never relies on a server
// left running by hand.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function binDir() {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : undefined;
}

export function ensureInstalled() {
  let bin = binDir();
  if (bin) return bin;
  if (process.getuid?.() !== 0)
    throw new Error("PostgreSQL is not installed and installing it needs root (apt-get install postgresql)");
  console.log("installing PostgreSQL from Debian's packages…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "postgresql"], { stdio: "inherit", env });
  bin = binDir();
  if (!bin)
    throw new Error("apt-get installed postgresql but no server binary was found under /usr/lib/postgresql");
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts a server; returns { url, stop }. As root, it runs as the `postgres` user (it refuses root). */
export async function startPostgres() {
  const bin = ensureInstalled();
  const dir = mkdtempSync(join(tmpdir(), "ocs-pg-"));
  const asRoot = process.getuid?.() === 0;
  const asUser = (cmd, args) => (asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args]);
  if (asRoot) {
    chmodSync(dir, 0o777);
    execFileSync("chown", ["postgres", dir]);
  }
  const data = join(dir, "data");
  const [initCmd, initArgs] = asUser(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "ocs",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "ignore" });
  const port = await freePort();
  const [pgCmd, pgArgs] = asUser(join(bin, "postgres"), [
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=300",
  ]);
  const child = spawn(pgCmd, pgArgs, { stdio: ["ignore", "ignore", "pipe"], detached: false });
  let log = "";
  child.stderr.on("data", (d) => {
    log += String(d);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)], {
      stdio: "ignore",
    });
    if (r.status === 0) break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`PostgreSQL did not start:\n${log}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    url: `postgres://ocs@127.0.0.1:${port}/postgres`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((res) => child.once("exit", res));
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
