import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach } from "node:test";
import type { TestServer } from "../../../test/helpers.js";
import { TEST_CATALOG, createParams, startTestServer } from "../../../test/helpers.js";
import type { Catalog } from "../../domain/catalog.js";
import type { DriverOp } from "../../drivers/driver.js";
import type { SimDriver } from "../../drivers/sim/sim-driver.js";
import type { ParamValue } from "../../protocol/encode.js";
import type { ServerOptions } from "../../server.js";

/** Region and zone of every instance call in these tests. */
export const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

/** Passwords travel base64-encoded on the wire. */
export const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A small catalog: one 4090 host with 2 GPUs, so capacity is easy to exhaust. */
export const SMALL_CATALOG: Catalog = {
  ...TEST_CATALOG,
  hosts: [{ id: "h1", zone: "cn-wlcb-01", gpuType: "4090", gpus: 2, cpu: 64, memoryMB: 262144 }],
};

/** A held driver call (see SimDriver.hold): the operation's lock window stays open until `release`. */
export interface Held {
  release(): void;
  waiting(): number;
  /** Resolves once a call of the held op is waiting at the gate (the worker is inside the driver). */
  reached(): Promise<void>;
}

/**
 * One in-process server (no socket: the wire is covered by test/gateway.test.ts and the SDK
 * conformance suites) per test file, reset between tests, plus the steps the instance tests share.
 * Waiting is done with the worker's `drain()` and the sim's held calls, never with sleeps.
 */
export class InstanceFixture {
  private server: TestServer | undefined;
  private readonly holds: Array<() => void> = [];

  constructor(opts: ServerOptions = {}) {
    before(async () => {
      this.server = await startTestServer({}, { catalog: SMALL_CATALOG, ...opts }, { http: false });
    });
    after(async () => {
      await this.server?.close();
    });
    beforeEach(async () => {
      await this.t.server.services.emulator?.reset();
    });
    // A failed test must not leave a driver call held: the next reset waits for the worker's round.
    afterEach(() => {
      for (const release of this.holds.splice(0)) release();
    });
  }

  get t(): TestServer {
    assert.ok(this.server, "the fixture's server is started in before()");
    return this.server;
  }

  get sim(): SimDriver {
    const sim = this.t.server.internals.sim;
    assert.ok(sim, "the instance tests run on the sim driver");
    return sim;
  }

  /** Runs the worker until no task is due: every transition queued so far has finished. */
  settle(): Promise<void> {
    return this.t.server.internals.worker.drain();
  }

  /** Holds every driver call of `op` until `release()`; released after the test in any case. */
  hold(op: DriverOp): Held {
    const gate = this.sim.hold(op);
    this.holds.push(gate.release);
    return {
      release: gate.release,
      waiting: gate.waiting,
      async reached() {
        // Polls the gate, not the clock: the worker picks the task up on its next turn of the loop.
        const deadline = Date.now() + 5000;
        while (gate.waiting() === 0) {
          if (Date.now() > deadline) throw new Error(`no ${op} call reached the driver`);
          await new Promise((r) => setImmediate(r));
        }
      },
    };
  }

  /**
   * Runs `fn` with the background worker stopped, so a transition queued inside stays in flight (its
   * lock held) until the worker is started again: for an operation without a driver call (Resize).
   */
  async paused<T>(fn: () => Promise<T>): Promise<T> {
    const { worker } = this.t.server.internals;
    await worker.stop();
    try {
      return await fn();
    } finally {
      worker.start();
    }
  }

  /** The instance as Describe shows it (undefined when not listed). */
  describe(id: string): Promise<Record<string, unknown> | undefined> {
    return this.t.describeOne(id);
  }

  /** Asserts the instance's state on Describe and returns the record. */
  async expectState(id: string, state: string): Promise<Record<string, unknown>> {
    const u = await this.describe(id);
    assert.equal(u?.State, state, `${id}: ${JSON.stringify(u?.Remark)}`);
    return u as Record<string, unknown>;
  }

  /** Creates an instance (the small catalog's 1 × 4090 Postpay by default) and waits for Running. */
  async running(extra: Record<string, ParamValue> = {}): Promise<string> {
    const r = await this.t.call("CreateCompShareInstance", createParams(extra));
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    const id = (r.UHostIds as string[])[0] as string;
    await this.settle();
    await this.expectState(id, "Running");
    return id;
  }

  /** Stops a running instance and waits for Stopped; returns the stopped record. */
  async stopped(id: string): Promise<Record<string, unknown>> {
    assert.equal((await this.t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await this.settle();
    return this.expectState(id, "Stopped");
  }

  /** Stops (if needed) and terminates an instance: it is in the recycle bin when this returns. */
  async recycled(id: string): Promise<void> {
    if ((await this.describe(id))?.State === "Running") await this.stopped(id);
    assert.equal((await this.t.call("TerminateCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await this.settle();
  }

  /** Rows of the host's GPUs that an instance holds. */
  async gpusHeld(): Promise<Array<{ gpu_index: unknown; instance_id: unknown }>> {
    return (await this.t.server.internals.db.all(
      "SELECT gpu_index, instance_id FROM host_gpus WHERE instance_id IS NOT NULL ORDER BY gpu_index",
    )) as Array<{ gpu_index: unknown; instance_id: unknown }>;
  }

  /** Two concurrent calls of one action on one instance; their answers, accepted one first. */
  async race(action: string, params: Record<string, ParamValue>): Promise<Array<Record<string, unknown>>> {
    const answers = await Promise.all([0, 1].map(() => this.t.call(action, params)));
    return answers.sort((a, b) => Number(a.RetCode) - Number(b.RetCode));
  }

  /**
   * Lets a failing driver step run out its attempts: the worker retries it after 200·2^attempts ms
   * of emulated time, so each round is a drain and then the clock moved past that backoff.
   */
  async exhaustDriverAttempts(): Promise<void> {
    const { clock } = this.t.server.internals;
    for (let attempt = 1; attempt <= this.t.server.services.instances.timings.driverAttempts; attempt++) {
      await this.settle();
      clock.advance(200 * 2 ** attempt);
    }
    await this.settle();
  }
}
