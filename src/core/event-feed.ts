import type { Clock } from "../domain/clock.js";
import { ApiError } from "../domain/errors.js";
import type { EventRecord } from "../domain/records.js";
import type { Logger } from "../log.js";
import type { EventFilter } from "../store/events-repo.js";
import type { Listener } from "../store/pg-listen.js";
import type { Store } from "../store/store.js";
import type { Scope } from "./instances/scope.js";
import { visible } from "./instances/scope.js";

export type { EventFilter } from "../store/events-repo.js";

export interface EventFeedOptions {
  /** How long events are kept (by the server clock, which the emulator can move). */
  retentionMs: number;
  /** How often retention runs on each replica. */
  pruneEveryMs: number;
  /**
   * A safety-net read while streams are open: wake-ups come from this process's commits and from
   * PostgreSQL NOTIFY, so a poll only matters if one was missed (a LISTEN connection being re-made).
   */
  pollMs: number;
  /** Streams one account may hold open on one replica. */
  streamsPerAccount: number;
  /** Recent events kept in memory and fanned out to every stream; one further behind reads the table. */
  windowSize: number;
}

export const DEFAULT_EVENT_FEED_OPTIONS: EventFeedOptions = {
  retentionMs: 7 * 24 * 3600_000,
  pruneEveryMs: 3600_000,
  pollMs: 2000,
  streamsPerAccount: 8,
  windowSize: 2000,
};

/** The event stream's knobs a server takes (tests shorten the heartbeat and the poll). */
export type EventFeedKnobs = Partial<EventFeedOptions> & {
  /** A comment line is sent after this long without events (default 15 s). */
  heartbeatMs?: number;
};

/** Rows read from the table at once, by the feed and by a stream catching up. */
const PAGE = 500;

/** Why a resume cannot be complete: the events after `lastEventId` up to `prunedThrough` are gone. */
export interface EventGap {
  lastEventId: number;
  prunedThrough: number;
  lastSeq: number;
}

/** Whether a reader with this filter may see the event (the table's filter, applied in memory). */
export function eventMatches(e: EventRecord, f: EventFilter): boolean {
  if (f.accountId !== undefined && e.accountId !== f.accountId) return false;
  if (f.projectIds && !f.projectIds.includes(e.projectId)) return false;
  if (f.resourceIds && !f.resourceIds.includes(e.resourceId)) return false;
  return true;
}

/**
 * The live side of the event outbox, one per replica. It reads new rows once for every open stream
 * (woken by this process's commits, by PostgreSQL NOTIFY from other replicas, and by a slow poll),
 * keeps a window of recent events in memory, and hands each stream what its filter allows. A stream
 * behind the window (a resume, a slow client) reads the table itself until it catches up, so memory
 * stays bounded and nothing is skipped. Completeness rests on the outbox's rule that seqs become
 * visible in order (see EventsRepo): whoever sees seq N sees every event before it.
 */
export class EventFeed {
  /** Highest seq the feed has read. */
  cursor = 0;
  /** Recent events, oldest first: every event with a seq in (windowFrom, cursor]. */
  window: EventRecord[] = [];
  windowFrom = 0;
  private readonly streams = new Set<EventStream>();
  private readonly perAccount = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private activating: Promise<void> | undefined;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private listener: Listener | undefined;
  private closed = false;

  readonly opts: EventFeedOptions;
  private readonly log: Logger;

  constructor(
    readonly store: Store,
    private readonly clock: Clock,
    log: Logger,
    opts: Partial<EventFeedOptions> = {},
  ) {
    this.log = log.child({ component: "events" });
    this.opts = { ...DEFAULT_EVENT_FEED_OPTIONS, ...opts };
  }

  /** Hooks into the store's commits and starts retention. */
  start(): void {
    this.closed = false;
    this.store.onEventsCommitted = () => this.wake();
    const prune = () => {
      this.prune().catch((e) => this.log.warn("event retention failed", { err: e }));
      this.pruneTimer = setTimeout(prune, this.opts.pruneEveryMs);
      this.pruneTimer.unref();
    };
    this.pruneTimer = setTimeout(prune, Math.min(60_000, this.opts.pruneEveryMs));
    this.pruneTimer.unref();
  }

  /** An instance's newest events, for whoever may see it (also while it is in the recycle bin). */
  async history(scope: Scope, uhostId: string, limit: number): Promise<EventRecord[]> {
    const inst = await this.store.instances.get(uhostId);
    if (!visible(inst, scope, false) && !visible(inst, scope, true))
      throw new ApiError("InstanceNotFound", { uhostId });
    return this.store.events.ofResource(uhostId, limit);
  }

  /** Retention: drops events older than the retention; returns how many. */
  prune(): Promise<number> {
    return this.store.events.prune(this.clock.now() - this.opts.retentionMs);
  }

  /**
   * Opens a stream for `accountId` with `filter`. With `lastEventId` it resumes after that seq
   * (`gap` says when retention already removed some of what followed); without, it starts now.
   */
  async open(
    accountId: string,
    filter: EventFilter,
    lastEventId?: number,
  ): Promise<{ stream: EventStream; gap?: EventGap }> {
    if (this.closed) throw new Error("event feed closed");
    const held = this.perAccount.get(accountId) ?? 0;
    if (held >= this.opts.streamsPerAccount)
      throw new ApiError("TooManyEventStreams", { limit: this.opts.streamsPerAccount });
    this.perAccount.set(accountId, held + 1);
    const stream = new EventStream(this, accountId, filter);
    this.streams.add(stream);
    try {
      if (this.streams.size === 1 || this.activating) {
        this.activating ??= this.activate().finally(() => {
          this.activating = undefined;
        });
        await this.activating;
        // Wake-ups during activation were dropped: read what they announced.
        this.wake();
      }
      const last = await this.store.events.lastSeq();
      let gap: EventGap | undefined;
      if (lastEventId === undefined) stream.sent = last;
      else {
        const pruned = await this.store.events.prunedThrough();
        // A resume from a future seq (another store, or one restored from a backup) starts now.
        if (lastEventId > last) gap = { lastEventId, prunedThrough: pruned, lastSeq: last };
        else if (lastEventId < pruned) gap = { lastEventId, prunedThrough: pruned, lastSeq: last };
        stream.sent = lastEventId > last ? last : lastEventId;
      }
      return gap ? { stream, gap } : { stream };
    } catch (e) {
      stream.close();
      throw e;
    }
  }

  /** The first stream starts reading from the end of the table, and the listening. */
  private async activate(): Promise<void> {
    this.cursor = await this.store.events.lastSeq();
    this.window = [];
    this.windowFrom = this.cursor;
    this.listener ??= this.store.listenForEvents(() => this.wake());
    // Until the LISTEN is in place another replica's commits announce nothing here; the read that
    // follows activation covers them only if it comes after (a commit 30 ms after the first
    // stream opened was missed until the poll).
    await this.listener.ready;
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => this.wake(), this.opts.pollMs);
      this.pollTimer.unref();
    }
  }

  /** Reads what was committed since the cursor (coalescing wake-ups that arrive meanwhile). */
  wake(): void {
    if (this.streams.size === 0 || this.closed || this.activating) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.read()
      .catch((e) => this.log.warn("reading events failed", { err: e }))
      .finally(() => {
        this.reading = undefined;
        if (this.readAgain) {
          this.readAgain = false;
          this.wake();
        }
      });
  }

  private async read(): Promise<void> {
    for (;;) {
      const batch = await this.store.events.since(this.cursor, {}, PAGE);
      if (batch.length === 0) return;
      this.window.push(...batch);
      this.cursor = (batch.at(-1) as EventRecord).seq;
      const excess = this.window.length - this.opts.windowSize;
      if (excess > 0) {
        this.windowFrom = (this.window[excess - 1] as EventRecord).seq;
        this.window.splice(0, excess);
      }
      this.notify();
      if (batch.length < PAGE) return;
    }
  }

  private notify(): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w();
  }

  /** Resolves when the feed reads more, closes, or after `ms`. */
  waitForMore(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** @internal A stream gives back its place. */
  release(stream: EventStream): void {
    if (!this.streams.delete(stream)) return;
    const held = (this.perAccount.get(stream.accountId) ?? 1) - 1;
    if (held > 0) this.perAccount.set(stream.accountId, held);
    else this.perAccount.delete(stream.accountId);
    if (this.streams.size === 0 && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /** Streams open on this replica (for tests and metrics). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Ends every stream and stops listening (server shutdown: clients resume elsewhere). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.store.onEventsCommitted) this.store.onEventsCommitted = undefined;
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    for (const s of [...this.streams]) s.close();
    this.notify();
    const l = this.listener;
    this.listener = undefined;
    await l?.close();
    await this.reading;
  }
}

/** One reader of the feed: the events its filter allows, in seq order, each once. */
export class EventStream {
  /** The highest seq this stream has passed (delivered, or skipped as not its own). */
  sent = 0;
  private closed = false;

  constructor(
    private readonly feed: EventFeed,
    readonly accountId: string,
    readonly filter: EventFilter,
  ) {}

  /**
   * The next events for this stream, waiting up to `waitMs` for some: an empty array when none came
   * in time (the caller sends a heartbeat), null once the stream or the feed is closed.
   */
  async next(waitMs: number): Promise<EventRecord[] | null> {
    const deadline = Date.now() + waitMs;
    const feed = this.feed;
    for (;;) {
      if (this.closed) return null;
      if (this.sent < feed.cursor) {
        if (this.sent >= feed.windowFrom) {
          const out = fromWindow(feed.window, this.sent, this.filter);
          this.sent = feed.cursor;
          if (out.length > 0) return out;
          continue;
        }
        // Behind the window: read the table. Everything up to the feed's cursor was visible before
        // this read began, so a short page means the stream has caught up with it.
        const horizon = feed.cursor;
        const rows = await feed.store.events.since(this.sent, this.filter, PAGE);
        if (this.closed) return null;
        const lastRead = rows.at(-1)?.seq ?? 0;
        this.sent = rows.length === PAGE ? lastRead : Math.max(horizon, lastRead);
        if (rows.length > 0) return rows;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await feed.waitForMore(left);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.feed.release(this);
  }
}

/** The window's events after `seq` that the filter allows (the window is in seq order). */
function fromWindow(window: EventRecord[], seq: number, filter: EventFilter): EventRecord[] {
  let lo = 0;
  let hi = window.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((window[mid] as EventRecord).seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  const out: EventRecord[] = [];
  for (let i = lo; i < window.length; i++) {
    const e = window[i] as EventRecord;
    if (eventMatches(e, filter)) out.push(e);
  }
  return out;
}
