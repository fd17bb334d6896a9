import type { Command } from "commander";
import { loadConfig } from "../config.js";
import type { AccountService } from "../core/accounts/accounts.js";
import { openAdmin } from "../server.js";
import { action, example, refuseGlobalFlags } from "./command.js";

/** Opens the configured store (the OCS_* environment, as `ocs serve` reads it) for one command. */
async function withAccounts(use: (accounts: AccountService) => Promise<void>): Promise<void> {
  const { accounts, close } = await openAdmin(loadConfig());
  try {
    await use(accounts);
  } finally {
    await close();
  }
}

/** An account by name or id; not finding it is an error of the command (exit 1), not of its usage. */
async function accountNamed(accounts: AccountService, name: string) {
  const a = (await accounts.accountByName(name)) ?? (await accounts.account(name));
  if (!a) throw new Error(`account ${name} not found`);
  return a;
}

const out = (text: string) => process.stdout.write(text);

/**
 * A leaf of `ocs admin`: `run` gets the account service and the command's arguments (commander has
 * already checked that the required ones are there).
 */
function adminCommand(
  group: Command,
  nameAndArgs: string,
  description: string,
  exampleLine: string,
  run: (accounts: AccountService, args: string[]) => Promise<void>,
): void {
  example(group.command(nameAndArgs).description(description), exampleLine).action(
    action((cmd) => withAccounts((accounts) => run(accounts, cmd.processedArgs as string[]))),
  );
}

/** Adds `ocs admin …` (accounts, key pairs and projects, straight on the store) to the root command. */
export function addAdminCommands(program: Command): void {
  const admin = program
    .command("admin")
    .description("Accounts, key pairs and projects, on the configured store directly (OCS_* environment).")
    // Set before the subcommands are made, which inherit it: the user commands' flags are refused here.
    .configureHelp({ showGlobalOptions: false })
    .hook("preAction", (_admin, leaf) => refuseGlobalFlags(leaf));

  const account = admin.command("account").description("Accounts.");
  adminCommand(
    account,
    "create <name>",
    "Creates an account (prints its key pair and default project).",
    "ocs admin account create alice",
    async (accounts, [name]) => {
      const r = await accounts.createAccount(name as string);
      out(
        `account ${r.account.name} (${r.account.id}, number ${r.account.number})\n  default project: ${r.project.id}\n  PublicKey:  ${r.keyPair.publicKey}\n  PrivateKey: ${r.keyPair.privateKey}\n`,
      );
    },
  );
  adminCommand(account, "list", "Lists accounts.", "ocs admin account list", async (accounts) => {
    for (const a of await accounts.listAccounts()) {
      out(`${a.id}\t#${a.number}\t${a.name}${a.isRoot ? "\t(root)" : ""}\tquota ${a.instanceQuota}\n`);
    }
  });

  const key = admin.command("key").description("Key pairs of an account.");
  adminCommand(
    key,
    "create <account>",
    "Adds a key pair to an account (prints it once).",
    "ocs admin key create alice",
    async (accounts, [name]) => {
      const k = await accounts.createKeyPair((await accountNamed(accounts, name as string)).id);
      out(`PublicKey:  ${k.publicKey}\nPrivateKey: ${k.privateKey}\n`);
    },
  );
  adminCommand(
    key,
    "list <account>",
    "Lists an account's public keys.",
    "ocs admin key list alice",
    async (accounts, [name]) => {
      for (const k of await accounts.keyPairsOf((await accountNamed(accounts, name as string)).id))
        out(`${k.publicKey}\t${new Date(k.createdAt).toISOString()}\n`);
    },
  );

  const project = admin.command("project").description("Projects of an account.");
  adminCommand(
    project,
    "create <account> <name>",
    "Adds a project to an account.",
    "ocs admin project create alice research",
    async (accounts, [name, projectName]) => {
      const p = await accounts.createProject(
        (await accountNamed(accounts, name as string)).id,
        projectName as string,
      );
      out(`${p.id}\t${p.name}\n`);
    },
  );
  adminCommand(
    project,
    "list <account>",
    "Lists an account's projects.",
    "ocs admin project list alice",
    async (accounts, [name]) => {
      for (const p of await accounts.projectsOf((await accountNamed(accounts, name as string)).id))
        out(`${p.id}\t${p.name}${p.isDefault ? "\t(default)" : ""}\n`);
    },
  );
}
