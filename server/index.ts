/**
 * `tandem/server`: the actor runtime, its inline client and the storage drivers. Node only.
 * @public
 */
export { createServer } from "./create-server.ts";
export type { ListenOptions, NetworkStats, ServerOptions, TandemServer } from "./create-server.ts";
export { tandemPlugin } from "./http/plugin.ts";
export { openApiDocument } from "./http/openapi.ts";
export type { AllowedOrigins } from "./http/origin.ts";
export type { CorsOption, CorsOptions } from "./http/cors.ts";
export { DEFAULT_LIMITS } from "./network/limits.ts";
export type { Limits } from "./network/limits.ts";
export type { RevokeFilter } from "./network/revoke.ts";
export type { ExactlyOnceLimits } from "./runtime/exactly-once.ts";
export { memoryDriver } from "./drivers/memory.ts";
export type { MemoryDriver } from "./drivers/memory.ts";
export { fileDriver, type FileDriver, type FileDriverOptions } from "./drivers/file.ts";
export { redisDriver, type RedisDriver, type RedisDriverOptions, type RedisDurability } from "./drivers/redis.ts";
export { StaleLease, StorageUnavailable } from "../shared/errors.ts";
export type {
  ActorMeta,
  Alarm,
  Commit,
  Driver,
  Lease,
  NodeAddress,
  Ownership,
  RecordedResult,
  ScheduleEntry,
  SeqRecord,
  Snapshot,
  StoredActor,
} from "./drivers/driver.ts";
export type { LogLevel, ServerLogger } from "./log.ts";
export type { ClusterOptions } from "./cluster/cluster-node.ts";
export type { InspectorOptions } from "./inspector/options.ts";
