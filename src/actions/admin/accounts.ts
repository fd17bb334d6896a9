import { unixSeconds } from "../../domain/clock.js";
import { badParam } from "../../domain/errors.js";
import { f } from "../../protocol/schema.js";
import type { ActionContext } from "../types.js";
import { defineAction } from "../types.js";

/*
 * Operator extensions (root key only): the accounts, key pairs and projects that `ocs admin` manages
 * on the store directly, as signed Actions for the web console. A private key is shown once, in the
 * answer that creates it, as `ocs admin` prints it once.
 */

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

async function accountOrThrow(ctx: ActionContext, id: string) {
  const a = await ctx.services.accounts.account(id);
  if (!a) throw badParam("AccountId", `no account ${id}`);
  return a;
}

export const describeAccounts = defineAction({
  name: "AdminDescribeAccounts",
  // A read, though its name does not say so: not audited as a change.
  readOnly: true,
  schema: {},
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx) {
    const { accounts, instances } = ctx.services;
    const list = await accounts.listAccounts();
    const AccountSet = await Promise.all(
      list.map(async (a) => {
        const [projects, keys] = await Promise.all([accounts.projectsOf(a.id), accounts.keyPairsOf(a.id)]);
        const ProjectSet = await Promise.all(
          projects.map(async (p) => ({
            ProjectId: p.id,
            ProjectName: p.name,
            IsDefault: p.isDefault,
            ResourceCount: await instances.countInProject(p.id),
            CreateTime: unixSeconds(p.createdAt),
          })),
        );
        return {
          AccountId: a.id,
          Name: a.name,
          IsRoot: a.isRoot,
          Disabled: a.disabledAt !== null,
          InstanceQuota: a.instanceQuota,
          GpuQuota: a.gpuQuota,
          InstanceCount: ProjectSet.reduce((n, p) => n + p.ResourceCount, 0),
          CreateTime: unixSeconds(a.createdAt),
          ProjectSet,
          KeySet: keys.map((k) => ({
            PublicKey: k.publicKey,
            Origin: k.origin,
            Disabled: k.disabledAt !== null,
            CreateTime: unixSeconds(k.createdAt),
            LastUsedTime: k.lastUsedAt === null ? 0 : unixSeconds(k.lastUsedAt),
          })),
        };
      }),
    );
    return { TotalCount: AccountSet.length, AccountSet };
  },
});

export const createAccount = defineAction({
  name: "AdminCreateAccount",
  schema: {
    Name: f.str({ required: true, pattern: NAME, patternHint: "1-64 letters, digits, _ . @ -" }),
    InstanceQuota: f.int({ min: 0, max: 1_000_000 }),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const r = await ctx.services.accounts.createAccount(p.Name, { instanceQuota: p.InstanceQuota });
    return {
      AccountId: r.account.id,
      Name: r.account.name,
      ProjectId: r.project.id,
      PublicKey: r.keyPair.publicKey,
      PrivateKey: r.keyPair.privateKey,
    };
  },
});

export const createKeyPair = defineAction({
  name: "AdminCreateKeyPair",
  schema: { AccountId: f.str({ required: true, maxLength: 64 }) },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    await accountOrThrow(ctx, p.AccountId);
    const k = await ctx.services.accounts.createKeyPair(p.AccountId);
    return { AccountId: p.AccountId, PublicKey: k.publicKey, PrivateKey: k.privateKey };
  },
});

export const createProject = defineAction({
  name: "AdminCreateProject",
  schema: {
    AccountId: f.str({ required: true, maxLength: 64 }),
    ProjectName: f.str({ required: true, maxLength: 64, pattern: /\S/, patternHint: "not blank" }),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    await accountOrThrow(ctx, p.AccountId);
    const project = await ctx.services.accounts.createProject(p.AccountId, p.ProjectName);
    return { AccountId: p.AccountId, ProjectId: project.id, ProjectName: project.name };
  },
});

export const updateKeyPair = defineAction({
  name: "AdminUpdateKeyPair",
  // `PublicKey` is the caller's own (every signed call carries it): the key acted on is named apart.
  schema: {
    TargetPublicKey: f.str({ required: true, maxLength: 128 }),
    Operation: f.str({ required: true, oneOf: ["Disable", "Enable", "Delete"] }),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const { accounts } = ctx.services;
    const op = { Disable: accounts.disableKey, Enable: accounts.enableKey, Delete: accounts.deleteKey }[
      p.Operation as "Disable" | "Enable" | "Delete"
    ];
    const k = await op.call(accounts, p.TargetPublicKey);
    return { TargetPublicKey: k.publicKey, AccountId: k.accountId };
  },
});

export const updateAccount = defineAction({
  name: "AdminUpdateAccount",
  schema: {
    AccountId: f.str({ required: true, maxLength: 64 }),
    Disabled: f.bool(),
    InstanceQuota: f.int({ min: 0, max: 1_000_000 }),
    GpuQuota: f.int({ min: 0, max: 1_000_000 }),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const { accounts } = ctx.services;
    await accountOrThrow(ctx, p.AccountId);
    if (p.InstanceQuota !== undefined || p.GpuQuota !== undefined)
      await accounts.setQuotas(p.AccountId, { instances: p.InstanceQuota, gpus: p.GpuQuota });
    if (p.Disabled !== undefined) await accounts.setAccountDisabled(p.AccountId, p.Disabled);
    return { AccountId: p.AccountId };
  },
});
