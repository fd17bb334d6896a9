// `npm test`: the whole suite on a fresh clone. Checks prerequisites, lints, builds, installs the
// conformance toolchains (official Python and Go SDKs and the official CompShare CLI from their
// registries) into ./.test-deps, starts PostgreSQL and the Docker Engine, builds the test
// Kubernetes control plane (cached outside the repository), then runs every compiled *.test.js
// with Node's test runner.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureChromium } from "./chromium.mjs";
import { ensureDocker } from "./docker.mjs";
import { ensureKubernetesBuilt } from "./k8s.mjs";
import { startPostgres } from "./postgres.mjs";

const root = resolve(import.meta.dirname, "..");
const deps = join(root, ".test-deps");
const CI = process.env.CI === "true";
const PY_SDK = "ucloud-sdk-python3==0.11.150";

function step(name) {
  process.stdout.write(`\n== ${name}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(" ")} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** A toolchain that cannot be set up: fatal in CI, a loud skip elsewhere. */
function unavailable(what, why) {
  const msg = `${what} unavailable: ${why}`;
  if (CI) {
    console.error(`${msg}\nCI=true: nothing may be skipped.`);
    process.exit(1);
  }
  console.error(`\n!!!!!!!!!!\n!! ${msg}\n!! The tests that need ${what} will be SKIPPED.\n!!!!!!!!!!\n`);
}

step("prerequisites");
run(process.execPath, ["scripts/check-prereqs.mjs"]);

step("lint (biome)");
run(process.execPath, [join(root, "node_modules/@biomejs/biome/bin/biome"), "check", "."]);

step("build (tsc)");
rmSync(join(root, "dist"), { recursive: true, force: true });
run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);

step("build the web console (vite)");
run(process.execPath, [join(root, "scripts/build-console.mjs")]);

step("conformance toolchains");
mkdirSync(deps, { recursive: true });
const env = { ...process.env };
const venv = join(deps, "py");
const python = join(venv, "bin", "python");
if (!has("python3")) unavailable("Python SDK", "python3 is not installed");
else {
  try {
    if (!existsSync(python)) execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
    const installed = spawnSync(python, ["-c", "import ucloud.client"], { stdio: "ignore" }).status === 0;
    if (!installed)
      execFileSync(python, ["-m", "pip", "install", "-q", "--disable-pip-version-check", PY_SDK], {
        stdio: "inherit",
      });
    env.OCS_TEST_PYTHON = python;
    console.log(`python SDK: ${PY_SDK} in ${venv}`);
  } catch (e) {
    unavailable("Python SDK", e.message);
  }
}
// The official CompShare CLI in a virtualenv of its own, every package pinned (constraints.txt):
// its dependencies (typer, rich, …) stay out of the SDK's environment.
const cliVenv = join(deps, "cli");
const cliPython = join(cliVenv, "bin", "python");
const cliConstraints = join(root, "test", "conformance", "cli", "constraints.txt");
const CLI_PIN = readFileSync(cliConstraints, "utf8").match(/^compshare-cli==\S+$/m)?.[0];
if (!has("python3")) unavailable("official CLI", "python3 is not installed");
else {
  try {
    if (!existsSync(cliPython)) execFileSync("python3", ["-m", "venv", cliVenv], { stdio: "inherit" });
    const version = spawnSync(cliPython, ["-c", "import compshare_cli; print(compshare_cli.__version__)"], {
      encoding: "utf8",
    });
    if (version.status !== 0 || `compshare-cli==${version.stdout.trim()}` !== CLI_PIN)
      execFileSync(
        cliPython,
        ["-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", cliConstraints, CLI_PIN],
        { stdio: "inherit" },
      );
    env.OCS_TEST_COMPSHARE_CLI = cliPython;
    console.log(`official CLI: ${CLI_PIN} in ${cliVenv}`);
  } catch (e) {
    unavailable("official CLI", e.message);
  }
}
const goBin = join(deps, "conformance-go");
if (!has("go")) unavailable("Go SDK", "go is not installed");
else {
  try {
    execFileSync("go", ["build", "-o", goBin, "."], {
      cwd: join(root, "test/conformance/go"),
      stdio: "inherit",
      env: { ...process.env, GOFLAGS: "-mod=mod" },
    });
    env.OCS_TEST_GO = goBin;
    console.log(`go SDK: built ${goBin}`);
  } catch (e) {
    unavailable("Go SDK", e.message);
  }
}

step("PostgreSQL");
let postgres;
try {
  postgres = await startPostgres();
  env.OCS_TEST_PG_URL = postgres.url;
  console.log(`PostgreSQL for this run: ${postgres.url}`);
} catch (e) {
  unavailable("PostgreSQL", e.message);
}

step("Docker Engine");
try {
  const docker = await ensureDocker();
  env.OCS_TEST_DOCKER_IMAGE = docker.image;
  console.log(`Docker Engine at ${docker.socket}, test image ${docker.image}`);
} catch (e) {
  unavailable("Docker Engine", e.message);
}

step("Kubernetes control plane");
try {
  // Built from source once (~8 min on 2 cores), cached outside the repository; each Kubernetes
  // suite starts a cluster of its own from these binaries (~5 s).
  const bin = await ensureKubernetesBuilt();
  env.OCS_TEST_K8S = bin;
  console.log(`Kubernetes control plane binaries in ${bin}`);
} catch (e) {
  unavailable("Kubernetes control plane", e.message);
}

step("Chromium (console browser tests)");
try {
  const chromium = ensureChromium();
  env.OCS_TEST_CHROMIUM = chromium.path;
  console.log(`${chromium.version} at ${chromium.path}`);
} catch (e) {
  unavailable("Chromium", e.message);
}

step("tests");
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.js")) files.push(p);
  }
};
walk(join(root, "dist"));
files.sort();
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...selected], {
  cwd: root,
  stdio: "inherit",
  env,
});
await postgres?.stop();
if (result.status !== 0) {
  console.error(`\ntests failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}
