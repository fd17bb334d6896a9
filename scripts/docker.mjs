// Docker Engine for the test run: Debian's docker.io installed when missing, dockerd started when
// not running (as root, without iptables or a bridge, which sandboxes often lack), and a tiny test
// image built with `docker import` from a busybox rootfs, since no registry can be pulled from.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The tag changes whenever the image does, so a machine with an older build makes the new one.
export const TEST_IMAGE = "local/busybox:4";
const SOCKET = "/var/run/docker.sock";
const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const ping = () =>
  spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { stdio: "ignore", timeout: 10_000 })
    .status === 0;

function aptInstall(pkgs) {
  if (process.getuid?.() !== 0) throw new Error(`${pkgs.join(", ")} missing and installing needs root`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...pkgs], { stdio: "inherit", env });
}

export async function ensureDocker() {
  const missing = [];
  if (!has("dockerd")) missing.push("docker.io");
  if (!existsSync("/bin/busybox")) missing.push("busybox-static");
  if (missing.length) {
    console.log(`installing ${missing.join(", ")} from Debian's packages…`);
    aptInstall(missing);
  }
  if (!ping()) {
    if (process.getuid?.() !== 0) throw new Error("dockerd is not running and starting it needs root");
    const log = openSync(join(tmpdir(), "ocs-dockerd.log"), "a");
    const child = spawn("dockerd", ["--iptables=false", "--bridge=none", "--host", `unix://${SOCKET}`], {
      detached: true,
      stdio: ["ignore", log, log],
    });
    child.unref();
    const deadline = Date.now() + 60_000;
    while (!ping()) {
      if (Date.now() > deadline)
        throw new Error(`dockerd did not start; see ${join(tmpdir(), "ocs-dockerd.log")}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  if (spawnSync("docker", ["image", "inspect", TEST_IMAGE], { stdio: "ignore" }).status !== 0) buildImage();
  return { socket: SOCKET, image: TEST_IMAGE };
}

function buildImage() {
  const root = mkdtempSync(join(tmpdir(), "ocs-rootfs-"));
  for (const d of ["bin", "etc", "tmp", "root", "mnt"]) mkdirSync(join(root, d));
  copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const app of [
    "sh",
    "ls",
    "cat",
    "sleep",
    "echo",
    "printf",
    "mkdir",
    "rm",
    "grep",
    "true",
    "sed",
    "date",
  ]) {
    symlinkSync("busybox", join(root, "bin", app));
  }
  // Debian's busybox has no chpasswd applet; a stand-in writes the password into /etc/shadow in
  // the clear (test-plain$…), so a test can read back exactly what the driver applied.
  // No sed: generated passwords hold any of sed's special characters.
  writeFileSync(
    join(root, "bin", "chpasswd"),
    `#!/bin/sh
while IFS=: read -r user pass; do
  while IFS= read -r line; do
    case "$line" in
      "$user:"*) printf '%s:test-plain$%s:%s\\n' "$user" "$pass" "\${line#*:*:}" ;;
      *) printf '%s\\n' "$line" ;;
    esac
  done < /etc/shadow > /etc/shadow.new
  cat /etc/shadow.new > /etc/shadow
  rm /etc/shadow.new
done
`,
  );
  chmodSync(join(root, "bin", "chpasswd"), 0o755);
  writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(root, "etc", "shadow"), "root:*:19000:0:99999:7:::\n");
  chmodSync(join(root, "etc", "shadow"), 0o600);
  const tar = join(root, "..", `${root.split("/").pop()}.tar`);
  execFileSync("tar", ["-C", root, "-cf", tar, "."]);
  execFileSync("docker", ["import", "--change", 'CMD ["sh"]', tar, TEST_IMAGE], { stdio: "ignore" });
  rmSync(root, { recursive: true, force: true });
  rmSync(tar, { force: true });
}
