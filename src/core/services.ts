import type { Clock } from "../domain/clock.js";
import type { AccountService } from "./accounts/accounts.js";
import type { AuditLog } from "./audit/audit.js";
import type { CatalogIndex } from "./catalog/catalog.js";
import type { SpecRules } from "./catalog/spec-rules.js";
import type { DiskService } from "./disks/disks.js";
import type { EmulatorService } from "./emulator/emulator.js";
import type { EventFeed } from "./event-feed.js";
import type { HostMapService } from "./host-map.js";
import type { ImageService } from "./images/images.js";
import type { InstanceService } from "./instances/instances.js";
import type { MonitorService } from "./monitor/monitor.js";

/**
 * The domain services an Action may use, and nothing else: no database, no driver, no worker.
 * Built once by the composition root (src/server.ts).
 */
export interface Services {
  clock: Clock;
  catalog: CatalogIndex;
  rules: SpecRules;
  accounts: AccountService;
  /** Mutating calls and failed authentications (the gateway writes; root reads). */
  audit: AuditLog;
  instances: InstanceService;
  images: ImageService;
  disks: DiskService;
  monitor: MonitorService;
  /** The event outbox's readers: streams and an instance's history. */
  events: EventFeed;
  /** Hosts and who holds their GPUs (the operator's map). */
  hostMap: HostMapService;
  /** Present with the sim driver: the emulator's controls. */
  emulator?: EmulatorService;
}
