/**
 * The official CLI's commands that work against opencompshare, per suite. Each suite proves its
 * list (CompshareCli.assertAllRan), and test/readme.test.ts holds README's CLI table to the union.
 */

/** A user's day with one instance (issue #13). */
export const INSTANCE_COMMANDS = [
  "doctor",
  "instance zones",
  "instance families",
  "instance search",
  "instance price",
  "instance create",
  "instance list",
  "instance show",
  "instance wait",
  "instance stop",
  "instance start",
  "instance reboot",
  "instance rename",
  "instance password",
  "instance reinstall",
  "instance resize",
  "instance schedule set",
  "instance schedule show",
  "instance schedule extend",
  "instance schedule cancel",
  "instance delete",
  "instance ssh",
  "image list",
  "image show",
] as const;

/** Custom images: make, follow, list, show, change, share, start instances from, delete (issue #14). */
export const IMAGE_COMMANDS = [
  "image create",
  "image progress",
  "image list",
  "image show",
  "image update",
  "image share",
  "image shares",
  "image unshare",
  "image delete",
  "instance create",
] as const;

/** Data disks, monitoring, ports and the two price queries: the rest of a user's day (issue #15). */
export const USAGE_COMMANDS = [
  "storage disk list",
  "storage disk create",
  "storage disk attach",
  "storage disk detach",
  "storage disk price",
  "storage disk resize",
  "storage disk delete",
  "instance monitor",
  "instance ports list",
  "instance ports update",
  "instance software list",
  "instance resize-price",
  "instance refund",
] as const;

/** Every command the suites prove (a command two suites use is listed once). */
export const WORKING_COMMANDS: readonly string[] = [
  ...new Set<string>([...INSTANCE_COMMANDS, ...IMAGE_COMMANDS, ...USAGE_COMMANDS]),
];
