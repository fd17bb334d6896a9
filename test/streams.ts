import type { StreamMessage } from "../src/sdk/index.js";
import { isGap } from "../src/sdk/index.js";

export const brief = (m: StreamMessage) => (isGap(m) ? m.Kind : `${m.Seq} ${m.ResourceId} ${m.Kind}`);

/**
 * Takes messages from an event stream until `done` says so; fails with what it saw if that takes
 * longer than `ms` or the stream ends (the stream is waited on, never slept for).
 */
export async function take(
  it: AsyncGenerator<StreamMessage>,
  done: (seen: StreamMessage[]) => boolean,
  ms = 10_000,
): Promise<StreamMessage[]> {
  const seen: StreamMessage[] = [];
  const deadline = Date.now() + ms;
  while (!done(seen)) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), Math.max(1, deadline - Date.now()));
    });
    const next = await Promise.race([it.next(), timeout]);
    clearTimeout(timer);
    if (next === "timeout" || next.done)
      throw new Error(
        `stream ${next === "timeout" ? "timed out" : "ended"}; saw ${JSON.stringify(seen.map(brief))}`,
      );
    seen.push(next.value);
  }
  return seen;
}
