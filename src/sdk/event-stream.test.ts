import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CompShareError } from "./errors.js";
import type { SseMessage } from "./event-stream.js";
import { parseSse, readEventStream } from "./event-stream.js";

/** A body delivered in the given chunks. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function all(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of parseSse(body(chunks))) out.push(m);
  return out;
}

describe("Server-Sent Events parsing", () => {
  it("reads ids, multi-line data, retry and comments, with any line ending and any chunking", async () => {
    const text = 'retry: 1500\r\n: a comment\r\n\r\nid: 7\ndata: {"a":\ndata:1}\n\nid:8\rdata: x\r\r';
    const expected: SseMessage[] = [{ retry: 1500 }, { id: "7", data: '{"a":\n1}' }, { id: "8", data: "x" }];
    assert.deepEqual(await all([text]), expected);
    // Every split point, including the middle of a CRLF and of a multi-byte character.
    for (let i = 1; i < text.length; i++)
      assert.deepEqual(await all([text.slice(0, i), text.slice(i)]), expected);
    assert.deepEqual(await all(["data: 优云", "智算\n\n"]), [{ data: "优云智算" }]);
  });

  it("reconnects with Last-Event-ID after a dropped stream, and stops on an API error", async () => {
    const asked: Array<string | null> = [];
    let call = 0;
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      asked.push(new Headers(init.headers).get("last-event-id"));
      call++;
      if (call === 1)
        return new Response(body(['retry: 5\n\nid: 41\ndata: {"Seq":41}\n\n']), {
          headers: { "content-type": "text/event-stream" },
        });
      if (call === 2)
        return new Response(body(['id: 42\ndata: {"Seq":42}\n\n']), {
          headers: { "content-type": "text/event-stream" },
        });
      return Response.json({ Action: "EventsResponse", RetCode: 171, Message: "Signature VerifyAC Error" });
    }) as typeof fetch;
    const waits: number[] = [];
    const seen: number[] = [];
    const stream = readEventStream({
      url: "http://x/events",
      lastEventId: 40,
      fetch: fakeFetch,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await assert.rejects(
      (async () => {
        for await (const m of stream) seen.push((m as { Seq: number }).Seq);
      })(),
      (e: CompShareError) => e instanceof CompShareError && e.retCode === 171,
    );
    assert.deepEqual(seen, [41, 42]);
    assert.deepEqual(asked, ["40", "41", "42"]);
    assert.deepEqual(waits, [5, 5]);
  });
});
