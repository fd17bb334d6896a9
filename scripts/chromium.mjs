// Chromium for the console's browser tests: Debian's `chromium` package, installed when missing
// (as scripts/docker.mjs installs docker.io). Playwright drives it through playwright-core; its own
// browser downloads cannot be fetched here.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";

/** A CJK font, so the Chinese labels render (and show in screenshots) rather than as boxes. */
const CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

export function ensureChromium() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push("chromium");
  if (!existsSync(CJK_FONT)) missing.push("fonts-noto-cjk");
  if (missing.length) {
    if (process.getuid?.() !== 0)
      throw new Error(
        `${missing.join(", ")} missing and installing needs root (apt-get install ${missing.join(" ")})`,
      );
    console.log(`installing ${missing.join(", ")} from Debian's packages…`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
      stdio: "inherit",
      env,
    });
  }
  const v = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" });
  if (v.status !== 0) throw new Error(`${CHROMIUM} does not run: ${v.stderr || v.error?.message}`);
  return { path: CHROMIUM, version: v.stdout.trim() };
}
