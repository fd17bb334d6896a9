#!/usr/bin/env node
import { ConfigError, loadConfig, sqlitePath } from "../config.js";
import { CatalogError } from "../core/catalog/catalog.js";
import { computeSignature } from "../protocol/signature.js";
import { createServer, openAdmin } from "../server.js";
import { USER_COMMANDS, runUserCommand, userHelp } from "./user.js";

const HELP = `ocs — opencompshare

Usage:
  ocs serve                                   start the API server (configuration: OCS_* environment)
  ocs admin account create <name>             create an account (prints its key pair and default project)
  ocs admin account list                      list accounts
  ocs admin key create <account>              add a key pair to an account (prints it once)
  ocs admin key list <account>                list an account's public keys
  ocs admin project create <account> <name>   add a project to an account
  ocs admin project list <account>            list an account's projects

Examples:
  OCS_PORT=9000 ocs serve
  ocs admin account create alice
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`ocs: ${message}\n`);
  process.exit(code);
}

async function serve(): Promise<void> {
  const config = loadConfig();
  const server = await createServer(config);
  const { host, port } = await server.listen();
  const url = `http://${host}:${port}`;
  const rootAccount = (await server.services.accounts.listAccounts()).find((a) => a.isRoot);
  const keys = rootAccount ? await server.services.accounts.keyPairsOf(rootAccount.id) : [];
  const lines = [
    "",
    `opencompshare listening on ${url}  (driver: ${config.driver}, store: ${config.databaseUrl ?? sqlitePath(config)})`,
  ];
  const generated = server.generatedRootKeys;
  const configured =
    config.rootPublicKey && config.rootPrivateKey
      ? { publicKey: config.rootPublicKey, privateKey: config.rootPrivateKey }
      : undefined;
  const shown = generated ?? configured;
  if (generated) {
    lines.push("", "Root key pair (generated now, printed only this once — keep it):");
  } else if (configured) {
    lines.push("", "Root key pair (from OCS_ROOT_PUBLIC_KEY / OCS_ROOT_PRIVATE_KEY):");
  }
  if (shown) {
    lines.push(`  PublicKey:  ${shown.publicKey}`, `  PrivateKey: ${shown.privateKey}`);
    const params = { Action: "GetProjectList", PublicKey: shown.publicKey };
    const sig = computeSignature(params, shown.privateKey);
    lines.push(
      "",
      "Example call:",
      `  curl -s '${url}/?Action=GetProjectList&PublicKey=${encodeURIComponent(shown.publicKey)}&Signature=${sig}'`,
      "",
      "With the official Python SDK (pip install ucloud-sdk-python3):",
      "  from ucloud.client import Client",
      `  c = Client({"region": "cn-wlcb", "public_key": "${shown.publicKey}", "private_key": "<PrivateKey>", "base_url": "${url}"})`,
      `  print(c.invoke("GetProjectList"))`,
    );
  } else {
    lines.push(
      "",
      `Root PublicKey: ${keys[0]?.publicKey ?? "(none)"}`,
      "Its private key was printed on first start. `ocs admin key create root` adds another pair.",
    );
  }
  process.stdout.write(lines.join("\n") + "\n\n");

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

async function admin(args: string[]): Promise<void> {
  const { accounts, close } = await openAdmin(loadConfig());
  const [noun, verb, ...rest] = args;
  const byName = async (name: string | undefined) => {
    if (!name) fail("name the account");
    const a = (await accounts.accountByName(name)) ?? (await accounts.account(name));
    if (!a) fail(`account ${name} not found`);
    return a;
  };
  try {
    switch (`${noun} ${verb}`) {
      case "account create": {
        const name = rest[0] ?? fail("usage: ocs admin account create <name>");
        const r = await accounts.createAccount(name);
        process.stdout.write(
          `account ${r.account.name} (${r.account.id})\n  default project: ${r.project.id}\n  PublicKey:  ${r.keyPair.publicKey}\n  PrivateKey: ${r.keyPair.privateKey}\n`,
        );
        break;
      }
      case "account list":
        for (const a of await accounts.listAccounts()) {
          process.stdout.write(`${a.id}\t${a.name}${a.isRoot ? "\t(root)" : ""}\tquota ${a.instanceQuota}\n`);
        }
        break;
      case "key create": {
        const a = await byName(rest[0]);
        const k = await accounts.createKeyPair(a.id);
        process.stdout.write(`PublicKey:  ${k.publicKey}\nPrivateKey: ${k.privateKey}\n`);
        break;
      }
      case "key list": {
        const a = await byName(rest[0]);
        for (const k of await accounts.keyPairsOf(a.id))
          process.stdout.write(`${k.publicKey}\t${new Date(k.createdAt).toISOString()}\n`);
        break;
      }
      case "project create": {
        const a = await byName(rest[0]);
        const name = rest[1] ?? fail("usage: ocs admin project create <account> <name>");
        const p = await accounts.createProject(a.id, name);
        process.stdout.write(`${p.id}\t${p.name}\n`);
        break;
      }
      case "project list": {
        const a = await byName(rest[0]);
        for (const p of await accounts.projectsOf(a.id))
          process.stdout.write(`${p.id}\t${p.name}${p.isDefault ? "\t(default)" : ""}\n`);
        break;
      }
      default:
        fail(`unknown admin command "${args.join(" ")}"\n\n${HELP}`, 2);
    }
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case "serve":
      return serve();
    case "admin":
      return admin(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(
        `${HELP}\nUser commands (against opencompshare or the real CompShare gateway):\n${userHelp()}`,
      );
      return;
    default:
      if (USER_COMMANDS.has(cmd)) {
        process.exitCode = await runUserCommand(process.argv.slice(2));
        return;
      }
      fail(`unknown command "${cmd}"\n\n${HELP}`, 2);
  }
}

main().catch((e) => {
  if (e instanceof ConfigError || e instanceof CatalogError) fail(`configuration error: ${e.message}`);
  fail(e instanceof Error ? e.message : String(e));
});
