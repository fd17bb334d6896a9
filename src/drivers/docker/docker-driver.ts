import { cpus, totalmem } from "node:os";
import type { Access, Driver, Observed, RuntimeSpec } from "../driver.js";
import { Engine, EngineError } from "./engine.js";
import type { DriverFiles, GpuMode, HostGpu } from "./gpus.js";
import { gpuWiring } from "./gpus.js";

export const LABEL = "opencompshare.instance";
const GPUS_LABEL = "opencompshare.gpus";
const DISK_LABEL = "opencompshare.disk";
/** Keeps a container without its own long-running process alive; exits at once on SIGTERM. */
const KEEPALIVE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1; done"];

export interface DockerOptions {
  socketPath: string;
  gpuMode: GpuMode;
  inventory: HostGpu[];
  files: DriverFiles;
  /** Address users reach published SSH ports on (for SshLoginCommand and IPSet). */
  hostIp: string;
  /** Docker network mode; SSH is published only on `bridge`. */
  network: string;
}

const containerName = (id: string) => `ocs-${id}`;
const volumeName = (diskId: string) => `ocs-${diskId}`;
const snapshotImage = (id: string) => `opencompshare-snapshot:${id}`;

/** Thrown when the image cannot do what was asked (no chpasswd, say); the action reports it. */
export class UnsupportedByImage extends Error {}

/**
 * One instance = one labelled container on the local Docker Engine. System disk = the container's
 * own filesystem (kept across stop/start, erased by reinstall and terminate); each data disk = a
 * named volume (kept on terminate unless released). A container's devices are fixed when it is
 * created, so starting with another set of GPUs commits the filesystem to a snapshot image and
 * recreates the container from it with the new devices.
 */
export class DockerDriver implements Driver {
  readonly name = "docker";
  readonly engine: Engine;

  constructor(readonly opts: DockerOptions) {
    this.engine = new Engine(opts.socketPath);
  }

  async create(spec: RuntimeSpec): Promise<void> {
    if ((await this.inspectContainer(spec.id)) !== undefined) return;
    await this.createContainer(spec, [], spec.image);
  }

  async start(spec: RuntimeSpec, gpus: number[]): Promise<Access | undefined> {
    const want = gpus.join(",");
    const c = await this.inspectContainer(spec.id);
    if (!c) {
      // Removed out of band: its system disk is gone; a fresh one from the image.
      await this.createContainer(spec, gpus, spec.image);
    } else if ((c.Config.Labels[GPUS_LABEL] ?? "") !== want) {
      if (c.State.Running) await this.stop(spec.id);
      const snapshot = snapshotImage(spec.id);
      await this.engine.call(
        "POST",
        `/commit?container=${containerName(spec.id)}&repo=${snapshot.split(":")[0]}&tag=${spec.id}`,
      );
      await this.removeContainer(spec.id);
      await this.createContainer(spec, gpus, snapshot);
    }
    try {
      await this.engine.call("POST", `/containers/${containerName(spec.id)}/start`);
    } catch (e) {
      if (!(e instanceof EngineError && e.status === 304)) throw e;
    }
    return this.access(spec.id);
  }

  async stop(id: string): Promise<void> {
    try {
      await this.engine.call("POST", `/containers/${containerName(id)}/stop?t=10`);
    } catch (e) {
      // 304: already stopped; 404: gone (the reconciler deals with that).
      if (!(e instanceof EngineError && (e.status === 304 || e.status === 404))) throw e;
    }
  }

  async reboot(id: string): Promise<void> {
    await this.engine.call("POST", `/containers/${containerName(id)}/restart?t=10`);
  }

  async reinstall(spec: RuntimeSpec): Promise<void> {
    await this.removeContainer(spec.id);
    await this.removeImage(snapshotImage(spec.id));
    await this.createContainer(spec, [], spec.image);
  }

  async destroy(id: string, opts: { releaseDataDisks: boolean; dataDiskIds: string[] }): Promise<void> {
    await this.removeContainer(id);
    await this.removeImage(snapshotImage(id));
    if (opts.releaseDataDisks) {
      for (const d of opts.dataDiskIds) await this.removeVolume(volumeName(d));
    }
  }

  async inspect(id: string): Promise<Observed> {
    const c = await this.inspectContainer(id);
    return { exists: c !== undefined, running: c?.State.Running ?? false };
  }

  async list(): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [LABEL] }));
    const rows = await this.engine.call<Array<{ Labels: Record<string, string> }>>(
      "GET",
      `/containers/json?all=1&filters=${filters}`,
    );
    return rows.map((r) => r.Labels[LABEL] as string).filter(Boolean);
  }

  /** Data volumes this driver made, by disk id. */
  async volumes(): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [DISK_LABEL] }));
    const r = await this.engine.call<{ Volumes: Array<{ Labels: Record<string, string> }> | null }>(
      "GET",
      `/volumes?filters=${filters}`,
    );
    return (r.Volumes ?? []).map((v) => v.Labels[DISK_LABEL] as string);
  }

  async removeDataVolume(diskId: string): Promise<void> {
    await this.removeVolume(volumeName(diskId));
  }

  /** Sets root's password inside a running container with chpasswd; says so when the image has none. */
  async setPassword(id: string, password: string): Promise<void> {
    const exec = await this.engine.call<{ Id: string }>("POST", `/containers/${containerName(id)}/exec`, {
      Cmd: [
        "sh",
        "-c",
        'command -v chpasswd >/dev/null 2>&1 || exit 127; printf "root:%s\\n" "$OCS_PASSWORD" | chpasswd',
      ],
      Env: [`OCS_PASSWORD=${password}`],
      AttachStdout: true,
      AttachStderr: true,
    });
    await this.engine.call("POST", `/exec/${exec.Id}/start`, { Detach: false, Tty: false }, { raw: true });
    const result = await this.engine.call<{ ExitCode: number }>("GET", `/exec/${exec.Id}/json`);
    if (result.ExitCode === 127)
      throw new UnsupportedByImage(
        "the instance's image has no chpasswd, so its password cannot be set from outside",
      );
    if (result.ExitCode !== 0)
      throw new Error(`chpasswd failed inside the container (exit ${result.ExitCode})`);
  }

  /** Container deaths and removals, for the reconciler. */
  watch(onGone: (id: string, why: string) => void): () => void {
    return this.engine.events({ label: [LABEL], type: ["container"], event: ["die", "destroy"] }, (e) => {
      const id = e.Actor.Attributes[LABEL];
      if (!id) return;
      onGone(
        id,
        e.Action === "destroy"
          ? "container removed outside opencompshare"
          : `container exited (code ${e.Actor.Attributes.exitCode ?? "?"})`,
      );
    });
  }

  // ---------------------------------------------------------------- internals

  private async createContainer(spec: RuntimeSpec, gpus: number[], image: string): Promise<void> {
    for (const d of spec.dataDisks) await this.ensureVolume(spec.id, d.id);
    const wiring = gpuWiring(this.opts.gpuMode, gpus, this.opts.inventory, this.opts.files);
    const bridge = this.opts.network === "bridge";
    // Limits cannot exceed what the host has; the catalog may sell more per instance than one box.
    const nanoCpus = Math.min(spec.cpu, cpus().length) * 1e9;
    const memory = Math.min(spec.memoryMB * 1024 * 1024, totalmem());
    await this.engine.call("POST", `/containers/create?name=${containerName(spec.id)}`, {
      Image: image,
      Cmd: KEEPALIVE,
      Hostname: spec.id.slice(0, 63),
      Labels: { [LABEL]: spec.id, [GPUS_LABEL]: gpus.join(",") },
      Env: wiring.Env,
      ExposedPorts: bridge ? { "22/tcp": {} } : undefined,
      HostConfig: {
        NanoCpus: nanoCpus,
        Memory: memory,
        NetworkMode: this.opts.network,
        PortBindings: bridge ? { "22/tcp": [{ HostIp: "", HostPort: "" }] } : undefined,
        Devices: wiring.Devices,
        DeviceRequests: wiring.DeviceRequests.length ? wiring.DeviceRequests : undefined,
        Binds: wiring.Binds,
        Mounts: spec.dataDisks.map((d) => ({
          Type: "volume",
          Source: volumeName(d.id),
          Target: `/mnt/${d.id}`,
        })),
      },
    });
  }

  private async ensureVolume(instanceId: string, diskId: string): Promise<void> {
    await this.engine.call("POST", "/volumes/create", {
      Name: volumeName(diskId),
      Labels: { [DISK_LABEL]: diskId, [LABEL]: instanceId },
    });
  }

  private async access(id: string): Promise<Access | undefined> {
    const c = await this.inspectContainer(id);
    const port = c?.NetworkSettings?.Ports?.["22/tcp"]?.[0]?.HostPort;
    return port ? { ip: this.opts.hostIp, sshPort: Number(port) } : { ip: this.opts.hostIp, sshPort: 22 };
  }

  private async inspectContainer(id: string) {
    try {
      return await this.engine.call<{
        State: { Running: boolean };
        Config: { Labels: Record<string, string> };
        NetworkSettings?: { Ports?: Record<string, Array<{ HostPort: string }> | null> };
      }>("GET", `/containers/${containerName(id)}/json`);
    } catch (e) {
      if (e instanceof EngineError && e.status === 404) return undefined;
      throw e;
    }
  }

  private async removeContainer(id: string): Promise<void> {
    try {
      await this.engine.call("DELETE", `/containers/${containerName(id)}?force=1`);
    } catch (e) {
      if (!(e instanceof EngineError && e.status === 404)) throw e;
    }
  }

  private async removeImage(ref: string): Promise<void> {
    try {
      await this.engine.call("DELETE", `/images/${encodeURIComponent(ref)}?force=1`);
    } catch (e) {
      if (!(e instanceof EngineError && e.status === 404)) throw e;
    }
  }

  private async removeVolume(name: string): Promise<void> {
    try {
      await this.engine.call("DELETE", `/volumes/${name}?force=1`);
    } catch (e) {
      if (!(e instanceof EngineError && e.status === 404)) throw e;
    }
  }
}
