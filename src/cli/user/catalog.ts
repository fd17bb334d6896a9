import type { Command } from "commander";
import { action, numberOption } from "../command.js";
import { table } from "../helpers.js";
import { clientFor, input, leaf, print, required } from "./context.js";

export function addCatalogCommands(program: Command): void {
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
              m.Collection.map((c) => `${m.Gpu}/${c.Cpu}/${c.Memory.join("|")}`),
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
