/**
 * `tandem/react`: React bindings of the client (React 18 and 19) — a provider for the client,
 * `useActor(handle)` for a shared live connection, and hooks over its state, status,
 * outbox, presence and events, all typed from `typeof registry` through the client.
 * @public
 */
export { TandemProvider, useClient, DEFAULT_RELEASE_DELAY_MS } from "./context.ts";
export type { TandemProviderProps } from "./context.ts";
export { useActor } from "./use-actor.ts";
export { useActorState } from "./use-actor-state.ts";
export type { StateOfConnection, StateSource } from "./use-actor-state.ts";
export type { Snapshot } from "./snapshot.ts";
export { useStatus } from "./use-status.ts";
export type { StatusSource } from "./use-status.ts";
export { useOutbox, usePending } from "./use-outbox.ts";
export type { OutboxSource, PendingSource } from "./use-outbox.ts";
export { usePresence } from "./use-presence.ts";
export type { PeerPresence, PresenceSnapshot, PresenceSource } from "./use-presence.ts";
export { useEvent } from "./use-event.ts";
export type { EventsOfConnection } from "./use-event.ts";
