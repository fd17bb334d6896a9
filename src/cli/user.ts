import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline/promises";
import type { CompShareInstance } from "../sdk/index.js";
import { CompShareClient, CompShareError, DEFAULT_BASE_URL } from "../sdk/index.js";
import type { Args } from "./args.js";
import { UsageError, bool, formatTime, int, parseArgs, parseTime, str, table } from "./args.js";

/** What `ocs configure` saves; each key can be overridden by OCS_* variables and flags. */
interface Profile {
  baseUrl?: string;
  publicKey?: string;
  privateKey?: string;
  region?: string;
  zone?: string;
  projectId?: string;
}

const PROFILE_KEYS: Array<[keyof Profile, string, string]> = [
  ["baseUrl", "base-url", "OCS_BASE_URL"],
  ["publicKey", "public-key", "OCS_PUBLIC_KEY"],
  ["privateKey", "private-key", "OCS_PRIVATE_KEY"],
  ["region", "region", "OCS_REGION"],
  ["zone", "zone", "OCS_ZONE"],
  ["projectId", "project-id", "OCS_PROJECT_ID"],
];

export function profilePath(env = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "opencompshare", "profile.json");
}

function readProfile(): Profile {
  const path = profilePath();
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Profile;
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message}); run ocs configure again`);
  }
}

/** Profile file, then environment, then flags: the later wins. */
function settings(args: Args): Profile {
  const p: Profile = { ...readProfile() };
  for (const [key, flag, env] of PROFILE_KEYS) {
    const fromEnv = process.env[env];
    if (fromEnv) p[key] = fromEnv;
    const fromFlag = str(args, flag);
    if (fromFlag !== undefined) p[key] = fromFlag;
  }
  return p;
}

function clientFor(args: Args): CompShareClient {
  const s = settings(args);
  if (!s.publicKey || !s.privateKey) {
    throw new UsageError("no credentials: run `ocs configure`, or set OCS_PUBLIC_KEY and OCS_PRIVATE_KEY");
  }
  return new CompShareClient({
    baseUrl: s.baseUrl ?? DEFAULT_BASE_URL,
    publicKey: s.publicKey,
    privateKey: s.privateKey,
    region: s.region ?? "cn-wlcb",
    zone: s.zone,
    projectId: s.projectId,
  });
}

const json = (args: Args) => str(args, "output") === "json" || bool(args, "json");
const out = (text: string) => process.stdout.write(text);

function print(args: Args, value: unknown, human: () => string): void {
  if (str(args, "output") !== undefined && !["json", "table"].includes(str(args, "output") as string)) {
    throw new UsageError("--output must be table or json");
  }
  out(json(args) ? `${JSON.stringify(value, null, 2)}\n` : human());
}

// ---------------------------------------------------------------- help

const COMMON_FLAGS =
  "Global flags: --output table|json, --base-url, --public-key, --private-key, --region, --zone, --project-id";

const HELP: Record<string, string> = {
  configure: `ocs configure [--base-url URL] [--public-key K] [--private-key K] [--region R] [--zone Z] [--project-id P]
  Saves credentials and defaults to ${"$XDG_CONFIG_HOME"}/opencompshare/profile.json (mode 0600); asks for
  missing values when run in a terminal.
  Example: ocs configure --base-url http://127.0.0.1:8080 --public-key AKID --private-key SECRET`,
  "project list": `ocs project list
  Lists your projects (the default first).
  Example: ocs project list --output json`,
  "instance list": `ocs instance list [--limit N] [--offset N]
  Lists instances of the project.
  Example: ocs instance list --limit 50`,
  "instance get": `ocs instance get <UHostId>
  Shows one instance.
  Example: ocs instance get uhost-abc123de`,
  "instance create": `ocs instance create --gpu-type T --gpu N --cpu N --memory MB --image ID [--charge-type C]
                    [--disk GB] [--data-disk GB] [--name NAME] [--password PLAIN] [--wait]
  Creates an instance (the password is base64-encoded for you).
  Example: ocs instance create --gpu-type 4090 --gpu 1 --cpu 16 --memory 65536 --image compshareImage-ubuntu2204 --charge-type Postpay --wait`,
  "instance start": `ocs instance start <UHostId> [--without-gpu] [--wait]
  Starts a stopped instance, optionally without GPU (cheaper).
  Example: ocs instance start uhost-abc123de --without-gpu --wait`,
  "instance stop": `ocs instance stop <UHostId> [--force] [--wait]
  Stops a running instance (--force is needed for spot instances).
  Example: ocs instance stop uhost-abc123de --wait`,
  "instance reboot": `ocs instance reboot <UHostId> [--wait]
  Example: ocs instance reboot uhost-abc123de --wait`,
  "instance terminate": `ocs instance terminate <UHostId> [--release-disk]
  Terminates a stopped instance into the recycle bin; data disks are kept unless --release-disk.
  Example: ocs instance terminate uhost-abc123de`,
  "instance reinstall": `ocs instance reinstall <UHostId> --image ID [--password PLAIN] [--wait]
  Example: ocs instance reinstall uhost-abc123de --image compshareImage-cuda124 --wait`,
  "instance resize": `ocs instance resize <UHostId> (--gpu N --cpu N --memory MB | --disk-id ID --disk-size GB) [--wait]
  Example: ocs instance resize uhost-abc123de --gpu 2 --cpu 32 --memory 131072 --wait`,
  "instance rename": `ocs instance rename <UHostId> <name>
  Example: ocs instance rename uhost-abc123de trainer-1`,
  "instance reset-password": `ocs instance reset-password <UHostId> <password>
  Example: ocs instance reset-password uhost-abc123de 'N3w-Passw0rd'`,
  "instance schedule-stop": `ocs instance schedule-stop <UHostId> <time>
  Schedules a stop; time is Unix seconds, an ISO date-time, or relative (+2h, in 90m). At least 5 minutes ahead.
  Example: ocs instance schedule-stop uhost-abc123de +2h`,
  "instance cancel-schedule": `ocs instance cancel-schedule <UHostId>
  Example: ocs instance cancel-schedule uhost-abc123de`,
  "recycle list": `ocs recycle list
  Lists terminated instances in the recycle bin.
  Example: ocs recycle list`,
  "recycle recover": `ocs recycle recover <UHostId> [--wait]
  Brings an instance back from the recycle bin (Stopped).
  Example: ocs recycle recover uhost-abc123de --wait`,
  "image list": `ocs image list [--type System|App] [--name TEXT]
  Example: ocs image list --type App`,
  "type list": `ocs type list
  GPU types sold in the zone (or region), with their sizes and availability.
  Example: ocs type list --zone cn-wlcb-01`,
  capacity: `ocs capacity --gpu-type T
  Whether each GPU/CPU/memory combination of a type can be created now.
  Example: ocs capacity --gpu-type 4090 --zone cn-wlcb-01`,
  price: `ocs price --gpu-type T [--gpu N] [--cpu N] [--memory MB] [--charge-type C] [--disk GB]
  Example: ocs price --gpu-type 4090 --gpu 2`,
};

export function userHelp(): string {
  return `${Object.values(HELP)
    .map((h) => h.split("\n")[0])
    .join("\n")}\n\n${COMMON_FLAGS}\nocs <command> --help shows an example for each.\n`;
}

// ---------------------------------------------------------------- helpers

function need(args: Args, index: number, what: string, cmd: string): string {
  const v = args.positional[index];
  if (v === undefined) throw new UsageError(`missing ${what}\n\n${HELP[cmd]}`);
  return v;
}

/** The API wants Zone on most instance actions; when none is configured, ask Describe for it. */
async function zoneOf(c: CompShareClient, id: string): Promise<string> {
  if (c.options.zone) return c.options.zone;
  const r = await c.describeCompShareInstance({ UHostIds: [id] });
  const inst = r.UHostSet[0];
  if (!inst)
    throw new CompShareError(8039, `UHostId [${id}] not found`, "DescribeCompShareInstance", undefined);
  return inst.Zone;
}

/** `--wait`: a live progress line on stderr until the target state (or the error). */
async function wait(
  c: CompShareClient,
  args: Args,
  id: string,
  state: string,
): Promise<CompShareInstance | undefined> {
  if (!bool(args, "wait")) return undefined;
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  let i = 0;
  const tty = process.stderr.isTTY;
  const inst = await c.waitForState(id, state, {
    intervalMs: 500,
    timeoutMs: (int(args, "timeout") ?? 600) * 1000,
    onProgress: (s, ms) => {
      const line = `${frames[i++ % frames.length]} ${id}: ${s} (${Math.round(ms / 1000)}s)`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    },
  });
  process.stderr.write(tty ? `\r✓ ${id}: ${state}\u001b[K\n` : `✓ ${id}: ${state}\n`);
  return inst;
}

function instanceRow(u: CompShareInstance): Array<string | number> {
  return [
    u.UHostId,
    u.Name,
    u.State,
    u.GPU ? `${u.GPU}×${u.GpuType}` : `0 (${u.GpuType}, no GPU)`,
    u.CPU,
    `${u.Memory / 1024}G`,
    u.ChargeType,
    formatTime(u.CreateTime),
    u.StopTime ? formatTime(u.StopTime) : "-",
  ];
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

// ---------------------------------------------------------------- commands

type Handler = (args: Args) => Promise<void>;

function action(
  verb: string,
  run: (c: CompShareClient, id: string, args: Args) => Promise<string | undefined>,
): Handler {
  return async (args) => {
    const c = clientFor(args);
    const id = need(args, 0, "UHostId", `instance ${verb}`);
    const target = await run(c, id, args);
    const inst = target ? await wait(c, args, id, target) : undefined;
    print(
      args,
      inst ?? { UHostId: id },
      () => `${id}: ${verb} accepted${inst ? `, now ${inst.State}` : ""}\n`,
    );
  };
}

const COMMANDS: Record<string, Handler> = {
  async configure(args) {
    const current = readProfile();
    const next: Profile = { ...current };
    for (const [key, flag] of PROFILE_KEYS) {
      const v = str(args, flag);
      if (v !== undefined) next[key] = v;
    }
    if (process.stdin.isTTY) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      for (const [key, flag] of PROFILE_KEYS) {
        if (str(args, flag) !== undefined) continue;
        const shown = key === "privateKey" && next[key] ? "****" : (next[key] ?? "");
        const answer = (await rl.question(`${flag} [${shown}]: `)).trim();
        if (answer) next[key] = answer;
      }
      rl.close();
    }
    const path = profilePath();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    out(`saved ${path}\n`);
  },

  async "project list"(args) {
    const r = await clientFor(args).getProjectList();
    print(args, r.ProjectSet, () =>
      table(
        ["PROJECT", "NAME", "DEFAULT", "INSTANCES"],
        r.ProjectSet.map((p) => [p.ProjectId, p.ProjectName, p.IsDefault ? "yes" : "", p.ResourceCount]),
      ),
    );
  },

  async "instance list"(args) {
    const r = await clientFor(args).describeCompShareInstance({
      Limit: int(args, "limit") ?? 100,
      Offset: int(args, "offset") ?? 0,
    });
    print(args, r, () =>
      r.UHostSet.length === 0
        ? "no instances\n"
        : table(
            ["ID", "NAME", "STATE", "GPU", "CPU", "MEM", "CHARGE", "CREATED", "SCHEDULED STOP"],
            r.UHostSet.map(instanceRow),
          ) +
          (r.TotalCount > r.UHostSet.length
            ? `(${r.UHostSet.length} of ${r.TotalCount}; use --offset)\n`
            : ""),
    );
  },

  async "instance get"(args) {
    const c = clientFor(args);
    const id = need(args, 0, "UHostId", "instance get");
    const u = (await c.describeCompShareInstance({ UHostIds: [id] })).UHostSet[0];
    if (!u)
      throw new CompShareError(8039, `UHostId [${id}] not found`, "DescribeCompShareInstance", undefined);
    print(args, u, () =>
      table(
        ["FIELD", "VALUE"],
        [
          ["UHostId", u.UHostId],
          ["Name", u.Name],
          ["State", u.State],
          ["Zone", u.Zone],
          ["GPU", `${u.GPU} × ${u.GpuType}${u.GPU === 0 ? " (started without GPU)" : ""}`],
          ["CPU / Memory", `${u.CPU} / ${u.Memory} MB`],
          ["Image", `${u.CompShareImageName} (${u.CompShareImageId})`],
          ["Charge", `${u.ChargeType}, ${u.InstancePrice} + disks ${u.DiskPrice}`],
          ["Created", formatTime(u.CreateTime)],
          ["Scheduled stop", u.StopTime ? formatTime(u.StopTime) : "-"],
          ["Release", u.ReleaseTime ? formatTime(u.ReleaseTime) : "-"],
          ["SSH", u.SshLoginCommand || "-"],
          ["Remark", u.Remark || "-"],
        ],
      ),
    );
  },

  async "instance create"(args) {
    const c = clientFor(args);
    const required = (name: string) => {
      const v = str(args, name);
      if (v === undefined) throw new UsageError(`missing --${name}\n\n${HELP["instance create"]}`);
      return v;
    };
    const disks = [
      { IsBoot: true, Type: str(args, "disk-type") ?? "CLOUD_SSD", Size: int(args, "disk") ?? 50 },
    ];
    const data = int(args, "data-disk");
    if (data !== undefined)
      disks.push({ IsBoot: false, Type: str(args, "disk-type") ?? "CLOUD_SSD", Size: data });
    const password = str(args, "password");
    const r = await c.createCompShareInstance({
      Zone: c.options.zone ?? str(args, "zone") ?? "cn-wlcb-01",
      GpuType: required("gpu-type"),
      GPU: Number(required("gpu")),
      CPU: Number(required("cpu")),
      Memory: Number(required("memory")),
      MachineType: "G",
      CompShareImageId: required("image"),
      ChargeType: str(args, "charge-type"),
      Disks: disks,
      Name: str(args, "name"),
      Password: password === undefined ? undefined : b64(password),
    });
    const id = r.UHostIds[0] as string;
    const inst = await wait(c, args, id, "Running");
    print(
      args,
      inst ?? r,
      () => `${id}${inst ? `: ${inst.State}` : ": creating (ocs instance get to follow it, or --wait)"}\n`,
    );
  },

  "instance start": action("start", async (c, id, args) => {
    await c.startCompShareInstance({
      UHostId: id,
      Zone: await zoneOf(c, id),
      WithoutGpu: bool(args, "without-gpu") || undefined,
    });
    return "Running";
  }),
  "instance stop": action("stop", async (c, id, args) => {
    await c.stopCompShareInstance({
      UHostId: id,
      Zone: await zoneOf(c, id),
      Force: bool(args, "force") || undefined,
    });
    return "Stopped";
  }),
  "instance reboot": action("reboot", async (c, id) => {
    await c.rebootCompShareInstance({ UHostId: id, Zone: await zoneOf(c, id) });
    return "Running";
  }),
  "instance terminate": action("terminate", async (c, id, args) => {
    await c.terminateCompShareInstance({
      UHostId: id,
      Zone: await zoneOf(c, id),
      ReleaseUDisk: bool(args, "release-disk") || undefined,
    });
    return undefined;
  }),
  "instance reinstall": action("reinstall", async (c, id, args) => {
    const image = str(args, "image");
    if (!image) throw new UsageError(`missing --image\n\n${HELP["instance reinstall"]}`);
    const password = str(args, "password");
    await c.reinstallCompShareInstance({
      UHostId: id,
      Zone: await zoneOf(c, id),
      CompShareImageId: image,
      Password: password && b64(password),
    });
    return "Stopped";
  }),
  "instance resize": action("resize", async (c, id, args) => {
    await c.resizeCompShareInstance({
      UHostId: id,
      Zone: await zoneOf(c, id),
      Gpu: int(args, "gpu"),
      Cpu: int(args, "cpu"),
      Memory: int(args, "memory"),
      DiskId: str(args, "disk-id"),
      DiskSpace: int(args, "disk-size"),
    });
    return "Stopped";
  }),
  "instance rename": action("rename", async (c, id, args) => {
    await c.modifyCompShareInstanceName({ UHostId: id, Name: need(args, 1, "name", "instance rename") });
    return undefined;
  }),
  "instance reset-password": action("reset-password", async (c, id, args) => {
    await c.resetCompShareInstancePassword({
      UHostId: id,
      Zone: await zoneOf(c, id),
      Password: b64(need(args, 1, "password", "instance reset-password")),
    });
    return undefined;
  }),
  "instance schedule-stop": action("schedule-stop", async (c, id, args) => {
    const at = parseTime(need(args, 1, "time", "instance schedule-stop"));
    await c.updateCompShareStopScheduler({ UHostId: id, StopTime: at });
    if (!json(args)) out(`${id}: stop scheduled for ${formatTime(at)}\n`);
    return undefined;
  }),
  "instance cancel-schedule": action("cancel-schedule", async (c, id) => {
    await c.deleteCompShareStopScheduler({ UHostId: id });
    return undefined;
  }),

  async "recycle list"(args) {
    const r = await clientFor(args).describeCompShareRecycleInstance({ Limit: int(args, "limit") ?? 100 });
    print(args, r, () =>
      r.UHostSet.length === 0
        ? "the recycle bin is empty\n"
        : table(
            ["ID", "NAME", "GPU", "TERMINATED", "PURGED"],
            r.UHostSet.map((u) => [
              u.UHostId,
              u.Name,
              `${u.GPU}×${u.GpuType}`,
              formatTime(u.RecycleTime),
              formatTime(u.PurgeTime),
            ]),
          ),
    );
  },
  async "recycle recover"(args) {
    const c = clientFor(args);
    const id = need(args, 0, "UHostId", "recycle recover");
    await c.recoverCompShareInstance({ UHostId: id });
    const inst = await wait(c, args, id, "Stopped");
    print(args, inst ?? { UHostId: id }, () => `${id}: recovered${inst ? `, now ${inst.State}` : ""}\n`);
  },

  async "image list"(args) {
    const r = await clientFor(args).describeCompShareImages({
      ImageType: str(args, "type"),
      Name: str(args, "name"),
      Limit: 100,
    });
    print(args, r, () =>
      table(
        ["IMAGE", "NAME", "TYPE", "KIND", "SIZE"],
        r.ImageSet.map((i) => [
          i.CompShareImageId,
          i.Name,
          i.ImageType,
          i.Container === "True" ? "container" : "vm",
          i.Size ? `${i.Size} MB` : "",
        ]),
      ),
    );
  },
  async "type list"(args) {
    const r = await clientFor(args).describeAvailableCompShareInstanceTypes({});
    print(args, r, () =>
      table(
        ["TYPE", "ZONE", "STATUS", "GPU MEM", "SIZES (GPU/CPU/MEM GB)"],
        r.AvailableInstanceTypes.map((t) => [
          t.Name,
          t.Zone,
          t.Status,
          `${t.GraphicsMemory.Value}G`,
          t.MachineSizes.flatMap((m) =>
            m.Collection.map((c) => `${m.Gpu}/${c.Cpu}/${c.Memory.map((x) => x / 1024).join("|")}`),
          ).join(" "),
        ]),
      ),
    );
  },
  async capacity(args) {
    const c = clientFor(args);
    const gpuType = str(args, "gpu-type");
    if (!gpuType) throw new UsageError(`missing --gpu-type\n\n${HELP.capacity}`);
    const r = await c.checkCompShareResourceCapacity({
      Zone: c.options.zone ?? "cn-wlcb-01",
      GpuType: gpuType,
    });
    print(args, r, () =>
      table(
        ["GPU", "CPU", "MEM GB", "AVAILABLE"],
        r.Specs.map((s) => [s.Gpu, s.Cpu, s.Mem, s.ResourceEnough ? "yes" : "no"]),
      ),
    );
  },
  async price(args) {
    const gpuType = str(args, "gpu-type");
    if (!gpuType) throw new UsageError(`missing --gpu-type\n\n${HELP.price}`);
    const disk = int(args, "disk");
    const r = await clientFor(args).getCompShareInstancePrice({
      GpuType: gpuType,
      Gpu: int(args, "gpu"),
      Cpu: int(args, "cpu"),
      Memory: int(args, "memory"),
      ChargeType: str(args, "charge-type"),
      Disks: disk === undefined ? undefined : [{ IsBoot: true, Type: "CLOUD_SSD", Size: disk }],
    });
    const unit: Record<string, string> = { Month: "/month", Day: "/day" };
    print(args, r, () =>
      table(
        ["CHARGE", "INSTANCE", "DISKS", "LIST"],
        r.PriceDetails.map((p) => [
          p.ChargeType,
          `${p.Instance}${unit[p.ChargeType] ?? "/hour"}`,
          p.Disks,
          p.ListPrice,
        ]),
      ),
    );
  },
};

/** Runs a user command; returns the exit code. */
export async function runUserCommand(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`ocs: ${(e as Error).message}\n`);
    return 2;
  }
  const [noun, verb] = args.positional;
  const two = `${noun} ${verb}`;
  const name = COMMANDS[two] ? two : noun && COMMANDS[noun] ? noun : undefined;
  if (!name) {
    process.stderr.write(`ocs: unknown command "${args.positional.join(" ")}"\n\n${userHelp()}`);
    return 2;
  }
  args.positional = args.positional.slice(name.split(" ").length);
  if (bool(args, "help")) {
    out(`${HELP[name]}\n\n${COMMON_FLAGS}\n`);
    return 0;
  }
  try {
    await (COMMANDS[name] as Handler)(args);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`ocs: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CompShareError) {
      if (json(args))
        out(
          `${JSON.stringify({ RetCode: e.retCode, Message: e.message, Action: e.action, RequestId: e.requestId })}\n`,
        );
      process.stderr.write(
        `ocs: error: RetCode ${e.retCode}: ${e.message.replace(/^\w+: RetCode -?\d+: /, "")}${e.requestId ? ` (request ${e.requestId})` : ""}\n`,
      );
      return 1;
    }
    throw e;
  }
}

export const USER_COMMANDS = new Set(Object.keys(COMMANDS).map((k) => k.split(" ")[0] as string));
