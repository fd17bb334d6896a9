import type { Command } from "commander";
import { assertNever } from "../../domain/states.js";
import type { CompShareClient } from "../../sdk/index.js";
import { action, numberOption } from "../command.js";
import { UsageError, formatTime, table } from "../helpers.js";
import { clientFor, input, leaf, print, required, zoneOf } from "./context.js";

/** Which list `ocs image list --source` reads. */
const SOURCES = ["platform", "custom", "shared"] as const;
type Source = (typeof SOURCES)[number];

async function listImages(c: CompShareClient, source: Source, f: { type?: string; name?: string }) {
  switch (source) {
    case "platform":
      return c.describeCompShareImages({ ImageType: f.type, Name: f.name, Limit: 100 });
    case "custom":
      return c.describeCompShareCustomImages({ Limit: 100 });
    case "shared":
      return c.describeCompShareSharingImages({ Limit: 100 });
    default:
      return assertNever(source);
  }
}

/** `--wait`: a live progress line on stderr until the image is Available (or the job failed). */
async function waitImage(c: CompShareClient, id: string, timeoutSeconds: number | undefined): Promise<void> {
  const tty = process.stderr.isTTY;
  await c.waitForImage(id, {
    intervalMs: 1000,
    timeoutMs: (timeoutSeconds ?? 3600) * 1000,
    onProgress: (percent, left) => {
      const line = `${id}: ${percent}%${left > 0 ? ` (${left}s left)` : ""}`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    },
  });
  process.stderr.write(tty ? `\r✓ ${id}: Available\u001b[K\n` : `✓ ${id}: Available\n`);
}

/** `ocs image …`: platform images, and custom images made from instances. */
export function addImageCommands(program: Command): void {
  const image = program.command("image").description("Platform images and custom images.");

  leaf(
    image,
    "list",
    "Lists images: the platform's (default), your custom ones, or those shared with you.",
    "ocs image list --source custom",
  )
    .option("--source <SOURCE>", "platform, custom or shared")
    .option("--type <TYPE>", "platform images of this type: System, App, Game or Other")
    .option("--name <TEXT>", "platform images whose name has this")
    .action(
      action(async (cmd) => {
        const { f } = input(cmd);
        const source = (f.source ?? "platform") as Source;
        if (!SOURCES.includes(source)) throw new UsageError(`--source must be one of ${SOURCES.join(", ")}`);
        if (source !== "platform" && (f.type !== undefined || f.name !== undefined))
          throw new UsageError("--type and --name filter platform images only");
        const r = await listImages(clientFor(f), source, f);
        print(f, r, () =>
          table(
            ["IMAGE", "NAME", "TYPE", "STATUS", "KIND", "SIZE", "OWNER", "CREATED"],
            r.ImageSet.map((i) => [
              i.CompShareImageId,
              i.Name,
              i.ImageType,
              i.Status,
              i.Container === "True" ? "container" : "vm",
              i.Size ? `${i.Size} MB` : "",
              i.Owner.AccountName,
              i.CreateTime ? formatTime(i.CreateTime) : "-",
            ]),
          ),
        );
      }),
    );

  leaf(
    image,
    "create",
    "Makes a custom image of an instance's system disk (not its data disks). The instance may be Running or Stopped (a container image's only Running); it cannot be stopped, rebooted or changed until the image is made.",
    "ocs image create uhost-abc123de --name my-env --wait",
  )
    .argument("<UHostId>", "the instance")
    .usage("<UHostId> --name NAME [options]")
    .option("--name <NAME>", "image name, unique in your account (required)")
    .option("--description <TEXT>", "what is in it")
    .option("--wait", "wait until the image is Available, with progress on stderr")
    .option("--no-wait", "return as soon as the job is accepted (the default)")
    .addOption(numberOption("--timeout <seconds>", "how long --wait waits (default 3600)"))
    .action(
      action(async (cmd) => {
        const { f, args } = input(cmd);
        const uhostId = args[0] as string;
        const name = required(f.name, "--name");
        const c = clientFor(f);
        const r = await c.createCompShareCustomImage({
          Zone: await zoneOf(c, uhostId),
          UHostId: uhostId,
          Name: name,
          Description: f.description,
        });
        const id = r.CompShareImageId;
        if (f.wait) await waitImage(c, id, f.timeout);
        print(
          f,
          { CompShareImageId: id, Status: f.wait ? "Available" : "Making" },
          () => `${id}${f.wait ? ": Available" : ": making (ocs image progress to follow it, or --wait)"}\n`,
        );
      }),
    );

  leaf(
    image,
    "progress",
    "Shows how far an image being made is.",
    "ocs image progress compshareImage-abc123de",
  )
    .argument("<CompShareImageId>", "the image")
    .action(
      action(async (cmd) => {
        const { f, args } = input(cmd);
        const id = args[0] as string;
        const p = await clientFor(f).getCompShareImageCreateProgress({ CompShareImageId: id });
        print(f, p, () =>
          p.Status === "Failed"
            ? `${id}: failed at ${p.Process}%: ${p.FailedReason}\n`
            : `${id}: ${p.Status} ${p.Process}%${p.Status === "Making" ? ` (${p.RemainingDuration}s of ${p.TotalDuration}s left)` : ""}\n`,
        );
      }),
    );

  leaf(
    image,
    "delete",
    "Deletes one of your custom images (not while it is being made). Instances made from it keep running.",
    "ocs image delete compshareImage-abc123de",
  )
    .argument("<CompShareImageId>", "the image")
    .action(
      action(async (cmd) => {
        const { f, args } = input(cmd);
        const id = args[0] as string;
        await clientFor(f).terminateCompShareCustomImage({ CompShareImageId: id });
        print(f, { CompShareImageId: id }, () => `${id}: deleted\n`);
      }),
    );
}
