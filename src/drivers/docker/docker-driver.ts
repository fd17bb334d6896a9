import { cpus, totalmem } from "node:os";
import { UnsupportedByRuntime } from "../../domain/errors.js";
import type {
  Access,
  CaptureProgress,
  CaptureRequest,
  CapturedImage,
  Driver,
  InstanceSample,
  Observed,
  RuntimeSpec,
  SampleTarget,
} from "../driver.js";
import { Engine, unless } from "./engine.js";
import type { DriverFiles, GpuMode, HostGpu } from "./gpus.js";
import { containerEnv, gpuWiring } from "./gpus.js";
import { DockerImages, IMAGE_LABEL } from "./images.js";
import { DockerSampler } from "./stats.js";

export const LABEL = "opencompshare.instance";
const GPUS_LABEL = "opencompshare.gpus";
const DISK_LABEL = "opencompshare.disk";
/** The data disks a container mounts and the ports it publishes: fixed at creation, like its GPUs. */
const DISKS_LABEL = "opencompshare.disks";
const PORTS_LABEL = "opencompshare.ports";
/** The store this install's containers, volumes and snapshots belong to (see store/meta-repo.ts). */
const STORE_LABEL = "opencompshare.store";
/** Keeps a container without its own long-running process alive; exits at once on SIGTERM. */
const KEEPALIVE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1; done"];

export interface DockerOptions {
  socketPath: string;
  gpuMode: GpuMode;
  inventory: HostGpu[];
  files: DriverFiles;
  /** Address users reach published SSH ports on (for SshLoginCommand and IPSet). */
  hostIp: string;
  /** Docker network (`bridge` or a user-defined one); SSH is not published on none/host/container:. */
  network: string;
  /**
   * The store's id: everything this driver makes is labelled with it and it only ever lists, watches
   * or garbage-collects its own, so another install on the same engine (a second server, the GPU
   * smoke script, a test run) never has its containers taken for strays.
   */
  storeId: string;
  /** Layers a snapshot may stack before it is flattened (overlay2 refuses more than 125). */
  maxLayers?: number;
  /** The host's nvidia-smi, for the GPUs' monitoring readings (absent: GPUs are not sampled). */
  nvidiaSmi?: string;
}

/** What a container was created with, as its labels record it; a start with anything else recreates it. */
function wiringLabels(spec: RuntimeSpec, gpus: number[]): Record<string, string> {
  return {
    [GPUS_LABEL]: gpus.join(","),
    [DISKS_LABEL]: spec.dataDisks
      .map((d) => d.id)
      .sort()
      .join(","),
    [PORTS_LABEL]: portKeys(spec).join(","),
  };
}

/** `http/8888`, `tcp/23`: the spec's ports in the keys Access.ports uses. */
function portKeys(spec: RuntimeSpec): string[] {
  return [
    ...(spec.ports?.http ?? []).map((p) => `http/${p}`),
    ...(spec.ports?.tcp ?? []).map((p) => `tcp/${p}`),
  ];
}

/** Whether a container's labels differ from what it would be created with now. */
function rewired(labels: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).some(([k, v]) => (labels[k] ?? "") !== v);
}

/**
 * CPU and memory limits. They cannot exceed what the host has (the catalog may sell more per
 * instance than one box has); swap is not added on top, as a cloud instance has none.
 */
function limits(spec: RuntimeSpec): { NanoCpus: number; Memory: number; MemorySwap: number } {
  const memory = Math.min(spec.memoryMB * 1024 * 1024, totalmem());
  return { NanoCpus: Math.min(spec.cpu, cpus().length) * 1e9, Memory: memory, MemorySwap: memory };
}

/** Networks with no port of their own to publish. */
const publishes = (network: string) =>
  network !== "none" && network !== "host" && !network.startsWith("container:");

const containerName = (id: string) => `ocs-${id}`;

/** The ports a container publishes, read back from its label (a recreate for disks keeps them). */
function portsOf(labels: Record<string, string>): NonNullable<RuntimeSpec["ports"]> {
  const out = { http: [] as number[], tcp: [] as number[] };
  for (const key of (labels[PORTS_LABEL] ?? "").split(",").filter(Boolean)) {
    const [proto, port] = key.split("/");
    if (proto === "http" || proto === "tcp") out[proto].push(Number(port));
  }
  return out;
}
/** The container a GPU-set change is replacing, kept under this name until its successor exists. */
const retiredName = (id: string) => `ocs-${id}-old`;
const volumeName = (diskId: string) => `ocs-${diskId}`;
const SNAPSHOTS = "opencompshare-snapshot";
/** An instance's snapshot: the repository above, tagged with the instance id. */
const snapshotImage = (id: string) => `${SNAPSHOTS}:${id}`;

/**
 * One instance = one labelled container on the local Docker Engine. System disk = the container's
 * own filesystem (kept across stop/start, erased by reinstall and terminate); each data disk = a
 * named volume (kept on terminate unless released). A container's devices are fixed when it is
 * created, so starting with another set of GPUs snapshots the filesystem and recreates the
 * container from it with the new devices (see `recreate`).
 */
export class DockerDriver implements Driver {
  readonly name = "docker";
  readonly engine: Engine;

  private readonly storeLabel: string;
  private readonly images: DockerImages;
  private readonly sampler: DockerSampler;

  constructor(readonly opts: DockerOptions) {
    this.engine = new Engine(opts.socketPath);
    this.storeLabel = `${STORE_LABEL}=${opts.storeId}`;
    this.images = new DockerImages(this.engine, { key: STORE_LABEL, value: opts.storeId });
    this.sampler = new DockerSampler(
      this.engine,
      { container: containerName, volume: volumeName },
      opts.nvidiaSmi,
    );
  }

  async create(spec: RuntimeSpec): Promise<void> {
    if ((await this.inspectContainer(spec.id)) !== undefined) return;
    await this.createContainer(spec, [], spec.image);
  }

  async start(spec: RuntimeSpec, gpus: number[]): Promise<Access | undefined> {
    await this.settleRecreate(spec.id);
    const c = await this.inspectContainer(spec.id);
    if (!c) {
      // Removed out of band: its system disk is gone; a fresh one from the image.
      await this.createContainer(spec, gpus, spec.image);
    } else if (rewired(c.Config.Labels, wiringLabels(spec, gpus))) {
      // Devices, mounts and published ports are fixed at creation: another GPU set, data disks
      // attached or detached meanwhile, or new ports recreate the container, its disk kept.
      if (c.State.StartedAt.startsWith("0001-") && c.Config.Image === spec.image) {
        // Never started and straight from the image (every Create's first start): nothing to keep.
        await this.removeContainer(containerName(spec.id));
        await this.createContainer(spec, gpus, spec.image);
      } else {
        await this.recreate(spec, gpus, c);
      }
    } else {
      const want = limits(spec);
      if (c.HostConfig.NanoCpus !== want.NanoCpus || c.HostConfig.Memory !== want.Memory) {
        // A resize, or a start with the other spec (with/without GPU): CPU and memory change in place.
        await this.engine.call("POST", `/containers/${containerName(spec.id)}/update`, want);
      }
    }
    await unless(this.engine.call("POST", `/containers/${containerName(spec.id)}/start`), 304);
    // The password given at Create, or reset while Stopped, is the login from this start on. An
    // image without chpasswd has no password login to set: not an error here (a reset says so).
    if (spec.password) {
      try {
        await this.setPassword(spec.id, spec.password);
      } catch (e) {
        if (!(e instanceof UnsupportedByRuntime)) throw e;
      }
    }
    return this.access(spec.id);
  }

  async stop(id: string): Promise<void> {
    // 304: already stopped; 404: gone (the reconciler deals with that).
    await unless(this.engine.call("POST", `/containers/${containerName(id)}/stop?t=10`), 304, 404);
  }

  async reboot(id: string): Promise<void> {
    await this.engine.call("POST", `/containers/${containerName(id)}/restart?t=10`);
  }

  async reinstall(spec: RuntimeSpec): Promise<void> {
    await this.removeRuntime(spec.id);
    await this.createContainer(spec, [], spec.image);
  }

  async destroy(id: string, opts: { releaseDataDisks: boolean; dataDiskIds: string[] }): Promise<void> {
    await this.removeRuntime(id);
    if (opts.releaseDataDisks) {
      for (const d of opts.dataDiskIds) await this.removeVolume(volumeName(d));
    }
  }

  /**
   * The instance's containers and snapshot go; so does a deleted custom image it was the last user
   * of (left untagged by `removeImage` while it was used).
   */
  private async removeRuntime(id: string): Promise<void> {
    const images = [
      await this.inspectContainer(id, retiredName(id)),
      await this.inspectContainer(id),
    ].flatMap((c) => (c ? [c.Image] : []));
    await this.removeContainer(retiredName(id));
    await this.removeContainer(containerName(id));
    await this.removeImageRef(snapshotImage(id));
    for (const image of images) await this.removeIfDangling(image);
  }

  captureImage(req: CaptureRequest, onProgress: (p: CaptureProgress) => void): Promise<CapturedImage> {
    return this.images.capture(containerName(req.instanceId), req, onProgress);
  }

  removeImage(imageId: string): Promise<void> {
    return this.images.remove(imageId);
  }

  listImages(): Promise<string[]> {
    return this.images.list();
  }

  /**
   * A stopped container gets its new set of data-disk mounts now (recreated, its disk kept), so a
   * detached disk's volume is free at once; a running one keeps its mounts until its next start,
   * as a running container cannot take a new mount. The volumes of new disks are made either way.
   */
  async syncDisks(spec: RuntimeSpec): Promise<void> {
    for (const d of spec.dataDisks) await this.ensureVolume(spec.id, d.id);
    await this.settleRecreate(spec.id);
    const c = await this.inspectContainer(spec.id);
    if (!c || c.State.Running) return;
    const gpus = (c.Config.Labels[GPUS_LABEL] ?? "").split(",").filter(Boolean).map(Number);
    const want = { [DISKS_LABEL]: wiringLabels(spec, gpus)[DISKS_LABEL] as string };
    if (rewired(c.Config.Labels, want))
      await this.recreate({ ...spec, ports: portsOf(c.Config.Labels) }, gpus, c);
  }

  /** Removes a deleted disk's volume; one still mounted by a container (409) fails, to be retried. */
  async deleteDisk(diskId: string): Promise<void> {
    await this.removeVolume(volumeName(diskId));
  }

  /** Readings of the running containers (see stats.ts). */
  sample(targets: SampleTarget[]): Promise<InstanceSample[]> {
    return this.sampler.sample(targets);
  }

  async inspect(id: string): Promise<Observed> {
    const c = await this.inspectContainer(id);
    return { exists: c !== undefined, running: c?.State.Running ?? false };
  }

  async list(): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [LABEL, this.storeLabel] }));
    const rows = await this.engine.call<Array<{ Labels: Record<string, string> }>>(
      "GET",
      `/containers/json?all=1&filters=${filters}`,
    );
    // A retired container carries its instance's label too: one id per instance.
    return [...new Set(rows.map((r) => r.Labels[LABEL] as string).filter(Boolean))];
  }

  /** Data volumes this driver made, by disk id. */
  async volumes(): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [DISK_LABEL, this.storeLabel] }));
    const r = await this.engine.call<{ Volumes: Array<{ Labels: Record<string, string> }> | null }>(
      "GET",
      `/volumes?filters=${filters}`,
    );
    return (r.Volumes ?? []).map((v) => v.Labels[DISK_LABEL] as string);
  }

  async removeDataVolume(diskId: string): Promise<void> {
    await this.removeVolume(volumeName(diskId));
  }

  /** Instance ids with a snapshot image. */
  async snapshots(): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ reference: [SNAPSHOTS], label: [this.storeLabel] }));
    const rows = await this.engine.call<Array<{ RepoTags: string[] | null }>>(
      "GET",
      `/images/json?filters=${filters}`,
    );
    return rows.flatMap((r) =>
      (r.RepoTags ?? [])
        .filter((t) => t.startsWith(`${SNAPSHOTS}:`))
        .map((t) => t.slice(SNAPSHOTS.length + 1)),
    );
  }

  async removeSnapshot(id: string): Promise<void> {
    await this.removeImageRef(snapshotImage(id));
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
      throw new UnsupportedByRuntime(
        "the instance's image has no chpasswd, so its password cannot be set from outside",
      );
    if (result.ExitCode !== 0)
      throw new Error(`chpasswd failed inside the container (exit ${result.ExitCode})`);
  }

  /** Container deaths and removals, for the reconciler. */
  watch(onGone: (id: string, why: string) => void, onError?: (e: Error) => void): () => void {
    const filters = { label: [LABEL, this.storeLabel], type: ["container"], event: ["die", "destroy"] };
    return this.engine.events(
      filters,
      (e) => {
        const id = e.Actor.Attributes[LABEL];
        if (!id) return;
        onGone(
          id,
          e.Action === "destroy"
            ? "container removed outside opencompshare"
            : `container exited (code ${e.Actor.Attributes.exitCode ?? "?"})`,
        );
      },
      { onError },
    );
  }

  // ---------------------------------------------------------------- internals

  /**
   * Moves a stopped instance's filesystem into a new container with other devices: snapshot image,
   * old container renamed aside, new container from the snapshot, old one removed. The old one is
   * only removed once its successor exists, so a crash at any step leaves either the old container
   * under one of its two names or both, which `settleRecreate` resolves on the next start.
   */
  private async recreate(
    spec: RuntimeSpec,
    gpus: number[],
    c: NonNullable<Awaited<ReturnType<DockerDriver["inspectContainer"]>>>,
  ): Promise<void> {
    const name = containerName(spec.id);
    if (c.State.Running) await this.stop(spec.id);
    const layers = (await this.inspectImage(c.Image))?.RootFS?.Layers?.length ?? 0;
    if (layers + 1 > (this.opts.maxLayers ?? 100)) {
      // Every commit stacks a layer and overlay2 stops at 125: export + import flattens to one.
      // An import has no labels of its own (a commit keeps the container's): the store's is added.
      const label = encodeURIComponent(`LABEL ${STORE_LABEL}=${this.opts.storeId}`);
      await this.engine.pipe(
        `/containers/${name}/export`,
        `/images/create?fromSrc=-&repo=${SNAPSHOTS}&tag=${spec.id}&changes=${label}`,
      );
    } else {
      await this.engine.call("POST", `/commit?container=${name}&repo=${SNAPSHOTS}&tag=${spec.id}`);
    }
    await this.engine.call("POST", `/containers/${name}/rename?name=${retiredName(spec.id)}`);
    await this.createContainer(spec, gpus, snapshotImage(spec.id));
    await this.removeContainer(retiredName(spec.id));
    await this.removeIfDangling(c.Image);
  }

  /** Finishes or rolls back a recreate that a crash interrupted (see `recreate`). */
  private async settleRecreate(id: string): Promise<void> {
    const retired = await this.inspectContainer(id, retiredName(id));
    if (!retired) return;
    if (await this.inspectContainer(id)) {
      await this.removeContainer(retiredName(id));
      await this.removeIfDangling(retired.Image);
    } else {
      await this.engine.call("POST", `/containers/${retiredName(id)}/rename?name=${containerName(id)}`);
    }
  }

  private async createContainer(spec: RuntimeSpec, gpus: number[], image: string): Promise<void> {
    for (const d of spec.dataDisks) await this.ensureVolume(spec.id, d.id);
    const wiring = gpuWiring(this.opts.gpuMode, gpus, this.opts.inventory, this.opts.files);
    const publish = publishes(this.opts.network);
    const published = [...new Set(["22/tcp", ...portKeys(spec).map((k) => `${k.split("/")[1]}/tcp`)])];
    // The runtime image's own config, not the snapshot's: a flattened snapshot has none, and a
    // committed one (a snapshot, a custom image) carries the old container's wiring. A custom
    // image's runtime image is the platform image it was captured from.
    const runtime = spec.baseImage ?? spec.image;
    const snapshot = image === runtime ? undefined : await this.inspectImage(image);
    const own = (await this.inspectImage(runtime)) ?? snapshot;
    await this.engine.call("POST", `/containers/create?name=${containerName(spec.id)}`, {
      Image: image,
      Entrypoint: own?.Config?.Entrypoint ?? undefined,
      Cmd: spec.command ?? KEEPALIVE,
      WorkingDir: own?.Config?.WorkingDir || undefined,
      User: own?.Config?.User || undefined,
      Hostname: spec.id.slice(0, 63),
      Labels: {
        [LABEL]: spec.id,
        ...wiringLabels(spec, gpus),
        [STORE_LABEL]: this.opts.storeId,
        [IMAGE_LABEL]: "",
      },
      Env: containerEnv(own?.Config?.Env ?? [], snapshot?.Config?.Env ?? [], wiring.Env),
      ExposedPorts: publish ? Object.fromEntries(published.map((p) => [p, {}])) : undefined,
      HostConfig: {
        ...limits(spec),
        NetworkMode: this.opts.network,
        // Host ports are the engine's pick: each container's SSH and software ports are its own.
        PortBindings: publish
          ? Object.fromEntries(published.map((p) => [p, [{ HostIp: "", HostPort: "" }]]))
          : undefined,
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
      Labels: { [DISK_LABEL]: diskId, [LABEL]: instanceId, [STORE_LABEL]: this.opts.storeId },
    });
  }

  private async access(id: string): Promise<Access | undefined> {
    const c = await this.inspectContainer(id);
    const bound = c?.NetworkSettings?.Ports ?? {};
    const hostPort = (port: string) => bound[`${port}/tcp`]?.[0]?.HostPort;
    const ports: Record<string, number> = {};
    for (const key of (c?.Config.Labels[PORTS_LABEL] ?? "").split(",").filter(Boolean)) {
      const p = hostPort(key.split("/")[1] as string);
      if (p) ports[key] = Number(p);
    }
    const ssh = hostPort("22");
    return { ip: this.opts.hostIp, sshPort: ssh ? Number(ssh) : 22, ports };
  }

  private inspectContainer(id: string, name = containerName(id)) {
    return unless(
      this.engine.call<{
        Image: string;
        State: { Running: boolean; StartedAt: string };
        HostConfig: { NanoCpus: number; Memory: number };
        Config: { Image: string; Labels: Record<string, string> };
        NetworkSettings?: { Ports?: Record<string, Array<{ HostPort: string }> | null> };
      }>("GET", `/containers/${name}/json`),
      404,
    );
  }

  private inspectImage(ref: string) {
    return unless(
      this.engine.call<{
        RepoTags: string[] | null;
        RootFS?: { Layers?: string[] };
        Config?: { Env?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string; User?: string };
      }>("GET", `/images/${encodeURIComponent(ref)}/json`),
      404,
    );
  }

  /**
   * Removes a superseded snapshot, which Docker leaves untagged; a tagged image (the operator's
   * runtime image) is never touched, and one still needed as a parent answers 409 and stays.
   */
  private async removeIfDangling(imageId: string): Promise<void> {
    const im = await this.inspectImage(imageId);
    if (!im || (im.RepoTags ?? []).some((t) => t !== "<none>:<none>")) return;
    await unless(this.engine.call("DELETE", `/images/${encodeURIComponent(imageId)}`), 404, 409);
  }

  private async removeContainer(name: string): Promise<void> {
    await unless(this.engine.call("DELETE", `/containers/${name}?force=1`), 404);
  }

  private async removeImageRef(ref: string): Promise<void> {
    await unless(this.engine.call("DELETE", `/images/${encodeURIComponent(ref)}?force=1`), 404);
  }

  private async removeVolume(name: string): Promise<void> {
    await unless(this.engine.call("DELETE", `/volumes/${name}?force=1`), 404);
  }
}
