import { useEffect, useRef } from "preact/hooks";
import type { CompShareEvent, StreamGap } from "../../../src/sdk/event-stream.js";
import { isGap } from "../../../src/sdk/event-stream.js";
import type { Api } from "./api.js";
import { errorText } from "./api.js";
import { Observable } from "./store.js";

export type { CompShareEvent };

/** Whether the page is following the event stream. */
export const liveStatus = new Observable<{ state: "live" | "reconnecting" | "offline"; why?: string }>({
  state: "offline",
});

type Listener = (e: CompShareEvent | StreamGap) => void;
const listeners = new Set<Listener>();

/**
 * Follows GET /events for the whole page (one stream per tab, whatever the view): views subscribe
 * with {@link useLiveEvents}. The stream resumes by itself after a drop; a gap (events retention
 * removed) is passed on, so views re-read what they show. Returns the function that stops it.
 */
export function startLive(api: Api, allProjects: boolean): () => void {
  const controller = new AbortController();
  (async () => {
    try {
      const stream = api.events({
        allProjects,
        signal: controller.signal,
        onOpen: () => liveStatus.set({ state: "live" }),
        onDisconnect: (why) => liveStatus.set({ state: "reconnecting", why }),
      });
      for await (const m of stream) for (const l of [...listeners]) l(m);
    } catch (e) {
      if (!controller.signal.aborted) liveStatus.set({ state: "offline", why: errorText(e).message });
    }
  })();
  return () => {
    controller.abort();
    liveStatus.set({ state: "offline" });
  };
}

/** Calls `fn` for every event (and gap notice) while the component is mounted. */
export function useLiveEvents(fn: (e: CompShareEvent | StreamGap) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const l: Listener = (e) => ref.current(e);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
}

export { isGap };

/**
 * Coalesces bursts (one operation is several events) into one call after `ms`, with the set of
 * resource ids seen (and whether a gap or a created/purged instance asks for a full reload).
 */
export function batcher(ms: number, run: (ids: Set<string>, reload: boolean) => void) {
  let ids = new Set<string>();
  let reload = false;
  let scheduled = false;
  return (e: CompShareEvent | StreamGap) => {
    if (isGap(e)) reload = true;
    else {
      ids.add(e.ResourceId);
      // A disk's or an image's event names the instance it concerns: that instance changed too.
      for (const k of ["uhostId", "instanceId"])
        if (typeof e.Data[k] === "string") ids.add(e.Data[k] as string);
      if (e.Kind === "instance.created" || e.Kind === "instance.purged") reload = true;
      if (
        e.Kind === "operation.started" &&
        (e.Data.operation === "Terminate" || e.Data.operation === "Recover")
      )
        reload = true;
    }
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      const batch = ids;
      const full = reload;
      ids = new Set();
      reload = false;
      scheduled = false;
      run(batch, full);
    }, ms);
  };
}
