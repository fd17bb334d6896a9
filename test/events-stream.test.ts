import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { recordInstanceEvent } from "../src/core/events.js";
import { signedForm } from "../src/protocol/encode.js";
import type { CompShareEvent, StreamMessage } from "../src/sdk/index.js";
import { CompShareClient, type CompShareError, isGap, parseSse } from "../src/sdk/index.js";
import type { TestServer } from "./helpers.js";
import { ROOT, createParams, createPgDatabase, pgSkip, startTestServer } from "./helpers.js";
import { brief, take } from "./streams.js";

const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
type Keys = { publicKey: string; privateKey: string };

const events = (ms: StreamMessage[]) => ms.filter((m): m is CompShareEvent => !isGap(m));
const finished = (id: string, state: string) => (seen: StreamMessage[]) =>
  events(seen).some((e) => e.ResourceId === id && e.Kind === "operation.finished" && e.Data.state === state);

for (const store of ["sqlite", "postgres"] as const) {
  describe(`GET /events (${store})`, store === "postgres" ? pgSkip() : {}, () => {
    let t: TestServer;
    let client: (keys?: Keys, projectId?: string) => CompShareClient;
    before(async () => {
      const env: Record<string, string> = { OCS_EVENT_STREAMS_PER_ACCOUNT: "3" };
      if (store === "postgres") env.OCS_DATABASE_URL = (await createPgDatabase()) as string;
      t = await startTestServer(env, { events: { heartbeatMs: 50 } });
      client = (keys = ROOT, projectId = undefined as string | undefined) =>
        new CompShareClient({ baseUrl: t.url, ...keys, region: "cn-wlcb", zone: "cn-wlcb-01", projectId });
    });
    after(async () => {
      await t.close();
    });
    const lastSeq = () => t.server.internals.store.events.lastSeq();
    const create = async (keys: Keys = ROOT, extra = {}) => {
      const r = await t.call("CreateCompShareInstance", createParams(extra), keys);
      assert.equal(r.RetCode, 0, JSON.stringify(r));
      return (r.UHostIds as string[])[0] as string;
    };

    it("streams each committed change in commit order, and resumes by Last-Event-ID without loss or repeat", async () => {
      const from = await lastSeq();
      const live = client().events({ lastEventId: from });
      const id = await create();
      const first = events(await take(live, finished(id, "Running")));
      await live.return(undefined);
      assert.deepEqual(
        first.map((e) => e.Kind),
        ["instance.created", "operation.started", "gpus.taken", "operation.finished"],
      );
      assert.ok(first.every((e, i) => i === 0 || e.Seq > (first[i - 1] as CompShareEvent).Seq));
      assert.deepEqual(first[0]?.Data, { name: "4090-instance", zone: "cn-wlcb-01", state: "Install" });

      // While no one listens: a stop, then a scheduled stop set and cleared.
      assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
      await t.waitState(id, "Stopped");
      const seen = (first.at(-1) as CompShareEvent).Seq;
      const missed = await t.server.internals.store.events.since(seen, {}, 100);
      assert.deepEqual(
        missed.map((e) => e.kind),
        ["operation.started", "gpus.released", "operation.finished"],
      );

      // The SDK sends Last-Event-ID; the stream carries on exactly after it.
      const resumed = client().events({ lastEventId: seen });
      const again = events(await take(resumed, finished(id, "Stopped")));
      await resumed.return(undefined);
      assert.deepEqual(
        again.map((e) => e.Seq),
        missed.map((e) => e.seq),
      );
      assert.deepEqual(again[0]?.Data, {
        operation: "Stop",
        origin: "user",
        from: "Running",
        state: "Stopping",
      });

      // The header, as an EventSource sends it on reconnect, wins over the LastEventId parameter.
      const q = signedForm({ LastEventId: 0 }, ROOT.publicKey, ROOT.privateKey);
      const res = await fetch(`${t.url}/events?${q}`, { headers: { "Last-Event-ID": String(seen) } });
      assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const sse = parseSse(res.body as ReadableStream<Uint8Array>);
      let m = (await sse.next()).value;
      assert.equal(m?.retry, 2000);
      m = (await sse.next()).value;
      await sse.return(undefined);
      assert.equal(m?.id, String(missed[0]?.seq));
    });

    it("shows each account only its own project's events (all its projects, or every account's to root, on request)", async () => {
      const accounts = t.server.services.accounts;
      const b = await accounts.createAccount(`events-b-${store}-${Date.now()}`);
      const bSecond = await accounts.createProject(b.account.id, "second");
      const from = await lastSeq();
      const rootDefault = client().events({ lastEventId: from });
      const rootAll = client().events({ lastEventId: from, allProjects: true });
      const bDefault = client(b.keyPair).events({ lastEventId: from });
      const bAll = client(b.keyPair).events({ lastEventId: from, allProjects: true });

      const mine = await create();
      const theirs = await create(b.keyPair);
      const theirsElsewhere = await create(b.keyPair, { ProjectId: bSecond.id });
      const ids = (ms: StreamMessage[]) => new Set(events(ms).map((e) => e.ResourceId));

      const everything = await take(rootAll, (s) =>
        [mine, theirs, theirsElsewhere].every((id) => finished(id, "Running")(s)),
      );
      assert.deepEqual(ids(everything), new Set([mine, theirs, theirsElsewhere]));
      const bothOfB = await take(
        bAll,
        (s) => finished(theirs, "Running")(s) && finished(theirsElsewhere, "Running")(s),
      );
      assert.deepEqual(ids(bothOfB), new Set([theirs, theirsElsewhere]));
      // Streams deliver in seq order, so by the time a later event arrives an earlier one would have.
      const onlyRoot = await take(rootDefault, finished(mine, "Running"));
      const onlyB = await take(bDefault, finished(theirs, "Running"));
      const after = await create();
      const rootTail = await take(rootDefault, finished(after, "Running"));
      assert.deepEqual(ids([...onlyRoot, ...rootTail]), new Set([mine, after]));
      assert.deepEqual(ids(onlyB), new Set([theirs]));
      for (const s of [rootDefault, rootAll, bDefault, bAll]) await s.return(undefined);

      // UHostIds narrows; another account's project is refused like on every Action.
      const one = client(b.keyPair, bSecond.id).events({ lastEventId: from, uhostIds: [theirsElsewhere] });
      const narrowed = await take(one, finished(theirsElsewhere, "Running"));
      await one.return(undefined);
      assert.deepEqual(ids(narrowed), new Set([theirsElsewhere]));
      const foreign = client(ROOT, bSecond.id).events({ lastEventId: from });
      await assert.rejects(foreign.next(), (e: CompShareError) => e.retCode === 292);
    });

    it("announces nothing for a change that rolled back", async () => {
      const from = await lastSeq();
      const live = client().events({ lastEventId: from });
      // MaxCount places every instance in one transaction; the 4090 hosts hold 32 GPUs, so 33 fail
      // after 32 instances were placed and their events recorded: all of it rolls back.
      const many = await t.call("CreateCompShareInstance", createParams({ MaxCount: 33 }));
      assert.equal(many.RetCode, 226604, JSON.stringify(many));
      // Events written to the table inside a transaction that then fails are rolled back with it.
      const root = (await t.server.services.accounts.accountByName("root"))!;
      const project = await t.server.services.accounts.resolveProject(root.id, undefined);
      const ghost = { id: "uhost-ghost", accountId: root.id, projectId: project.id };
      await assert.rejects(
        t.server.internals.store.tx(async (r) => {
          await recordInstanceEvent(r, ghost, "instance.created", 0);
          await r.events.flush();
          throw new Error("boom");
        }),
        /boom/,
      );
      const id = await create();
      const seen = events(await take(live, finished(id, "Running")));
      await live.return(undefined);
      assert.ok(
        seen.every((e) => e.ResourceId === id),
        JSON.stringify(seen.map(brief)),
      );
      assert.equal(seen[0]?.Kind, "instance.created");
      const table = await t.server.internals.store.events.since(from, {}, 1000);
      assert.ok(table.every((e) => e.resourceId === id));
    });

    it("sends heartbeats while idle and bounds the streams an account holds", async () => {
      const feed = t.server.internals.events;
      // Streams the earlier tests closed are released as their sockets close.
      while (feed.openStreams > 0) await feed.waitForMore(20);
      const q = signedForm({}, ROOT.publicKey, ROOT.privateKey).toString();
      const open = () => fetch(`${t.url}/events?${q}`);
      const first = await open();
      const reader = (first.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      while (!text.includes(": heartbeat")) text += new TextDecoder().decode((await reader.read()).value);
      assert.match(text, /^retry: 2000\n: stream open\n\n/);
      const more = [await open(), await open()];
      // OCS_EVENT_STREAMS_PER_ACCOUNT=3: the fourth is refused with the envelope, until one closes.
      const refused = await open();
      assert.equal(refused.headers.get("content-type"), "application/json; charset=utf-8");
      const body = (await refused.json()) as Record<string, unknown>;
      assert.equal(body.RetCode, 8450);
      assert.match(String(body.Message), /may hold 3 open at once/);
      await reader.cancel();
      while (feed.openStreams > 2) await feed.waitForMore(20);
      const fourth = await open();
      assert.equal(fourth.headers.get("content-type"), "text/event-stream; charset=utf-8");
      for (const r of [...more, fourth]) await r.body?.cancel();
    });

    it("tells a resume from before the retention that events were lost, then carries on", async () => {
      const id = await create();
      await t.waitState(id, "Running");
      const feed = t.server.internals.events;
      // Everything so far is older than the retention once the clock has moved past it.
      t.server.internals.clock.advance(feed.opts.retentionMs + 1000);
      assert.ok((await feed.prune()) > 0);
      const pruned = await t.server.internals.store.events.prunedThrough();
      assert.ok(pruned >= 4);
      const resumed = client().events({ lastEventId: 1 });
      assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
      const seen = await take(resumed, finished(id, "Stopped"));
      await resumed.return(undefined);
      const gap = seen[0];
      assert.ok(gap && isGap(gap), JSON.stringify(seen[0]));
      assert.equal(gap.PrunedThrough, pruned);
      assert.ok(events(seen).every((e) => e.Seq > pruned));
      // A future id (another store's) is a gap too, and the stream starts at the end.
      const future = client().events({ lastEventId: 10_000_000 });
      const first = await take(future, (s) => s.length === 1);
      await future.return(undefined);
      assert.ok(first[0] && isGap(first[0]));
    });

    it("refuses a bad request with the API's envelope", async () => {
      const cases: Array<[string, RequestInit, number]> = [
        [`PublicKey=${ROOT.publicKey}&Signature=0000`, {}, 171],
        ["PublicKey=nobody&Signature=0000", {}, 172],
        ["", {}, 170],
        [
          signedForm({ UHostIds: Array(101).fill("uhost-x") }, ROOT.publicKey, ROOT.privateKey).toString(),
          {},
          230,
        ],
        [signedForm({ AllProjects: "maybe" }, ROOT.publicKey, ROOT.privateKey).toString(), {}, 230],
        [
          signedForm({}, ROOT.publicKey, ROOT.privateKey).toString(),
          { headers: { "Last-Event-ID": "x1" } },
          230,
        ],
      ];
      for (const [query, init, retCode] of cases) {
        const res = await fetch(`${t.url}/events?${query}`, init);
        assert.equal(res.status, 200);
        const body = (await res.json()) as Record<string, unknown>;
        assert.equal(body.Action, "EventsResponse");
        assert.equal(body.RetCode, retCode, `${query.slice(0, 60)}: ${JSON.stringify(body)}`);
      }
    });
  });
}
