import { Command, type ErrorOptions, InvalidArgumentError, Option } from "commander";
import { UsageError } from "./helpers.js";

/**
 * Every `ocs` command (root, groups, leaves) is one of these, so the whole CLI has one parser with
 * one set of rules. Subcommands made with `.command()` are of this class too (`createCommand`).
 */
export class OcsCommand extends Command {
  override createCommand(name?: string): OcsCommand {
    return new OcsCommand(name);
  }

  /**
   * Commander hands a flag that takes a value the next word whatever it is, so in
   * `--limit --output json` the limit would be "--output" and `json` a stray word. As with the parser
   * this replaced, a value that starts with `--` has to be attached (`--password=--odd`); written
   * apart, the flag is missing its value, which is an error that names it.
   */
  override parseOptions(argv: string[]): ReturnType<Command["parseOptions"]> {
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i] as string;
      if (word === "--") break;
      // Words this command does not know are a subcommand's; they are checked when it parses them.
      const option = this.options.find((o) => o.long === word || o.short === word);
      if (!option?.required) continue;
      const value = argv[i + 1];
      if (value?.startsWith("--")) {
        this.error(`error: option '${option.flags}' argument missing (found '${value}' in its place)`, {
          code: "commander.optionMissingArgument",
        });
      }
      i++;
    }
    return super.parseOptions(argv);
  }

  /**
   * Usage errors end here (commander's own and {@link UsageError}s from actions, see {@link action});
   * only a group named without a subcommand is not one of them: commander prints the group's help
   * for that itself. An unknown subcommand is followed by the group's help, which lists the right
   * ones; anything else by a pointer to the command's help. The exit code (2) is set by whoever
   * catches the thrown `CommanderError` (the root has `exitOverride`).
   */
  override error(message: string, options?: ErrorOptions): never {
    this.showHelpAfterError(
      options?.code === "commander.unknownCommand"
        ? true
        : `(${pathOf(this)} --help shows usage and an example)`,
    );
    return super.error(message, options);
  }
}

/** `ocs instance create` for the `create` command: how the user typed it. */
export function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Appends the one-line example every command's `--help` ends with. */
export function example(cmd: Command, line: string): Command {
  return cmd.addHelpText("after", `\nExample: ${line}`);
}

/**
 * Wraps an action so a {@link UsageError} it throws is reported like a parse error (same prefix,
 * same pointer to `--help`, exit 2). Commander calls actions with the arguments, then the options,
 * then the command; the wrapped function gets the command, where both can be read typed.
 */
export function action(run: (cmd: Command) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const cmd = args[args.length - 1] as Command;
    try {
      await run(cmd);
    } catch (e) {
      if (e instanceof UsageError) cmd.error(`error: ${e.message}`, { code: "ocs.usage" });
      throw e;
    }
  };
}

/** A flag value that has to be a whole number (`--limit 50`); checked while parsing. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("It must be a whole number.");
  return Number(value);
}

/** `new Option(flags, description)` that parses its value with {@link wholeNumber}. */
export function numberOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser(wholeNumber);
}

/**
 * The global flags of the user commands, as commander names them. They live on the root command, so
 * they are read before or after the command words (`ocs --output json instance list` and
 * `ocs instance list --output json` are the same).
 */
export interface GlobalFlags {
  output?: "table" | "json";
  json?: boolean;
  baseUrl?: string;
  publicKey?: string;
  privateKey?: string;
  region?: string;
  zone?: string;
  projectId?: string;
}

/** Whether the user asked for JSON (`--output json` or `--json`) rather than a table. */
export function wantsJson(f: GlobalFlags): boolean {
  return f.output === "json" || f.json === true;
}

/** Adds the {@link GlobalFlags} to the root command. */
export function addGlobalFlags(root: Command): void {
  root
    .optionsGroup("Global options (of the user commands, before or after the command):")
    .addOption(new Option("--output <format>", "output format").choices(["table", "json"]))
    .option("--json", "same as --output json")
    .option("--base-url <url>", "API endpoint (profile, OCS_BASE_URL)")
    .option("--public-key <key>", "public key (profile, OCS_PUBLIC_KEY)")
    .option("--private-key <key>", "private key (profile, OCS_PRIVATE_KEY)")
    .option("--region <region>", "region, default cn-wlcb (profile, OCS_REGION)")
    .option("--zone <zone>", "zone (profile, OCS_ZONE)")
    .option("--project-id <id>", "project (profile, OCS_PROJECT_ID)");
}

/**
 * `serve` and `admin` are configured by the OCS_* environment, not by the user commands' flags; such
 * a flag given to them would be ignored without a word, so it is refused instead.
 */
export function refuseGlobalFlags(cmd: Command): void {
  let root = cmd;
  while (root.parent) root = root.parent;
  for (const option of root.options) {
    if (root.getOptionValueSource(option.attributeName()) === "cli") {
      cmd.error(
        `error: ${option.long} is for the user commands; ${pathOf(cmd)} is configured by OCS_* variables`,
        { code: "ocs.usage" },
      );
    }
  }
}
