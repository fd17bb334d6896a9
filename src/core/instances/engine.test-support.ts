import type { TestServer } from "../../../test/helpers.js";
import { randomIds } from "../../domain/ids.js";
import type { Store } from "../../store/store.js";
import { ImageResolver } from "../images/resolve.js";
import { SecretBox, loadOrCreateMasterKey } from "../secrets.js";
import { OperationEngine } from "./engine.js";

/**
 * The server's own engine is not exposed: one over the same catalog, clock and key, and the
 * server's store or a stand-in for it (a test that makes a transaction fail).
 */
export function engineOf(t: TestServer, store: Store = t.server.internals.store): OperationEngine {
  const { services } = t.server;
  return new OperationEngine({
    store,
    catalog: services.catalog,
    rules: services.rules,
    clock: t.server.internals.clock,
    ids: randomIds,
    secrets: new SecretBox(loadOrCreateMasterKey(t.dataDir, t.server.config.masterKey)),
    timings: services.instances.timings,
    images: new ImageResolver(store, services.catalog),
    kick: () => {},
  });
}
