import type { Command } from "commander";
import { Option } from "commander";
import { loadConfig } from "../config.js";
import type { AccountService } from "../core/accounts/accounts.js";
import type { AuditLog } from "../core/audit/audit.js";
import type { AuditKind } from "../domain/records.js";
import { adminEntry, openAdmin } from "../server.js";
import { action, example, numberOption, refuseGlobalFlags } from "./command.js";
import { UsageError } from "./helpers.js";

/** What an admin command works with: the configured store's accounts and its audit log. */
interface Admin {
  accounts: AccountService;
  audit: AuditLog;
}

/** Opens the configured store (the OCS_* environment, as `ocs serve` reads it) for one command. */
async function withAdmin(use: (admin: Admin) => Promise<void>): Promise<void> {
  const { accounts, audit, close } = await openAdmin(loadConfig());
  try {
    await use({ accounts, audit });
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
const iso = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());

/**
 * A leaf of `ocs admin`: `run` gets the store, the command's arguments (commander has already
 * checked that the required ones are there) and its options.
 */
function adminCommand(
  group: Command,
  nameAndArgs: string,
  description: string,
  exampleLine: string,
  run: (admin: Admin, args: string[], opts: Record<string, unknown>) => Promise<void>,
  options: Option[] = [],
): void {
  const cmd = example(group.command(nameAndArgs).description(description), exampleLine);
  for (const o of options) cmd.addOption(o);
  cmd.action(action((c) => withAdmin((admin) => run(admin, c.processedArgs as string[], c.opts()))));
}

/** Adds `ocs admin …` (accounts, key pairs, projects and the audit log, straight on the store). */
export function addAdminCommands(program: Command): void {
  const admin = program
    .command("admin")
    .description(
      "Accounts, key pairs, projects and the audit log, on the configured store directly (OCS_* environment).",
    )
    // Set before the subcommands are made, which inherit it: the user commands' flags are refused here.
    .configureHelp({ showGlobalOptions: false })
    .hook("preAction", (_admin, leaf) => refuseGlobalFlags(leaf));

  addAccountCommands(admin.command("account").description("Accounts."));
  addKeyCommands(admin.command("key").description("Key pairs of an account."));

  const project = admin.command("project").description("Projects of an account.");
  adminCommand(
    project,
    "create <account> <name>",
    "Adds a project to an account.",
    "ocs admin project create alice research",
    async ({ accounts }, [name, projectName]) => {
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
    async ({ accounts }, [name]) => {
      for (const p of await accounts.projectsOf((await accountNamed(accounts, name as string)).id))
        out(`${p.id}\t${p.name}${p.isDefault ? "\t(default)" : ""}\n`);
    },
  );

  addAuditCommand(admin);
}

function addAccountCommands(account: Command): void {
  adminCommand(
    account,
    "create <name>",
    "Creates an account (prints its key pair and default project).",
    "ocs admin account create alice",
    async ({ accounts, audit }, [name]) => {
      const r = await accounts.createAccount(name as string);
      audit.record(adminEntry("account create", { accountId: r.account.id, publicKey: r.keyPair.publicKey }));
      out(
        `account ${r.account.name} (${r.account.id}, number ${r.account.number})\n  default project: ${r.project.id}\n  PublicKey:  ${r.keyPair.publicKey}\n  PrivateKey: ${r.keyPair.privateKey}\n`,
      );
    },
  );
  adminCommand(account, "list", "Lists accounts.", "ocs admin account list", async ({ accounts }) => {
    for (const a of await accounts.listAccounts()) {
      out(
        `${a.id}\t#${a.number}\t${a.name}${a.isRoot ? "\t(root)" : ""}\tquota ${a.instanceQuota} instances, ${a.gpuQuota} GPUs${a.disabledAt !== null ? `\tdisabled ${iso(a.disabledAt)}` : ""}\n`,
      );
    }
  });
  for (const [verb, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    adminCommand(
      account,
      `${verb} <account>`,
      disabled
        ? "Disables an account: its keys answer like unknown keys (within 5 s on every replica); its instances keep running."
        : "Enables a disabled account again.",
      `ocs admin account ${verb} alice`,
      async ({ accounts, audit }, [name]) => {
        const a = await accountNamed(accounts, name as string);
        await accounts.setAccountDisabled(a.id, disabled);
        audit.record(adminEntry(`account ${verb}`, { accountId: a.id }));
        out(`account ${a.name} (${a.id}) ${verb}d\n`);
      },
    );
  }
  adminCommand(
    account,
    "quota <account>",
    "Sets an account's quotas: instances it may hold, GPUs its instances may hold at once.",
    "ocs admin account quota alice --gpus 16 --instances 50",
    async ({ accounts, audit }, [name], opts) => {
      const quotas = {
        instances: opts.instances as number | undefined,
        gpus: opts.gpus as number | undefined,
      };
      if (quotas.instances === undefined && quotas.gpus === undefined)
        throw new UsageError("give --instances and/or --gpus");
      const a = await accountNamed(accounts, name as string);
      await accounts.setQuotas(a.id, quotas);
      audit.record(adminEntry("account quota", { accountId: a.id, message: JSON.stringify(quotas) }));
      const now = await accountNamed(accounts, a.id);
      out(`account ${now.name}: ${now.instanceQuota} instances, ${now.gpuQuota} GPUs\n`);
    },
    [numberOption("--instances <n>", "instance quota"), numberOption("--gpus <n>", "GPU quota")],
  );
}

function addKeyCommands(key: Command): void {
  adminCommand(
    key,
    "create <account>",
    "Adds a key pair to an account (prints it once).",
    "ocs admin key create alice",
    async ({ accounts, audit }, [name]) => {
      const a = await accountNamed(accounts, name as string);
      const k = await accounts.createKeyPair(a.id);
      audit.record(adminEntry("key create", { accountId: a.id, publicKey: k.publicKey }));
      out(`PublicKey:  ${k.publicKey}\nPrivateKey: ${k.privateKey}\n`);
    },
  );
  adminCommand(
    key,
    "list <account>",
    "Lists an account's public keys: origin, created, last used (to the minute), disabled.",
    "ocs admin key list alice",
    async ({ accounts }, [name]) => {
      for (const k of await accounts.keyPairsOf((await accountNamed(accounts, name as string)).id))
        out(
          `${k.publicKey}\t${k.origin}\tcreated ${iso(k.createdAt)}\tlast used ${iso(k.lastUsedAt)}${k.disabledAt !== null ? `\tdisabled ${iso(k.disabledAt)}` : ""}\n`,
        );
    },
  );
  const verbs = {
    disable:
      "Disables a key: it answers like an unknown key (within 5 s on every replica). Not the last usable root key.",
    enable: "Enables a disabled key again.",
    delete: "Deletes a key for good. Not the last usable root key.",
  } as const;
  for (const [verb, description] of Object.entries(verbs) as Array<[keyof typeof verbs, string]>) {
    adminCommand(
      key,
      `${verb} <publicKey>`,
      description,
      `ocs admin key ${verb} 4EzbX…`,
      async ({ accounts, audit }, [publicKey]) => {
        const pk = publicKey as string;
        const k =
          verb === "disable"
            ? await accounts.disableKey(pk)
            : verb === "enable"
              ? await accounts.enableKey(pk)
              : await accounts.deleteKey(pk);
        audit.record(adminEntry(`key ${verb}`, { accountId: k.accountId, publicKey: pk }));
        out(`key ${pk} ${verb}d\n`);
      },
    );
  }
}

const DURATION = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since 2h` (s, m, h, d) or an ISO time, as epoch ms. */
function since(value: string): number {
  const m = DURATION.exec(value);
  if (m) return Date.now() - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--since ${value}: give a duration (30m, 2h, 7d) or an ISO time`);
  return t;
}

function addAuditCommand(admin: Command): void {
  adminCommand(
    admin,
    "audit",
    "Shows the audit log, newest first: mutating calls, failed authentications, operators' changes.",
    "ocs admin audit --since 1h --kind auth-failure",
    async ({ accounts, audit }, _args, opts) => {
      const account =
        opts.account === undefined ? undefined : await accountNamed(accounts, opts.account as string);
      const page = await audit.page(
        {
          accountId: account?.id,
          action: opts.action as string | undefined,
          kind: opts.kind as AuditKind | undefined,
          resourceId: opts.resource as string | undefined,
          from: opts.since === undefined ? undefined : since(opts.since as string),
        },
        0,
        (opts.limit as number | undefined) ?? 50,
      );
      for (const e of page.rows) {
        if (opts.jsonl) {
          out(`${JSON.stringify(e)}\n`);
          continue;
        }
        out(
          `${iso(e.at)}\t${e.kind}\t${e.accountId ?? "-"}\t${e.client}\t${e.action}\t${e.retCode}\t${e.resourceIds.join(",") || "-"}\t${e.requestId || "-"}${e.message ? `\t${e.message}` : ""}\n`,
        );
      }
      if (!opts.jsonl) process.stderr.write(`${page.rows.length} of ${page.total} entries\n`);
    },
    [
      new Option("--account <account>", "only this account's entries (name or id)"),
      new Option("--action <name>", "only this Action (or admin command)"),
      new Option("--kind <kind>", "only this kind").choices(["call", "auth-failure", "admin"]),
      new Option("--resource <id>", "only entries naming this resource id"),
      new Option("--since <when>", "from this long ago (30m, 2h, 7d) or an ISO time"),
      numberOption("--limit <n>", "entries to show (default 50)"),
      new Option("--jsonl", "one JSON object per line"),
    ],
  );
}
