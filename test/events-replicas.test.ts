import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { CompShareEvent, StreamMessage } from "../src/sdk/index.js";
import { CompShareClient, isGap } from "../src/sdk/index.js";
import { ROOT, createParams, createPgDatabase, pgSkip, startTestServer } from "./helpers.js";
import type { ServerProcess } from "./processes.js";
import { startProcess } from "./processes.js";
import { take as takeMessages } from "./streams.js";

const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

/** The events of a stream until `done` holds for them (gap notices skipped). */
async function take(
  it: AsyncGenerator<StreamMessage>,
  done: (seen: CompShareEvent[]) => boolean,
  ms = 60_000,
): Promise<CompShareEvent[]> {
  const onlyEvents = (ms: StreamMessage[]) => ms.filter((m): m is CompShareEvent => !isGap(m));
  return onlyEvents(await takeMessages(it, (seen) => done(onlyEvents(seen)), ms));
}

const finishedAll = (ids: string[], state: string) => (seen: CompShareEvent[]) =>
  ids.every((id) =>
    seen.some((e) => e.ResourceId === id && e.Kind === "operation.finished" && e.Data.state === state),
  );

const clientOf = (p: { url: string }) =>
  new CompShareClient({ baseUrl: p.url, ...ROOT, region: "cn-wlcb", zone: "cn-wlcb-01" });

describe("the event stream on two replicas of one PostgreSQL", { ...pgSkip(), timeout: 180_000 }, () => {
  it("a replica streams what the other commits, in one commit order, and a client resumes on the other replica", async () => {
    const url = (await createPgDatabase()) as string;
    const env = {
      OCS_DATABASE_URL: url,
      OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-events-replicas-")),
      OCS_SIM_LATENCY_MS: "0",
    };
    const [a, b] = (await Promise.all([startProcess(env), startProcess(env)])) as [
      ServerProcess,
      ServerProcess,
    ];
    try {
      const onB = clientOf(b).events({ lastEventId: 0 });
      // Creates spread over both replicas, concurrently: their events interleave in one order.
      const ids = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const r = await (i % 2 ? a : b).call("CreateCompShareInstance", createParams());
          assert.equal(r.RetCode, 0, JSON.stringify(r));
          return (r.UHostIds as string[])[0] as string;
        }),
      );
      const live = await take(onB, finishedAll(ids, "Running"));
      assert.ok(
        live.every((e, i) => i === 0 || e.Seq > (live[i - 1] as CompShareEvent).Seq),
        "seqs increase",
      );
      const first = ids[0] as string;
      assert.equal((await a.call("StopCompShareInstance", { ...Z, UHostId: first })).RetCode, 0);
      const stopped = await take(onB, finishedAll([first], "Stopped"));
      await onB.return(undefined);
      const lastSeen = (stopped.at(-1) as CompShareEvent).Seq;

      // B goes away; while no one listens, A starts the instance again. The client resumes on A.
      assert.equal(await b.kill("SIGTERM"), 0);
      assert.equal((await a.call("StartCompShareInstance", { ...Z, UHostId: first })).RetCode, 0);
      const onA = clientOf(a).events({ lastEventId: lastSeen });
      const resumed = await take(onA, finishedAll([first], "Running"));
      await onA.return(undefined);
      assert.deepEqual(
        resumed.map((e) => e.Kind),
        ["operation.started", "gpus.taken", "operation.finished"],
      );
      assert.ok((resumed[0] as CompShareEvent).Seq > lastSeen);

      // Read again from the start on A: exactly what was streamed live, nothing more, nothing less.
      const all = clientOf(a).events({ lastEventId: 0 });
      const replay = await take(all, (s) => s.length >= live.length + stopped.length + resumed.length);
      await all.return(undefined);
      assert.deepEqual(
        replay.map((e) => e.Seq),
        [...live, ...stopped, ...resumed].map((e) => e.Seq),
      );
    } finally {
      await Promise.all([a, b].map((p) => p.kill("SIGTERM")));
    }
  });

  it("wakes a stream through NOTIFY, without waiting for the poll", async () => {
    const url = (await createPgDatabase()) as string;
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-events-notify-"));
    const env = { OCS_DATABASE_URL: url, OCS_DATA_DIR: dataDir };
    // The poll is an hour: only NOTIFY can bring the other server's events within the test.
    const opts = { events: { pollMs: 3_600_000 } };
    const a = await startTestServer(env, opts);
    const b = await startTestServer(env, opts);
    try {
      const onB = clientOf(b).events({ lastEventId: await b.server.internals.store.events.lastSeq() });
      const r = await a.call("CreateCompShareInstance", createParams());
      const id = (r.UHostIds as string[])[0] as string;
      const seen = await take(onB, finishedAll([id], "Running"), 20_000);
      await onB.return(undefined);
      assert.equal(seen[0]?.Kind, "instance.created");
    } finally {
      await a.close();
      await b.close();
    }
  });
});
