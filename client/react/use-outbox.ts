/**
 * `useOutbox(conn)`: the actions not yet confirmed, with their status (queued, sent,
 * confirmed, rejected), and `usePending(conn)`: how many actions and direct edits are not
 * confirmed yet ("3 changes not yet saved").
 * @public
 */
import { useCallback, useRef, useSyncExternalStore } from "react";
import type { ConnectionStatus } from "../connection-status.ts";
import type { OutboxEntry } from "../outbox-entry.ts";
import { changeCount } from "./change-counter.ts";
import { shareEqual } from "./structural-sharing.ts";

/** What `useOutbox` needs of a connection. */
export interface OutboxSource {
  readonly outbox: readonly OutboxEntry[];
  onOutbox(listener: (entries: readonly OutboxEntry[]) => void): () => void;
  onChange(listener: () => void): () => void;
}

/** What `usePending` needs of a connection. */
export interface PendingSource {
  readonly pending: number;
  onChange(listener: () => void): () => void;
  onOutbox(listener: (entries: readonly OutboxEntry[]) => void): () => void;
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
}

const NONE: readonly OutboxEntry[] = Object.freeze([]);

/** Both the outbox and the state follow an answer: either one may tell first. */
function onOutboxOrChange(conn: OutboxSource, listener: () => void): () => void {
  const offOutbox = conn.onOutbox(listener);
  const offChange = conn.onChange(listener);
  return () => {
    offOutbox();
    offChange();
  };
}

/**
 * The outbox of `conn`, oldest first (empty when `conn` is null). The same array while
 * nothing in it changed; entries that did not change stay the same objects.
 */
export function useOutbox(conn: OutboxSource | null | undefined): readonly OutboxEntry[] {
  const last = useRef<{ conn: OutboxSource; count: number; entries: readonly OutboxEntry[] } | null>(null);
  const subscribe = useCallback((notify: () => void) => (conn ? onOutboxOrChange(conn, notify) : () => {}), [conn]);
  const getSnapshot = (): readonly OutboxEntry[] => {
    if (!conn) return NONE;
    const count = changeCount(conn, "outbox", (bump) => onOutboxOrChange(conn, bump));
    const before = last.current?.conn === conn ? last.current : null;
    if (before !== null && before.count === count) return before.entries;
    const entries = shareEqual(before?.entries, conn.outbox);
    last.current = { conn, count, entries };
    return entries;
  };
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** How many actions and direct edits of `conn` are not confirmed yet (0 when `conn` is null). */
export function usePending(conn: PendingSource | null | undefined): number {
  const subscribe = useCallback(
    (notify: () => void) => {
      if (!conn) return () => {};
      const offs = [conn.onChange(notify), conn.onOutbox(notify), conn.onStatus(notify)];
      return () => {
        for (const off of offs) off();
      };
    },
    [conn],
  );
  const getSnapshot = (): number => (conn ? conn.pending : 0);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
