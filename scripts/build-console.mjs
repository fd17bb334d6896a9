// Builds the web console (console/, Preact + Vite) into dist/console after type-checking it; part of
// `npm run build` and of `npm test`, so the server always has a console to serve at /console/.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { build } from "vite";

const root = resolve(import.meta.dirname, "..");
const tsc = spawnSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "console/tsconfig.json")],
  { stdio: "inherit" },
);
if (tsc.status !== 0) {
  console.error("console: type errors (tsc -p console/tsconfig.json)");
  process.exit(1);
}
await build({ configFile: join(root, "console/vite.config.mjs") });
console.log("console: built into dist/console");
