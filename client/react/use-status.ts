/**
 * `useStatus(conn)`: the connection's status ("offline" | "connecting" | "syncing" |
 * "synced"), re-rendering when it changes.
 * @public
 */
import { useCallback, useSyncExternalStore } from "react";
import type { ConnectionStatus } from "../connection-status.ts";

/** What the hook needs of a connection. */
export interface StatusSource {
  readonly status: ConnectionStatus;
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
}

/** The status of `conn`; "offline" when `conn` is null. */
export function useStatus(conn: StatusSource | null | undefined): ConnectionStatus {
  const subscribe = useCallback((notify: () => void) => (conn ? conn.onStatus(notify) : () => {}), [conn]);
  const getSnapshot = (): ConnectionStatus => (conn ? conn.status : "offline");
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
