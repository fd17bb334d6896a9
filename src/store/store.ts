import type { DiskRecord, InstanceRecord } from "../domain/records.js";
import { AccountsRepo } from "./accounts-repo.js";
import { AuditRepo } from "./audit-repo.js";
import { CountsRepo } from "./counts-repo.js";
import type { Db } from "./db.js";
import { SqliteDb } from "./db.js";
import { DisksRepo } from "./disks-repo.js";
import { EVENTS_CHANNEL, EventsRepo } from "./events-repo.js";
import { HostsRepo } from "./hosts-repo.js";
import { ImagesRepo } from "./images-repo.js";
import { InstancesRepo } from "./instances-repo.js";
import { MetaRepo } from "./meta-repo.js";
import { MIGRATION_LOCK, migrate } from "./migrations.js";
import { MonitorRepo } from "./monitor-repo.js";
import type { Listener } from "./pg-listen.js";
import { listenPg } from "./pg-listen.js";
import { PgDb } from "./pg.js";
import { TasksRepo } from "./tasks-repo.js";
import { VersionedCache } from "./versioned-cache.js";

/** Every repository, bound to one handle (the pool, or one transaction). */
export interface Repos {
  readonly instances: InstancesRepo;
  readonly disks: DisksRepo;
  readonly hosts: HostsRepo;
  readonly tasks: TasksRepo;
  readonly accounts: AccountsRepo;
  readonly meta: MetaRepo;
  readonly events: EventsRepo;
  readonly counts: CountsRepo;
  readonly images: ImagesRepo;
  readonly monitor: MonitorRepo;
  readonly audit: AuditRepo;
}

/** Repositories made on first use, so a transaction pays only for the ones it touches. */
class BoundRepos implements Repos {
  #instances?: InstancesRepo;
  #disks?: DisksRepo;
  #hosts?: HostsRepo;
  #tasks?: TasksRepo;
  #accounts?: AccountsRepo;
  #meta?: MetaRepo;
  #events?: EventsRepo;
  #counts?: CountsRepo;
  #images?: ImagesRepo;
  #monitor?: MonitorRepo;
  #audit?: AuditRepo;
  constructor(
    protected readonly handle: Db,
    private readonly inTx = false,
    /** Shared by the store and every transaction's repositories (validated per read: see the class). */
    protected readonly caches = {
      instances: new VersionedCache<InstanceRecord>(),
      disks: new VersionedCache<DiskRecord>(),
    },
  ) {}
  get instances(): InstancesRepo {
    this.#instances ??= new InstancesRepo(this.handle, this.caches.instances, this.caches.disks);
    return this.#instances;
  }
  get disks(): DisksRepo {
    this.#disks ??= new DisksRepo(this.handle);
    return this.#disks;
  }
  get hosts(): HostsRepo {
    this.#hosts ??= new HostsRepo(this.handle);
    return this.#hosts;
  }
  get tasks(): TasksRepo {
    this.#tasks ??= new TasksRepo(this.handle);
    return this.#tasks;
  }
  get accounts(): AccountsRepo {
    this.#accounts ??= new AccountsRepo(this.handle);
    return this.#accounts;
  }
  get meta(): MetaRepo {
    this.#meta ??= new MetaRepo(this.handle);
    return this.#meta;
  }
  get events(): EventsRepo {
    this.#events ??= new EventsRepo(this.handle, this.inTx);
    return this.#events;
  }
  get counts(): CountsRepo {
    this.#counts ??= new CountsRepo(this.handle);
    return this.#counts;
  }
  get images(): ImagesRepo {
    this.#images ??= new ImagesRepo(this.handle);
    return this.#images;
  }
  get monitor(): MonitorRepo {
    this.#monitor ??= new MonitorRepo(this.handle);
    return this.#monitor;
  }
  get audit(): AuditRepo {
    this.#audit ??= new AuditRepo(this.handle);
    return this.#audit;
  }
  /** Writes the events the transaction recorded, as its last statements; whether there were any. */
  async flushEvents(): Promise<boolean> {
    return (await this.#events?.flush()) ?? false;
  }
}

/**
 * The store: repositories over the pool (each call its own statement) and `tx`, which runs `fn`
 * in one transaction with repositories bound to it. Core sees only this; SQL stays in src/store/.
 */
export class Store extends BoundRepos {
  /** The raw handle, for tests and benchmarks that inspect or seed the tables directly. */
  get db(): Db {
    return this.handle;
  }

  get dialect(): Db["dialect"] {
    return this.handle.dialect;
  }

  /** Called after a transaction that recorded events commits: this process's event feed wakes at once. */
  onEventsCommitted: (() => void) | undefined;

  async tx<T>(fn: (r: Repos) => Promise<T>): Promise<T> {
    let wroteEvents = false;
    const out = await this.handle.tx(async (tx) => {
      const repos = new BoundRepos(tx, true, this.caches);
      const result = await fn(repos);
      wroteEvents = await repos.flushEvents();
      return result;
    });
    if (wroteEvents) this.onEventsCommitted?.();
    return out;
  }

  /**
   * Calls `fn` when another process commits events (PostgreSQL NOTIFY, sent by the commit itself).
   * A SQLite store has one process, whose own commits call {@link onEventsCommitted}.
   */
  listenForEvents(fn: () => void): Listener {
    if (this.handle instanceof PgDb) return listenPg(this.handle.url, EVENTS_CHANNEL, fn);
    return { ready: Promise.resolve(), close: async () => {} };
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * Where the store lives: PostgreSQL by URL (with at most `pool` connections, 10 when absent), else
 * a SQLite file (or `:memory:`).
 */
export type StoreLocation = { postgres: string; pool?: number } | { sqlite: string };

/**
 * Opens the store and brings its schema up to date. On PostgreSQL the migrations and `startup`
 * run under an advisory lock, so replicas starting together take turns.
 */
export async function openStore(where: StoreLocation, startup?: (s: Store) => Promise<void>): Promise<Store> {
  if ("postgres" in where) {
    const db = new PgDb(where.postgres, where.pool);
    const store = new Store(db);
    try {
      await db.withLock(MIGRATION_LOCK, async () => {
        await migrate(db);
        await startup?.(store);
      });
    } catch (e) {
      await db.close();
      throw new Error(`OCS_DATABASE_URL: cannot open PostgreSQL: ${(e as Error).message}`);
    }
    return store;
  }
  const db = new SqliteDb(where.sqlite);
  const store = new Store(db);
  await migrate(db);
  await startup?.(store);
  return store;
}
