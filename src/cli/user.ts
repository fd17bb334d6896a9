import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { CompShareClient, CompShareError, DEFAULT_BASE_URL } from "../sdk/index.js";
import type { CompShareInstance } from "../sdk/index.js";
import { type GlobalFlags, action, example, numberOption, wantsJson } from "./command.js";
import { UsageError, formatTime, parseTime, table } from "./helpers.js";

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

/** Where `ocs configure` saves the profile: `$XDG_CONFIG_HOME/opencompshare/profile.json` or `~/.config/…`. */
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

/** Every flag a user command reads, as commander names them; each command defines only its own. */
interface Flags extends GlobalFlags {
  limit?: number;
  offset?: number;
  gpuType?: string;
  gpu?: number;
  cpu?: number;
  memory?: number;
  image?: string;
  chargeType?: string;
  disk?: number;
  dataDisk?: number;
  diskType?: string;
  name?: string;
  password?: string;
  wait?: boolean;
  timeout?: number;
  withoutGpu?: boolean;
  force?: boolean;
  releaseDisk?: boolean;
  diskId?: string;
  diskSize?: number;
  type?: string;
}

/** Profile file, then environment, then flags: the later wins. */
function settings(f: Flags): Profile {
  const p: Profile = { ...readProfile() };
  for (const [key, , env] of PROFILE_KEYS) {
    const fromEnv = process.env[env];
    if (fromEnv) p[key] = fromEnv;
    const fromFlag = f[key];
    if (fromFlag !== undefined) p[key] = fromFlag;
  }
  return p;
}

function clientFor(f: Flags): CompShareClient {
  const s = settings(f);
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

const out = (text: string) => process.stdout.write(text);

function print(f: Flags, value: unknown, human: () => string): void {
  out(wantsJson(f) ? `${JSON.stringify(value, null, 2)}\n` : human());
}

// ---------------------------------------------------------------- helpers

/** The options, global ones included, and the arguments of the command being run. */
function input(cmd: Command): { f: Flags; args: string[] } {
  return { f: cmd.optsWithGlobals<Flags>(), args: cmd.processedArgs as string[] };
}

/** A flag a command cannot do without; a usage error naming it when absent. */
function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`missing ${flag}`);
  return value;
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
  f: Flags,
  id: string,
  state: string,
): Promise<CompShareInstance | undefined> {
  if (!f.wait) return undefined;
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  let i = 0;
  const tty = process.stderr.isTTY;
  const inst = await c.waitForState(id, state, {
    intervalMs: 500,
    timeoutMs: (f.timeout ?? 600) * 1000,
    onProgress: (s, ms) => {
      const line = `${frames[i++ % frames.length]} ${id}: ${s} (${Math.round(ms / 1000)}s)`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    },
  });
  process.stderr.write(tty ? `\r✓ ${id}: ${state}\u001b[K\n` : `✓ ${id}: ${state}\n`);
  return inst;
}

/** `--wait`, its opposite (the default, accepted for scripts that spell it out) and `--timeout`. */
function waitFlags(cmd: Command, state: string): Command {
  return cmd
    .option("--wait", `wait until the instance is ${state}, with progress on stderr`)
    .option("--no-wait", "return as soon as the request is accepted (the default)")
    .addOption(numberOption("--timeout <seconds>", "how long --wait waits (default 600)"));
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

/** A command under `parent` with its description and `--help` example. */
function leaf(parent: Command, nameAndArgs: string, description: string, exampleLine: string): Command {
  return example(parent.command(nameAndArgs).description(description), exampleLine);
}

/**
 * `ocs instance <verb> <UHostId> …`: runs the request, then with `--wait` follows the instance to the
 * state `run` returns (none: nothing to wait for) and prints the result. `rest` is the arguments
 * after the UHostId.
 */
function instanceAction(
  instance: Command,
  verb: string,
  description: string,
  exampleLine: string,
  options: (cmd: Command) => Command,
  run: (c: CompShareClient, id: string, f: Flags, rest: string[]) => Promise<string | undefined>,
): void {
  const cmd = leaf(instance, verb, description, exampleLine).argument("<UHostId>", "the instance");
  options(cmd).action(
    action(async (cmd) => {
      const { f, args } = input(cmd);
      const [id, ...rest] = args as [string, ...string[]];
      const c = clientFor(f);
      const target = await run(c, id, f, rest);
      const inst = target ? await wait(c, f, id, target) : undefined;
      print(
        f,
        inst ?? { UHostId: id },
        () => `${id}: ${verb} accepted${inst ? `, now ${inst.State}` : ""}\n`,
      );
    }),
  );
}

/** For commands with no flags of their own. */
const noFlags = (cmd: Command) => cmd;

function addInstanceCommands(program: Command): void {
  const instance = program.command("instance").description("GPU instances of the project.");

  leaf(instance, "list", "Lists instances of the project.", "ocs instance list --limit 50")
    .addOption(numberOption("--limit <N>", "at most N (default 100)"))
    .addOption(numberOption("--offset <N>", "skip the first N (default 0)"))
    .action(
      action(async (cmd) => {
        const { f } = input(cmd);
        const r = await clientFor(f).describeCompShareInstance({
          Limit: f.limit ?? 100,
          Offset: f.offset ?? 0,
        });
        print(f, r, () =>
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
      }),
    );

  leaf(instance, "get", "Shows one instance.", "ocs instance get uhost-abc123de")
    .argument("<UHostId>", "the instance")
    .action(
      action(async (cmd) => {
        const { f, args } = input(cmd);
        const id = args[0] as string;
        const u = (await clientFor(f).describeCompShareInstance({ UHostIds: [id] })).UHostSet[0];
        if (!u)
          throw new CompShareError(8039, `UHostId [${id}] not found`, "DescribeCompShareInstance", undefined);
        print(f, u, () =>
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
      }),
    );

  waitFlags(
    leaf(
      instance,
      "create",
      "Creates an instance. The password is base64-encoded for you.",
      "ocs instance create --gpu-type 4090 --gpu 1 --cpu 16 --memory 65536 --image compshareImage-ubuntu2204 --charge-type Postpay --wait",
    )
      .usage("--gpu-type T --gpu N --cpu N --memory MB --image ID [options]")
      .option("--gpu-type <T>", "GPU type, such as 4090 (required)")
      .addOption(numberOption("--gpu <N>", "GPUs (required)"))
      .addOption(numberOption("--cpu <N>", "CPU cores (required)"))
      .addOption(numberOption("--memory <MB>", "memory in MB (required)"))
      .option("--image <ID>", "image id (required)")
      .option("--charge-type <C>", "Dynamic, Postpay, Day, Month, Spot…")
      .addOption(numberOption("--disk <GB>", "boot disk size (default 50)"))
      .addOption(numberOption("--data-disk <GB>", "a data disk of this size"))
      .option("--disk-type <TYPE>", "disk type (default CLOUD_SSD)")
      .option("--name <NAME>", "instance name")
      .option("--password <PLAIN>", "login password"),
    "Running",
  ).action(
    action(async (cmd) => {
      const { f } = input(cmd);
      const c = clientFor(f);
      const disks = [{ IsBoot: true, Type: f.diskType ?? "CLOUD_SSD", Size: f.disk ?? 50 }];
      if (f.dataDisk !== undefined)
        disks.push({ IsBoot: false, Type: f.diskType ?? "CLOUD_SSD", Size: f.dataDisk });
      const r = await c.createCompShareInstance({
        Zone: c.options.zone ?? "cn-wlcb-01",
        GpuType: required(f.gpuType, "--gpu-type"),
        GPU: required(f.gpu, "--gpu"),
        CPU: required(f.cpu, "--cpu"),
        Memory: required(f.memory, "--memory"),
        MachineType: "G",
        CompShareImageId: required(f.image, "--image"),
        ChargeType: f.chargeType,
        Disks: disks,
        Name: f.name,
        Password: f.password === undefined ? undefined : b64(f.password),
      });
      const id = r.UHostIds[0] as string;
      const inst = await wait(c, f, id, "Running");
      print(
        f,
        inst ?? r,
        () => `${id}${inst ? `: ${inst.State}` : ": creating (ocs instance get to follow it, or --wait)"}\n`,
      );
    }),
  );

  instanceAction(
    instance,
    "start",
    "Starts a stopped instance, optionally without GPU (cheaper).",
    "ocs instance start uhost-abc123de --without-gpu --wait",
    (cmd) => waitFlags(cmd.option("--without-gpu", "start without its GPUs"), "Running"),
    async (c, id, f) => {
      await c.startCompShareInstance({
        UHostId: id,
        Zone: await zoneOf(c, id),
        WithoutGpu: f.withoutGpu || undefined,
      });
      return "Running";
    },
  );
  instanceAction(
    instance,
    "stop",
    "Stops a running instance. --force is needed for spot instances.",
    "ocs instance stop uhost-abc123de --wait",
    (cmd) => waitFlags(cmd.option("--force", "force the stop (needed for spot instances)"), "Stopped"),
    async (c, id, f) => {
      await c.stopCompShareInstance({ UHostId: id, Zone: await zoneOf(c, id), Force: f.force || undefined });
      return "Stopped";
    },
  );
  instanceAction(
    instance,
    "reboot",
    "Reboots a running instance.",
    "ocs instance reboot uhost-abc123de --wait",
    (cmd) => waitFlags(cmd, "Running"),
    async (c, id) => {
      await c.rebootCompShareInstance({ UHostId: id, Zone: await zoneOf(c, id) });
      return "Running";
    },
  );
  instanceAction(
    instance,
    "terminate",
    "Terminates a stopped instance into the recycle bin. Data disks are kept unless --release-disk.",
    "ocs instance terminate uhost-abc123de",
    (cmd) => cmd.option("--release-disk", "release its data disks too"),
    async (c, id, f) => {
      await c.terminateCompShareInstance({
        UHostId: id,
        Zone: await zoneOf(c, id),
        ReleaseUDisk: f.releaseDisk || undefined,
      });
      return undefined;
    },
  );
  instanceAction(
    instance,
    "reinstall",
    "Reinstalls the system disk from an image.",
    "ocs instance reinstall uhost-abc123de --image compshareImage-cuda124 --wait",
    (cmd) =>
      waitFlags(
        cmd
          .usage("<UHostId> --image ID [options]")
          .option("--image <ID>", "image id (required)")
          .option("--password <PLAIN>", "new login password"),
        "Stopped",
      ),
    async (c, id, f) => {
      const image = required(f.image || undefined, "--image");
      await c.reinstallCompShareInstance({
        UHostId: id,
        Zone: await zoneOf(c, id),
        CompShareImageId: image,
        Password: f.password && b64(f.password),
      });
      return "Stopped";
    },
  );
  instanceAction(
    instance,
    "resize",
    "Resizes an instance. GPUs, CPU and memory with --gpu --cpu --memory, or a disk with --disk-id --disk-size.",
    "ocs instance resize uhost-abc123de --gpu 2 --cpu 32 --memory 131072 --wait",
    (cmd) =>
      waitFlags(
        cmd
          .usage("<UHostId> (--gpu N --cpu N --memory MB | --disk-id ID --disk-size GB) [options]")
          .addOption(numberOption("--gpu <N>", "GPUs"))
          .addOption(numberOption("--cpu <N>", "CPU cores"))
          .addOption(numberOption("--memory <MB>", "memory in MB"))
          .option("--disk-id <ID>", "the disk to grow")
          .addOption(numberOption("--disk-size <GB>", "its new size")),
        "Stopped",
      ),
    async (c, id, f) => {
      await c.resizeCompShareInstance({
        UHostId: id,
        Zone: await zoneOf(c, id),
        Gpu: f.gpu,
        Cpu: f.cpu,
        Memory: f.memory,
        DiskId: f.diskId,
        DiskSpace: f.diskSize,
      });
      return "Stopped";
    },
  );
  instanceAction(
    instance,
    "rename",
    "Renames an instance.",
    "ocs instance rename uhost-abc123de trainer-1",
    (cmd) => cmd.argument("<name>", "the new name"),
    async (c, id, _f, [name]) => {
      await c.modifyCompShareInstanceName({ UHostId: id, Name: name as string });
      return undefined;
    },
  );
  instanceAction(
    instance,
    "reset-password",
    "Sets a new login password (base64-encoded for you).",
    "ocs instance reset-password uhost-abc123de 'N3w-Passw0rd'",
    (cmd) => cmd.argument("<password>", "the new password (after -- if it starts with -)"),
    async (c, id, _f, [password]) => {
      await c.resetCompShareInstancePassword({
        UHostId: id,
        Zone: await zoneOf(c, id),
        Password: b64(password as string),
      });
      return undefined;
    },
  );
  instanceAction(
    instance,
    "schedule-stop",
    "Schedules a stop. The time is Unix seconds, an ISO date-time, or relative (+2h, in 90m), at least 5 minutes ahead.",
    "ocs instance schedule-stop uhost-abc123de +2h",
    (cmd) => cmd.argument("<time>", "when to stop"),
    async (c, id, f, [time]) => {
      const at = parseTime(time as string);
      await c.updateCompShareStopScheduler({ UHostId: id, StopTime: at });
      if (!wantsJson(f)) out(`${id}: stop scheduled for ${formatTime(at)}\n`);
      return undefined;
    },
  );
  instanceAction(
    instance,
    "cancel-schedule",
    "Cancels a scheduled stop.",
    "ocs instance cancel-schedule uhost-abc123de",
    noFlags,
    async (c, id) => {
      await c.deleteCompShareStopScheduler({ UHostId: id });
      return undefined;
    },
  );
}

function addRecycleCommands(program: Command): void {
  const recycle = program.command("recycle").description("The recycle bin of terminated instances.");
  leaf(recycle, "list", "Lists terminated instances in the recycle bin.", "ocs recycle list")
    .addOption(numberOption("--limit <N>", "at most N (default 100)"))
    .action(
      action(async (cmd) => {
        const { f } = input(cmd);
        const r = await clientFor(f).describeCompShareRecycleInstance({ Limit: f.limit ?? 100 });
        print(f, r, () =>
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
      }),
    );
  waitFlags(
    leaf(
      recycle,
      "recover",
      "Brings an instance back from the recycle bin (Stopped).",
      "ocs recycle recover uhost-abc123de --wait",
    ).argument("<UHostId>", "the instance"),
    "Stopped",
  ).action(
    action(async (cmd) => {
      const { f, args } = input(cmd);
      const id = args[0] as string;
      const c = clientFor(f);
      await c.recoverCompShareInstance({ UHostId: id });
      const inst = await wait(c, f, id, "Stopped");
      print(f, inst ?? { UHostId: id }, () => `${id}: recovered${inst ? `, now ${inst.State}` : ""}\n`);
    }),
  );
}

function addCatalogCommands(program: Command): void {
  leaf(program.command("image").description("Images."), "list", "Lists images.", "ocs image list --type App")
    .option("--type <TYPE>", "System or App")
    .option("--name <TEXT>", "only images whose name has this")
    .action(
      action(async (cmd) => {
        const { f } = input(cmd);
        const r = await clientFor(f).describeCompShareImages({ ImageType: f.type, Name: f.name, Limit: 100 });
        print(f, r, () =>
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
      }),
    );

  leaf(
    program.command("type").description("GPU types."),
    "list",
    "Lists GPU types, their sizes and availability. Those sold in the zone, or the region when no zone is set.",
    "ocs type list --zone cn-wlcb-01",
  ).action(
    action(async (cmd) => {
      const { f } = input(cmd);
      const r = await clientFor(f).describeAvailableCompShareInstanceTypes({});
      print(f, r, () =>
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
    }),
  );

  leaf(
    program,
    "capacity",
    "Shows which sizes of a GPU type can be created now. Each GPU/CPU/memory combination, yes or no.",
    "ocs capacity --gpu-type 4090 --zone cn-wlcb-01",
  )
    .usage("--gpu-type T [options]")
    .option("--gpu-type <T>", "GPU type (required)")
    .action(
      action(async (cmd) => {
        const { f } = input(cmd);
        const c = clientFor(f);
        const r = await c.checkCompShareResourceCapacity({
          Zone: c.options.zone ?? "cn-wlcb-01",
          GpuType: required(f.gpuType || undefined, "--gpu-type"),
        });
        print(f, r, () =>
          table(
            ["GPU", "CPU", "MEM GB", "AVAILABLE"],
            r.Specs.map((s) => [s.Gpu, s.Cpu, s.Mem, s.ResourceEnough ? "yes" : "no"]),
          ),
        );
      }),
    );

  leaf(
    program,
    "price",
    "Shows the prices of a GPU type, for each charge type.",
    "ocs price --gpu-type 4090 --gpu 2",
  )
    .usage("--gpu-type T [options]")
    .option("--gpu-type <T>", "GPU type (required)")
    .addOption(numberOption("--gpu <N>", "GPUs"))
    .addOption(numberOption("--cpu <N>", "CPU cores"))
    .addOption(numberOption("--memory <MB>", "memory in MB"))
    .option("--charge-type <C>", "only this charge type")
    .addOption(numberOption("--disk <GB>", "boot disk size"))
    .action(
      action(async (cmd) => {
        const { f } = input(cmd);
        const gpuType = required(f.gpuType || undefined, "--gpu-type");
        const r = await clientFor(f).getCompShareInstancePrice({
          GpuType: gpuType,
          Gpu: f.gpu,
          Cpu: f.cpu,
          Memory: f.memory,
          ChargeType: f.chargeType,
          Disks: f.disk === undefined ? undefined : [{ IsBoot: true, Type: "CLOUD_SSD", Size: f.disk }],
        });
        const unit: Record<string, string> = { Month: "/month", Day: "/day" };
        print(f, r, () =>
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
      }),
    );
}

/**
 * Adds the user commands (against opencompshare or the real CompShare gateway, over the SDK) to the
 * root command. Their global flags ({@link GlobalFlags}) are the root's.
 */
export function addUserCommands(program: Command): void {
  leaf(
    program,
    "configure",
    `Saves credentials and defaults to the profile. That is ${"$XDG_CONFIG_HOME"}/opencompshare/profile.json (mode 0600); it asks for missing values when run in a terminal.`,
    "ocs configure --base-url http://127.0.0.1:8080 --public-key AKID --private-key SECRET",
  ).action(
    action(async (cmd) => {
      const { f } = input(cmd);
      const next: Profile = { ...readProfile() };
      for (const [key] of PROFILE_KEYS) {
        const v = f[key];
        if (v !== undefined) next[key] = v;
      }
      if (process.stdin.isTTY) {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        for (const [key, flag] of PROFILE_KEYS) {
          if (f[key] !== undefined) continue;
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
    }),
  );

  leaf(
    program.command("project").description("Projects of the account."),
    "list",
    "Lists your projects (the default first).",
    "ocs project list --output json",
  ).action(
    action(async (cmd) => {
      const { f } = input(cmd);
      const r = await clientFor(f).getProjectList();
      print(f, r.ProjectSet, () =>
        table(
          ["PROJECT", "NAME", "DEFAULT", "INSTANCES"],
          r.ProjectSet.map((p) => [p.ProjectId, p.ProjectName, p.IsDefault ? "yes" : "", p.ResourceCount]),
        ),
      );
    }),
  );

  addInstanceCommands(program);
  addRecycleCommands(program);
  addCatalogCommands(program);
}
