import type { Command } from "commander";
import { action, numberOption, wholeNumber } from "../command.js";
import { formatTime, parseTime, table } from "../helpers.js";
import type { Flags } from "./context.js";
import { clientFor, input, leaf, print, required, zoneOf } from "./context.js";

/** The flags of these commands, besides the shared ones. */
interface UsageFlags extends Flags {
  instance?: string;
  size?: number;
  charge?: string;
  device?: string;
  http?: number[];
  tcp?: number[];
  from?: string;
  to?: string;
}

const flags = (cmd: Command) => input(cmd) as { f: UsageFlags; args: string[] };
const collectPort = (value: string, previous: number[] = []) => [...previous, wholeNumber(value)];

/**
 * `ocs disk …` (data disks), `ocs software list`, and the instance commands for monitoring, ports
 * and the two price queries: the rest of a user's day (issue #15).
 */
export function addUsageCommands(program: Command): void {
  const disk = program.command("disk").description("Data disks of the project, attached and detached.");

  leaf(disk, "list", "Lists data disks (attached and detached).", "ocs disk list --instance uhost-abc123de")
    .option("--instance <UHostId>", "only the disks attached to this instance")
    .action(
      action(async (cmd) => {
        const { f } = flags(cmd);
        const r = await clientFor(f).describeCompshareDisk({ HostId: f.instance });
        print(f, r, () =>
          r.DiskSet.length === 0
            ? "no disks\n"
            : table(
                ["DISK", "NAME", "SIZE", "TYPE", "STATUS", "INSTANCE", "DEVICE", "ZONE", "CHARGE"],
                r.DiskSet.map((d) => [
                  d.ResourceId,
                  d.Name || "-",
                  d.Configuration,
                  d.DiskType,
                  d.Status,
                  d.MountInstance || "-",
                  d.MountDevice || "-",
                  d.Zone,
                  d.ChargeType,
                ]),
              ),
        );
      }),
    );

  leaf(
    disk,
    "create",
    "Creates a data disk and attaches it to a running or stopped instance.",
    "ocs disk create uhost-abc123de --size 200 --name datasets",
  )
    .argument("<UHostId>", "the instance")
    .usage("<UHostId> --size GB [options]")
    .addOption(numberOption("--size <GB>", "size in GB (required)"))
    .option("--name <NAME>", "disk name (default: data)")
    .option("--type <TYPE>", "SSDDataDisk (default), RSSDDataDisk, DataDisk or EfficiencyDataDisk")
    .option("--charge <TYPE>", "Month (default), Day, Dynamic or Postpay")
    .action(
      action(async (cmd) => {
        const { f, args } = flags(cmd);
        const id = args[0] as string;
        const c = clientFor(f);
        const r = await c.createAndAttachCompshareDisk({
          UHostId: id,
          Zone: await zoneOf(c, id),
          Size: required(f.size, "--size"),
          Name: f.name ?? "data",
          DiskType: f.type,
          ChargeType: f.charge,
        });
        print(f, r, () => `${r.UDiskId}: created and attached to ${id}\n`);
      }),
    );

  const move = (verb: "attach" | "detach", description: string, exampleLine: string) =>
    leaf(disk, verb, description, exampleLine)
      .argument("<UDiskId>", "the disk")
      .argument("<UHostId>", "the instance")
      .action(
        action(async (cmd) => {
          const { f, args } = flags(cmd);
          const [diskId, id] = args as [string, string];
          const c = clientFor(f);
          const params = { UHostId: id, UDiskId: diskId, Zone: await zoneOf(c, id) };
          const r =
            verb === "attach"
              ? await c.attachCompshareDisk(params)
              : await c.detachCompshareDisk({ ...params, Device: f.device });
          print(f, r, () => `${diskId}: ${verb} ${verb === "attach" ? "to" : "from"} ${id} accepted\n`);
        }),
      );
  move(
    "attach",
    "Attaches a detached disk to an instance of its zone (running or stopped).",
    "ocs disk attach bs-abc123de uhost-abc123de",
  );
  move(
    "detach",
    "Detaches a data disk from a stopped instance; it keeps its data.",
    "ocs disk detach bs-abc123de uhost-abc123de",
  ).option("--device <DEV>", "the device it should be, such as /dev/vdb (checked)");

  leaf(
    disk,
    "resize",
    "Grows a disk (an attached one only while its instance is stopped).",
    "ocs disk resize bs-abc123de 500",
  )
    .argument("<UDiskId>", "the disk")
    .argument("<GB>", "its new size", wholeNumber)
    .action(
      action(async (cmd) => {
        const { f, args } = flags(cmd);
        const [diskId, size] = args as unknown as [string, number];
        const r = await clientFor(f).resizeCompShareDisk({ UDiskId: diskId, Size: size });
        print(f, r, () => `${diskId}: grow to ${size} GB accepted\n`);
      }),
    );

  leaf(disk, "delete", "Deletes a detached disk and its data.", "ocs disk delete bs-abc123de")
    .argument("<UDiskId>", "the disk")
    .action(
      action(async (cmd) => {
        const { f, args } = flags(cmd);
        const r = await clientFor(f).deleteCompshareDisk({ UDiskId: args[0] as string });
        print(f, r, () => `${args[0]}: deleted\n`);
      }),
    );

  leaf(
    program.command("software").description("Software and the ports it serves on."),
    "list",
    "Lists the software an instance can serve and its container port.",
    "ocs software list",
  ).action(
    action(async (cmd) => {
      const { f } = flags(cmd);
      const r = await clientFor(f).describeCompShareSoftwarePort({});
      print(f, r, () =>
        table(
          ["SOFTWARE", "PORT"],
          r.SoftwarePort.map((s) => [s.Software, s.Port]),
        ),
      );
    }),
  );

  const instance = program.commands.find((c) => c.name() === "instance") as Command;
  addInstanceUsage(instance);
}

function addInstanceUsage(instance: Command): void {
  leaf(
    instance,
    "monitor",
    "Shows monitoring readings (the last 60 s; --from/--to for one instance).",
    "ocs instance monitor uhost-abc123de --from -1h",
  )
    .argument("<UHostId...>", "up to 10 instances")
    .option("--from <TIME>", "start: unix seconds, ISO time or -1h (one instance only)")
    .option("--to <TIME>", "end (default now)")
    .action(
      action(async (cmd) => {
        const { f, args } = flags(cmd);
        const r = await clientFor(f).getCompShareInstanceMonitor({
          // A variadic argument comes as one array.
          UHostIds: args.flat(),
          StartTime: f.from === undefined ? undefined : parseTime(f.from),
          EndTime: f.to === undefined ? undefined : parseTime(f.to),
        });
        const rows = r.Data.List.flatMap((e) =>
          e.Metrics.flatMap((m) =>
            m.Results.map((res) => {
              const last = res.Values.at(-1);
              const series = Object.values(res.TagMap).at(-1) ?? "";
              return [
                e.UHostId,
                m.MetricKey,
                series,
                last?.Value ?? "-",
                last ? formatTime(last.Timestamp) : "-",
                res.Values.length,
              ];
            }),
          ),
        );
        print(f, r, () =>
          rows.length === 0
            ? "no readings in the range\n"
            : table(["INSTANCE", "METRIC", "SERIES", "LATEST", "AT", "POINTS"], rows),
        );
      }),
    );

  leaf(
    instance,
    "ports",
    "Replaces the ports a container instance publishes (from its next start). No flag: none but SSH.",
    "ocs instance ports cpod-abc123de --http 8888 --http 8188 --tcp 2323",
  )
    .argument("<UHostId>", "the container instance")
    .option("--http <PORT>", "an HTTP port (repeat for more)", collectPort)
    .option("--tcp <PORT>", "a TCP port (repeat for more)", collectPort)
    .action(
      action(async (cmd) => {
        const { f, args } = flags(cmd);
        const id = args[0] as string;
        const c = clientFor(f);
        const r = await c.updateCompShareInstancePorts({
          UHostId: id,
          Zone: await zoneOf(c, id),
          HttpPorts: f.http,
          TcpPorts: f.tcp,
        });
        print(f, r, () => `${id}: ports accepted; they are published from its next start\n`);
      }),
    );

  leaf(
    instance,
    "resize-price",
    "What resizing an instance would cost (the difference from now; negative is refunded).",
    "ocs instance resize-price uhost-abc123de --gpu 2 --cpu 32 --memory 131072",
  )
    .argument("<UHostId>", "the instance")
    .addOption(numberOption("--gpu <N>", "GPUs"))
    .addOption(numberOption("--cpu <N>", "CPU cores"))
    .addOption(numberOption("--memory <MB>", "memory in MB"))
    .action(
      action(async (cmd) => {
        const { f, args } = flags(cmd);
        const id = args[0] as string;
        const c = clientFor(f);
        const r = await c.getCompShareInstanceUpgradePrice({
          UHostId: id,
          Zone: await zoneOf(c, id),
          GPU: f.gpu,
          CPU: f.cpu,
          Memory: f.memory,
        });
        print(f, r, () => `${id}: ${r.Price >= 0 ? "+" : ""}${r.Price} (list ${r.ListPrice})\n`);
      }),
    );

  leaf(instance, "refund", "What deleting instances now would refund.", "ocs instance refund uhost-abc123de")
    .argument("<UHostId...>", "the instances")
    .action(
      action(async (cmd) => {
        const { f, args } = flags(cmd);
        const r = await clientFor(f).getCompShareRefundPrice({ UHostIds: args.flat() });
        print(f, r, () =>
          table(
            ["INSTANCE", "REFUND", "NOTE"],
            r.RefundPriceSet.map((x) => [
              x.UHostId,
              x.RefundPrice,
              x.Code === 0 ? "" : `${x.Code}: ${x.Message}`,
            ]),
          ),
        );
      }),
    );
}
