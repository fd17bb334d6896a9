import type { Command } from "commander";
import type { StreamMessage } from "../../sdk/index.js";
import { isGap } from "../../sdk/index.js";
import { action, numberOption, wantsJson } from "../command.js";
import { formatTime } from "../helpers.js";
import { clientFor, input, leaf, out } from "./context.js";

/** One event as a line for humans: when, which instance, what happened. */
export function eventLine(m: StreamMessage): string {
  if (isGap(m))
    return `! events up to #${m.PrunedThrough} were removed by retention before this resume: re-read the instances (ocs instance list)\n`;
  const d = m.Data;
  const op = String(d.operation ?? "");
  const what: Record<string, () => string> = {
    "instance.created": () => `created "${String(d.name)}" (${String(d.state)})`,
    "instance.renamed": () => `renamed to "${String(d.name)}"`,
    "instance.password-reset": () => "password reset",
    "instance.stopped-out-of-band": () => `stopped outside opencompshare: ${String(d.reason)}`,
    "instance.purged": () => "purged from the recycle bin",
    "operation.started": () =>
      `${op} started: ${d.from ? `${String(d.from)} → ` : ""}${String(d.state)}${d.origin && d.origin !== "user" ? ` (by the ${String(d.origin)})` : ""}`,
    "operation.finished": () => `${op} finished: ${String(d.state)}`,
    "operation.failed": () => `${op} FAILED, back to ${String(d.state)}: ${String(d.reason)}`,
    "schedule.set": () => `stop scheduled for ${formatTime(Number(d.at))}`,
    "schedule.cleared": () => "scheduled stop cancelled",
    "schedule.fired": () => "scheduled stop fired",
    "gpus.taken": () => `GPUs ${(d.gpus as number[]).join(",")} taken on ${String(d.hostId)}`,
    "gpus.released": () => `GPUs ${(d.gpus as number[]).join(",")} released on ${String(d.hostId)}`,
  };
  const text = what[m.Kind]?.() ?? `${m.Kind} ${JSON.stringify(d)}`;
  return `${formatTime(m.Time)}  #${m.Seq}  ${m.ResourceId}  ${text}\n`;
}

/** `ocs instance watch [UHostId]`: the live event stream, one line (or JSON object) per event. */
export function addWatchCommand(instance: Command): void {
  leaf(
    instance,
    "watch",
    "Follows the project's instances (or one) live: every state change, operation, scheduled stop and GPU move, as it commits. Runs until interrupted; reconnects by itself.",
    "ocs instance watch uhost-abc123de --since 0 --count 5",
  )
    .argument("[UHostId]", "only this instance")
    .addOption(numberOption("--since <id>", "resume after this event id (0: all that are kept)"))
    .addOption(numberOption("--count <N>", "exit after N events"))
    .option("--all-projects", "every project of the account (for the root account: every account)")
    .action(
      action(async (cmd) => {
        const { f, args } = input(cmd);
        const o = cmd.opts<{ since?: number; count?: number; allProjects?: boolean }>();
        const id = args[0];
        const stream = clientFor(f).events({
          uhostIds: id ? [id] : undefined,
          allProjects: o.allProjects,
          lastEventId: o.since,
        });
        let seen = 0;
        for await (const m of stream) {
          out(wantsJson(f) ? `${JSON.stringify(m)}\n` : eventLine(m));
          if (!isGap(m) && o.count !== undefined && ++seen >= o.count) break;
        }
      }),
    );
}
