#!/usr/bin/env node
import { CommanderError } from "commander";
import { ConfigError, loadConfig } from "../config.js";
import { CatalogError } from "../core/catalog/catalog.js";
import { maskUrlPasswords } from "../log.js";
import { computeSignature } from "../protocol/signature.js";
import { CompShareError } from "../sdk/index.js";
import { createServer, storeLabel } from "../server.js";
import { addAdminCommands } from "./admin.js";
import {
  type GlobalFlags,
  OcsCommand,
  addGlobalFlags,
  example,
  pathOf,
  refuseGlobalFlags,
  wantsJson,
} from "./command.js";
import { addUserCommands } from "./user/index.js";

async function serve(): Promise<void> {
  const config = loadConfig();
  const server = await createServer(config);
  const { host, port } = await server.listen();
  const url = `${server.tls ? "https" : "http"}://${host}:${port}`;
  const rootAccount = (await server.services.accounts.listAccounts()).find((a) => a.isRoot);
  const keys = rootAccount ? await server.services.accounts.keyPairsOf(rootAccount.id) : [];
  const lines = [
    "",
    `opencompshare listening on ${url}  (driver: ${config.driver}, store: ${storeLabel(config)})`,
  ];
  // A private key is printed only when this start generated it: a configured one is the
  // operator's already, and printing it would put it in every log collector of the service.
  const generated = server.generatedRootKeys;
  if (generated) {
    lines.push(
      "",
      "Root key pair (generated now, printed only this once — keep it):",
      `  PublicKey:  ${generated.publicKey}`,
      `  PrivateKey: ${generated.privateKey}`,
    );
    const params = { Action: "GetProjectList", PublicKey: generated.publicKey };
    const sig = computeSignature(params, generated.privateKey);
    lines.push(
      "",
      "Example call:",
      `  curl -s${server.tls ? "k" : ""} '${url}/?Action=GetProjectList&PublicKey=${encodeURIComponent(generated.publicKey)}&Signature=${sig}'`,
    );
  } else if (config.rootPublicKey) {
    lines.push(
      "",
      `Root PublicKey: ${config.rootPublicKey}  (from OCS_ROOT_PUBLIC_KEY; its private key is not printed)`,
    );
  } else {
    lines.push(
      "",
      `Root PublicKey: ${keys[0]?.publicKey ?? "(none)"}`,
      "Its private key was printed on first start. `ocs admin key create root` adds another pair.",
    );
  }
  const shownKey = generated?.publicKey ?? config.rootPublicKey ?? keys[0]?.publicKey ?? "<PublicKey>";
  lines.push(
    "",
    "With the official Python SDK (pip install ucloud-sdk-python3):",
    "  from ucloud.client import Client",
    `  c = Client({"region": "cn-wlcb", "public_key": "${shownKey}", "private_key": "<private key>", "base_url": "${url}"${server.tls ? ', "ssl_cacert": "<CA file>"' : ""}})`,
    `  print(c.invoke("GetProjectList"))`,
  );
  process.stdout.write(lines.join("\n") + "\n\n");

  // SIGHUP: a renewed certificate is put in place for new connections without a restart. Without
  // TLS the signal keeps its default meaning (the process ends), as before.
  if (server.tls)
    process.on("SIGHUP", () => {
      try {
        server.reloadTls();
        server.log.info("TLS certificate reloaded");
      } catch (e) {
        server.log.error("TLS reload failed; the previous certificate stays in use", { err: e });
      }
    });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info("shutting down", { signal });
    server
      .close()
      .then(() => process.exit(0))
      .catch((e) => {
        server.log.error("shutdown failed", { err: String(e) });
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

/** Every leaf command with its arguments and the first sentence of its description, aligned. */
function listing(root: OcsCommand): string {
  const rows: Array<[string, string]> = [];
  const walk = (cmd: OcsCommand) => {
    if (cmd.commands.length === 0) {
      const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
      rows.push([[pathOf(cmd), ...args].join(" "), cmd.description().split(/(?<=\.) /)[0] ?? ""]);
    }
    for (const sub of cmd.commands) walk(sub as OcsCommand);
  };
  walk(root);
  const width = Math.max(...rows.map(([usage]) => usage.length));
  return rows.map(([usage, what]) => `  ${usage.padEnd(width)}  ${what}`).join("\n");
}

/** The whole `ocs` command tree, parsed by one parser. */
function program(): OcsCommand {
  // Settings made before `.command()` are inherited by every subcommand: errors are thrown (exit
  // codes are ours, see run) and come out as "ocs: …", like the errors of the commands themselves.
  const root = new OcsCommand("ocs")
    .description("opencompshare: a self-hostable server for the CompShare GPU-instance API, and its client")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "ocs: ")) })
    .configureHelp({ showGlobalOptions: true });
  addGlobalFlags(root);

  example(
    root.command("serve").description("Starts the API server (configuration: OCS_* environment)."),
    "OCS_PORT=9000 ocs serve",
  )
    .configureHelp({ showGlobalOptions: false })
    .hook("preAction", (serveCommand) => refuseGlobalFlags(serveCommand))
    .action(() => serve());
  addAdminCommands(root);
  addUserCommands(root);

  // The root's help lists every command to the leaves (below) instead of commander's list of the
  // top level. Set now that the subcommands are made: they keep the configuration they inherited.
  root.configureHelp({ ...root.configureHelp(), visibleCommands: () => [] });
  root.addHelpText(
    "after",
    () =>
      `\nCommands (the user commands work against opencompshare or the real CompShare gateway):\n${listing(root)}\n\n` +
      "Global options go before or after the command; `--` ends the options (what follows is arguments).\n" +
      "ocs <command> --help shows its options and an example.\n\n" +
      "Examples:\n  OCS_PORT=9000 ocs serve\n  ocs admin account create alice\n  ocs --output json instance list\n",
  );
  return root;
}

/**
 * Runs `ocs` with `argv` (the words after `ocs`); returns the exit code: 0 done, 1 the work failed
 * (API error with its RetCode, store or configuration error), 2 usage error.
 */
async function run(argv: string[]): Promise<number> {
  const root = program();
  if (argv.length === 0) {
    root.outputHelp();
    return 0;
  }
  try {
    await root.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    // Commander has printed its message (and help) already; it ends with exit code 0 only for help.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CompShareError) {
      if (wantsJson(root.opts<GlobalFlags>()))
        process.stdout.write(
          `${JSON.stringify({ RetCode: e.retCode, Message: e.message, Action: e.action, RequestId: e.requestId })}\n`,
        );
      process.stderr.write(
        `ocs: error: RetCode ${e.retCode}: ${e.message.replace(/^\w+: RetCode -?\d+: /, "")}${e.requestId ? ` (request ${e.requestId})` : ""}\n`,
      );
      return 1;
    }
    // A driver's error may quote the connection string it was given: never with its password.
    const message = maskUrlPasswords(e instanceof Error ? e.message : String(e));
    const configuration = e instanceof ConfigError || e instanceof CatalogError;
    process.stderr.write(`ocs: ${configuration ? "configuration error: " : ""}${message}\n`);
    return 1;
  }
}

// `ocs … | head` closes the pipe early; what is left to write has no reader, which is no error (help
// in particular comes in several writes).
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await run(process.argv.slice(2));
