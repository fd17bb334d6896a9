import type { Command } from "commander";
import type { CompShareInstance } from "../../sdk/index.js";
import { action, numberOption, wantsJson } from "../command.js";
import { formatTime, parseTime, table } from "../helpers.js";
import {
  b64,
  clientFor,
  input,
  instanceAction,
  leaf,
  noFlags,
  out,
  print,
  required,
  wait,
  waitFlags,
  zoneOf,
} from "./context.js";
import { addWatchCommand } from "./watch.js";

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

export function addInstanceCommands(program: Command): void {
  const instance = program.command("instance").description("GPU instances of the project.");
  addWatchCommand(instance);

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
        const u = await clientFor(f).getInstance(id);
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

export function addRecycleCommands(program: Command): void {
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
