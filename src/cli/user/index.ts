import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { action } from "../command.js";
import { table } from "../helpers.js";
import { addCatalogCommands } from "./catalog.js";
import {
  PROFILE_KEYS,
  type Profile,
  clientFor,
  input,
  leaf,
  out,
  print,
  profilePath,
  readProfile,
} from "./context.js";
import { addImageCommands } from "./images.js";
import { addInstanceCommands, addRecycleCommands } from "./instances.js";
import { addUsageCommands } from "./usage.js";

/**
 * Adds the user commands (against opencompshare or the real CompShare gateway, over the SDK) to the
 * root command. Their global flags ({@link GlobalFlags}) are the root's.
 */
export function addUserCommands(program: Command): void {
  leaf(
    program,
    "configure",
    `Saves credentials and defaults to the profile. That is ${"$XDG_CONFIG_HOME"}/opencompshare/profile.json (mode 0600); it asks for missing values when run in a terminal.`,
    "ocs configure --base-url http://127.0.0.1:8080 --public-key AKID --private-key SECRET",
  ).action(
    action(async (cmd) => {
      const { f } = input(cmd);
      const next: Profile = { ...readProfile() };
      for (const [key] of PROFILE_KEYS) {
        const v = f[key];
        if (v !== undefined) next[key] = v;
      }
      if (process.stdin.isTTY) {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        for (const [key, flag] of PROFILE_KEYS) {
          if (f[key] !== undefined) continue;
          const shown = key === "privateKey" && next[key] ? "****" : (next[key] ?? "");
          const answer = (await rl.question(`${flag} [${shown}]: `)).trim();
          if (answer) next[key] = answer;
        }
        rl.close();
      }
      const path = profilePath();
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
      out(`saved ${path}\n`);
    }),
  );

  leaf(
    program.command("project").description("Projects of the account."),
    "list",
    "Lists your projects (the default first).",
    "ocs project list --output json",
  ).action(
    action(async (cmd) => {
      const { f } = input(cmd);
      const r = await clientFor(f).getProjectList();
      print(f, r.ProjectSet, () =>
        table(
          ["PROJECT", "NAME", "DEFAULT", "INSTANCES"],
          r.ProjectSet.map((p) => [p.ProjectId, p.ProjectName, p.IsDefault ? "yes" : "", p.ResourceCount]),
        ),
      );
    }),
  );

  addInstanceCommands(program);
  addRecycleCommands(program);
  addImageCommands(program);
  addUsageCommands(program);
  addCatalogCommands(program);
}
