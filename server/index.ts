/**
 * `tandem/server`: the actor runtime, its inline client and the storage drivers. Node only.
 * @public
 */
export { createServer } from "./create-server.ts";
export type { ServerOptions, TandemServer } from "./create-server.ts";
export { memoryDriver } from "./drivers/memory.ts";
export type { MemoryDriver } from "./drivers/memory.ts";
export { StaleLease } from "./drivers/driver.ts";
export type {
  ActorMeta,
  Alarm,
  Commit,
  Driver,
  Lease,
  RecordedResult,
  ScheduleEntry,
  SeqRecord,
  Snapshot,
  StoredActor,
} from "./drivers/driver.ts";
export { consoleLogger, silentLogger } from "./log.ts";
export type { LogLevel, ServerLogger } from "./log.ts";
