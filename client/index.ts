/**
 * `tandem/client`: the client for browsers and Node — typed handles, stateless HTTP calls,
 * and live replicas over one multiplexed WebSocket.
 * @public
 */
export { createClient } from "./create-client.ts";
export type { ClientOptions } from "./create-client.ts";
export type { ActorAccessor, ActorConnection, ActorHandle, Client, ClientStateVersions, ConnectionStatus, DiscardedEdits, OptimisticHandlers, OutboxEntry, Prediction, SyncProgress } from "./types.ts";
export type { ClientInspector, ClientSnapshot, ConnectionSnapshot, TabSnapshot } from "./inspection.ts";
export { memoryStorage } from "./storage/memory.ts";
export { indexedDbStorage, hasIndexedDb } from "./storage/indexeddb.ts";
export { StorageFault } from "./storage/storage.ts";
export type { ClientStorage } from "./storage/storage.ts";
export type { BackoffOptions } from "./transport/backoff.ts";
export type { HeartbeatOptions } from "./transport/heartbeat.ts";
export type { SocketFactory, SocketLike } from "./transport/websocket.ts";
export type {
  ActionMethod,
  ActionMethods,
  CreateOptions,
  EventListener,
  EventMethods,
  GetOrCreateOptions,
  HandleOptions,
} from "../shared/client-types.ts";
