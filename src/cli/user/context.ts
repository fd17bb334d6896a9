import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { CompShareClient, DEFAULT_BASE_URL } from "../../sdk/index.js";
import type { CompShareInstance } from "../../sdk/index.js";
import { type GlobalFlags, action, example, numberOption, wantsJson } from "../command.js";
import { UsageError } from "../helpers.js";

/** What `ocs configure` saves (the global flags but the output format); each key can be overridden by OCS_* variables and flags. */
export type Profile = Omit<GlobalFlags, "output" | "json">;

export const PROFILE_KEYS: Array<[keyof Profile, string, string]> = [
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

export function readProfile(): Profile {
  const path = profilePath();
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Profile;
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message}); run ocs configure again`);
  }
}

/** Every flag a user command reads, as commander names them; each command defines only its own. */
export interface Flags extends GlobalFlags {
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
  source?: string;
  description?: string;
}

/** Profile file, then environment, then flags: the later wins. */
export function settings(f: Flags): Profile {
  const p: Profile = { ...readProfile() };
  for (const [key, , env] of PROFILE_KEYS) {
    const fromEnv = process.env[env];
    if (fromEnv) p[key] = fromEnv;
    const fromFlag = f[key];
    if (fromFlag !== undefined) p[key] = fromFlag;
  }
  return p;
}

export function clientFor(f: Flags): CompShareClient {
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

export const out = (text: string) => process.stdout.write(text);

export function print(f: Flags, value: unknown, human: () => string): void {
  out(wantsJson(f) ? `${JSON.stringify(value, null, 2)}\n` : human());
}

// ---------------------------------------------------------------- helpers

/** The options, global ones included, and the arguments of the command being run. */
export function input(cmd: Command): { f: Flags; args: string[] } {
  return { f: cmd.optsWithGlobals<Flags>(), args: cmd.processedArgs as string[] };
}

/** A flag a command cannot do without; a usage error naming it when absent. */
export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`missing ${flag}`);
  return value;
}

/** The API wants Zone on most instance actions; when none is configured, ask Describe for it. */
export async function zoneOf(c: CompShareClient, id: string): Promise<string> {
  if (c.options.zone) return c.options.zone;
  return (await c.getInstance(id)).Zone;
}

/** `--wait`: a live progress line on stderr until the target state (or the error). */
export async function wait(
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
export function waitFlags(cmd: Command, state: string): Command {
  return cmd
    .option("--wait", `wait until the instance is ${state}, with progress on stderr`)
    .option("--no-wait", "return as soon as the request is accepted (the default)")
    .addOption(numberOption("--timeout <seconds>", "how long --wait waits (default 600)"));
}

export const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

// ---------------------------------------------------------------- commands

/** A command under `parent` with its description and `--help` example. */
export function leaf(
  parent: Command,
  nameAndArgs: string,
  description: string,
  exampleLine: string,
): Command {
  return example(parent.command(nameAndArgs).description(description), exampleLine);
}

/**
 * `ocs instance <verb> <UHostId> …`: runs the request, then with `--wait` follows the instance to the
 * state `run` returns (none: nothing to wait for) and prints the result. `rest` is the arguments
 * after the UHostId.
 */
export function instanceAction(
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
export const noFlags = (cmd: Command) => cmd;
