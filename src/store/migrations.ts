import { INSTANCE_COUNTS_MIGRATION } from "./counts-repo.js";
import type { Db } from "./db.js";
import { DISK_VERSION_MIGRATION } from "./disks-repo.js";
import { EVENTS_AT_COMMIT_MIGRATION, EVENTS_AT_COMMIT_PLAN_MIGRATION } from "./events-repo.js";
import { INSTANCE_VERSION_MIGRATION } from "./instances-repo.js";

/**
 * One migration history for every dialect. Types are the portable subset: TEXT, BIGINT (epoch ms
 * and counters), DOUBLE PRECISION; booleans are 0/1 integers. Never edit a shipped migration;
 * append a new one.
 */
export interface Migration {
  id: number;
  name: string;
  /** Portable statements, or one list per dialect where their DDL differs. */
  sql: string[] | { sqlite: string[]; postgres: string[] };
}

/** Migration 8's statements that both dialects spell alike. */
const SECURITY_COLUMNS = [
  "ALTER TABLE accounts ADD COLUMN disabled_at BIGINT",
  "ALTER TABLE accounts ADD COLUMN gpu_quota BIGINT NOT NULL DEFAULT 8",
  "UPDATE accounts SET gpu_quota = 1000000 WHERE is_root = 1",
  "ALTER TABLE key_pairs ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin'",
  "ALTER TABLE key_pairs ADD COLUMN disabled_at BIGINT",
  "ALTER TABLE key_pairs ADD COLUMN last_used_at BIGINT",
  "UPDATE key_pairs SET origin = 'config' WHERE account_id IN (SELECT id FROM accounts WHERE is_root = 1)",
  "CREATE INDEX key_pairs_account ON key_pairs(account_id)",
  // The quotas count an account's instances; without it that is a scan of every instance.
  "CREATE INDEX instances_account ON instances(account_id, in_recycle)",
];
const AUDIT_COLUMNS = `at BIGINT NOT NULL,
          kind TEXT NOT NULL,
          account_id TEXT,
          public_key TEXT,
          client TEXT NOT NULL,
          action TEXT NOT NULL,
          resource_ids TEXT NOT NULL DEFAULT '[]',
          ret_code BIGINT NOT NULL,
          request_id TEXT NOT NULL,
          message TEXT NOT NULL DEFAULT ''`;
const AUDIT_INDEXES = [
  "CREATE INDEX audit_log_at ON audit_log(at)",
  "CREATE INDEX audit_log_account ON audit_log(account_id, seq)",
];

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: "accounts-keys-projects",
    sql: [
      `CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        is_root BIGINT NOT NULL DEFAULT 0,
        instance_quota BIGINT NOT NULL DEFAULT 100,
        created_at BIGINT NOT NULL)`,
      `CREATE TABLE key_pairs (
        public_key TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        private_key_sealed TEXT NOT NULL,
        created_at BIGINT NOT NULL)`,
      `CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        name TEXT NOT NULL,
        is_default BIGINT NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL)`,
      "CREATE INDEX projects_account ON projects(account_id)",
    ],
  },
  {
    id: 2,
    name: "hosts-instances-disks-tasks",
    sql: [
      `CREATE TABLE hosts (
        id TEXT PRIMARY KEY,
        zone TEXT NOT NULL,
        gpu_type TEXT NOT NULL,
        gpu_count BIGINT NOT NULL,
        cpu_total BIGINT NOT NULL,
        memory_total BIGINT NOT NULL,
        cpu_used BIGINT NOT NULL DEFAULT 0,
        memory_used BIGINT NOT NULL DEFAULT 0,
        retired BIGINT NOT NULL DEFAULT 0)`,
      `CREATE TABLE host_gpus (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        gpu_index BIGINT NOT NULL,
        instance_id TEXT,
        PRIMARY KEY (host_id, gpu_index))`,
      "CREATE INDEX host_gpus_instance ON host_gpus(instance_id)",
      `CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        project_id TEXT NOT NULL REFERENCES projects(id),
        region TEXT NOT NULL,
        zone TEXT NOT NULL,
        name TEXT NOT NULL,
        tag TEXT NOT NULL DEFAULT 'Default',
        remark TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        operation TEXT,
        operation_expires_at BIGINT,
        instance_type TEXT NOT NULL,
        machine_type TEXT NOT NULL,
        gpu_type TEXT NOT NULL,
        gpu BIGINT NOT NULL,
        cpu BIGINT NOT NULL,
        memory BIGINT NOT NULL,
        cpu_platform TEXT NOT NULL,
        without_gpu BIGINT NOT NULL DEFAULT 0,
        host_id TEXT REFERENCES hosts(id),
        holds_compute BIGINT NOT NULL DEFAULT 0,
        charge_type TEXT NOT NULL,
        image_id TEXT NOT NULL,
        password_sealed TEXT NOT NULL,
        making_image BIGINT NOT NULL DEFAULT 0,
        in_recycle BIGINT NOT NULL DEFAULT 0,
        recycled_at BIGINT,
        release_udisk BIGINT NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        started_at BIGINT,
        stopped_at BIGINT,
        expire_at BIGINT,
        scheduler_stop_at BIGINT,
        release_at BIGINT,
        pending_spec TEXT,
        last_error TEXT)`,
      "CREATE INDEX instances_project ON instances(project_id, in_recycle, created_at)",
      `CREATE TABLE disks (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        instance_id TEXT,
        zone TEXT NOT NULL,
        is_boot BIGINT NOT NULL,
        disk_type TEXT NOT NULL,
        size_gb BIGINT NOT NULL,
        drive TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at BIGINT NOT NULL)`,
      "CREATE INDEX disks_instance ON disks(instance_id)",
      `CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        claimed_by TEXT,
        claim_expires_at BIGINT,
        attempts BIGINT NOT NULL DEFAULT 0,
        payload TEXT NOT NULL DEFAULT '{}',
        created_at BIGINT NOT NULL)`,
      "CREATE INDEX tasks_due ON tasks(due_at)",
      "CREATE INDEX tasks_instance ON tasks(instance_id, kind)",
    ],
  },
  {
    id: 3,
    name: "describe-order-index",
    // Describe pages are ordered by (created_at DESC, id DESC); with id in the index SQLite and
    // PostgreSQL walk it backwards instead of sorting the project's rows in a temporary B-tree.
    sql: [
      "CREATE INDEX instances_project_order ON instances(project_id, in_recycle, created_at, id)",
      "DROP INDEX instances_project",
    ],
  },
  {
    id: 4,
    name: "instance-access",
    // Where the driver says an instance is reached (the docker driver publishes SSH on a host port).
    sql: [
      "ALTER TABLE instances ADD COLUMN access_host TEXT",
      "ALTER TABLE instances ADD COLUMN access_port BIGINT",
    ],
  },
  {
    id: 5,
    name: "store-meta",
    // Facts about the store itself, such as the id that scopes what a driver made for it.
    sql: ["CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"],
  },
  {
    id: 6,
    name: "events",
    // The outbox every state change writes in its own transaction. `seq` orders events as they
    // committed (writers serialise on it, see EventsRepo), so a reader resuming after a seq never
    // misses one; the dialects spell an auto-increment key differently.
    sql: {
      sqlite: [
        `CREATE TABLE events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          at BIGINT NOT NULL,
          account_id TEXT NOT NULL,
          project_id TEXT NOT NULL,
          resource_type TEXT NOT NULL,
          resource_id TEXT NOT NULL,
          kind TEXT NOT NULL,
          data TEXT NOT NULL DEFAULT '{}')`,
        "CREATE INDEX events_account ON events(account_id, seq)",
        "CREATE INDEX events_at ON events(at)",
      ],
      postgres: [
        `CREATE TABLE events (
          seq BIGSERIAL PRIMARY KEY,
          at BIGINT NOT NULL,
          account_id TEXT NOT NULL,
          project_id TEXT NOT NULL,
          resource_type TEXT NOT NULL,
          resource_id TEXT NOT NULL,
          kind TEXT NOT NULL,
          data TEXT NOT NULL DEFAULT '{}')`,
        "CREATE INDEX events_account ON events(account_id, seq)",
        "CREATE INDEX events_at ON events(at)",
      ],
    },
  },
  // Ids 7-11 are reserved for work landing in parallel (custom images, security, disks, kubernetes,
  // console); a store applies every migration it has not yet, whatever the order they landed in.
  {
    id: 7,
    name: "custom-images",
    // Custom images and whom they are shared with. A deleted image keeps its row (deleted_at): the
    // instances made from it still read their runtime reference there; names are unique among the
    // account's live images only. Accounts get the integer number CompShare's sharing calls name
    // them by, numbered in creation order for the accounts that exist already.
    sql: [
      `CREATE TABLE images (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        project_id TEXT NOT NULL,
        region TEXT NOT NULL,
        zone TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        softwares TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        source_instance_id TEXT NOT NULL,
        source_gpu_type TEXT NOT NULL,
        base_image_id TEXT NOT NULL,
        container BIGINT NOT NULL,
        runtime_ref TEXT,
        size_mb BIGINT NOT NULL DEFAULT 0,
        progress DOUBLE PRECISION NOT NULL DEFAULT 0,
        total_seconds BIGINT NOT NULL DEFAULT 0,
        remaining_seconds BIGINT NOT NULL DEFAULT 0,
        failed_reason TEXT NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        finished_at BIGINT,
        deleted_at BIGINT)`,
      "CREATE UNIQUE INDEX images_account_name ON images(account_id, name) WHERE deleted_at IS NULL",
      "CREATE INDEX images_account ON images(account_id, deleted_at, created_at)",
      `CREATE TABLE image_shares (
        image_id TEXT NOT NULL REFERENCES images(id),
        account_id TEXT NOT NULL REFERENCES accounts(id),
        created_at BIGINT NOT NULL,
        PRIMARY KEY (image_id, account_id))`,
      "CREATE INDEX image_shares_account ON image_shares(account_id)",
      "ALTER TABLE accounts ADD COLUMN number BIGINT",
      `UPDATE accounts SET number = 10000000 + (SELECT COUNT(*) FROM accounts a2
         WHERE a2.created_at < accounts.created_at OR (a2.created_at = accounts.created_at AND a2.id <= accounts.id))`,
      "CREATE UNIQUE INDEX accounts_number ON accounts(number)",
    ],
  },
  {
    id: 8,
    name: "security",
    // Key lifecycle (where a key came from, disabled, last used), disabled accounts, a GPU quota
    // beside the instance quota, and the audit log. Root keys that exist at this upgrade are taken
    // as the configured or generated root key, so a start with other OCS_ROOT_* keys replaces them.
    // Existing accounts get the default GPU quota (8); root is not held to one.
    sql: {
      sqlite: [
        ...SECURITY_COLUMNS,
        `CREATE TABLE audit_log (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          ${AUDIT_COLUMNS})`,
        ...AUDIT_INDEXES,
      ],
      postgres: [
        ...SECURITY_COLUMNS,
        `CREATE TABLE audit_log (
          seq BIGSERIAL PRIMARY KEY,
          ${AUDIT_COLUMNS})`,
        ...AUDIT_INDEXES,
      ],
    },
  },
  {
    id: 9,
    name: "disks-ports-monitor",
    // Disks become resources of their own (DescribeCompshareDisk): a name, a project, a charge type,
    // and `kept_for`, the instance in the recycle bin a detached disk goes back to on Recover. The
    // data disks Terminate kept used to stay tied to their instance (state Available): they become
    // detached disks now. Instances get the ports they publish (UpdateCompShareInstancePorts) and
    // where the runtime published them at the last start. Monitoring samples live in the store, so
    // every replica answers GetCompShareInstanceMonitor (README "Monitoring").
    sql: [
      "ALTER TABLE disks ADD COLUMN name TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE disks ADD COLUMN project_id TEXT",
      "ALTER TABLE disks ADD COLUMN charge_type TEXT NOT NULL DEFAULT 'Postpay'",
      "ALTER TABLE disks ADD COLUMN kept_for TEXT",
      `UPDATE disks SET project_id = (SELECT i.project_id FROM instances i WHERE i.id = disks.instance_id),
         charge_type = COALESCE((SELECT i.charge_type FROM instances i WHERE i.id = disks.instance_id), 'Postpay')
         WHERE instance_id IS NOT NULL`,
      `UPDATE disks SET project_id = (SELECT p.id FROM projects p WHERE p.account_id = disks.account_id AND p.is_default = 1)
         WHERE project_id IS NULL`,
      `UPDATE disks SET kept_for = instance_id, instance_id = NULL, drive = ''
         WHERE is_boot = 0 AND state = 'Available' AND instance_id IS NOT NULL`,
      "CREATE INDEX disks_project ON disks(project_id, state)",
      "CREATE INDEX disks_kept_for ON disks(kept_for)",
      `ALTER TABLE instances ADD COLUMN ports TEXT NOT NULL DEFAULT '{"http":[],"tcp":[]}'`,
      "ALTER TABLE instances ADD COLUMN published_ports TEXT NOT NULL DEFAULT '{}'",
      `CREATE TABLE monitor_samples (
        instance_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (instance_id, at))`,
      "CREATE INDEX monitor_samples_at ON monitor_samples(at)",
    ],
  },
  {
    id: 11,
    name: "events-by-resource",
    // An instance's history and a stream filtered by UHostIds read events by resource, newest or oldest first.
    sql: ["CREATE INDEX events_resource ON events(resource_id, seq)"],
  },
  {
    id: 12,
    name: "without-gpu-specs",
    // Which named no-GPU spec an instance runs with, and the no-GPU mode a Resize put it in.
    sql: [
      "ALTER TABLE instances ADD COLUMN without_gpu_spec TEXT",
      "ALTER TABLE instances ADD COLUMN no_gpu_mode TEXT",
    ],
  },
  INSTANCE_COUNTS_MIGRATION,
  {
    id: 46,
    name: "tasks-claim-order",
    // Claims take due tasks in (due_at, id) order: with id in the index both dialects walk it and
    // stop after the batch, instead of sorting every due task per claim (100,000 scheduled stops
    // due at once made each claim sort 100,000 rows).
    sql: ["CREATE INDEX tasks_due_order ON tasks(due_at, id)", "DROP INDEX tasks_due"],
  },
  {
    id: 47,
    name: "running-instances",
    // The monitoring collector reads the running instances every tick: without an index that is a
    // scan of every instance (a million, most stopped) that holds the process each time. Partial,
    // so a planner without statistics (PostgreSQL after a bulk load) never prefers it to the
    // primary key for an update by id, as it did a plain index on state (a scan per update).
    sql: ["CREATE INDEX instances_running ON instances(id) WHERE state = 'Running' AND in_recycle = 0"],
  },
  EVENTS_AT_COMMIT_MIGRATION,
  INSTANCE_VERSION_MIGRATION,
  DISK_VERSION_MIGRATION,
  EVENTS_AT_COMMIT_PLAN_MIGRATION,
];

/** Advisory-lock key for migrations and start-up recovery ("ocs" in ASCII). */
export const MIGRATION_LOCK = 0x6f6373;

/**
 * Applies pending migrations, each in its own transaction, recording them in schema_migrations.
 * Callers on PostgreSQL hold {@link MIGRATION_LOCK} (see openDb) so replicas do not race.
 */
export async function migrate(db: Db): Promise<number[]> {
  await db.run(
    "CREATE TABLE IF NOT EXISTS schema_migrations (id BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
  );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const done = await db.tx(async (tx) => {
      const rows = await tx.all("SELECT id FROM schema_migrations WHERE id = ?", [m.id]);
      if (rows.length > 0) return false;
      const statements = Array.isArray(m.sql) ? m.sql : m.sql[tx.dialect];
      for (const stmt of statements) await tx.run(stmt);
      await tx.run("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)", [
        m.id,
        m.name,
        Date.now(),
      ]);
      return true;
    });
    if (done) applied.push(m.id);
  }
  return applied;
}
