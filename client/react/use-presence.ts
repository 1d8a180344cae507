/**
 * `usePresence(conn)`: who is here — this client's presence state and the others' (the
 * server stamps `user` in theirs from `c.conn.auth`), re-rendering when any of them changes.
 * Set this client's own through `conn.awareness` (`setLocalStateField`).
 * @public
 */
import { useCallback, useRef, useSyncExternalStore } from "react";
import type { Awareness } from "y-protocols/awareness";
import { changeCount } from "./change-counter.ts";
import { shareEqual } from "./structural-sharing.ts";

/** What the hook needs of a connection. */
export interface PresenceSource {
  readonly awareness: Awareness;
}

/** Another client's presence: its awareness client id and its state. */
export interface PeerPresence<P> {
  readonly clientId: number;
  readonly state: P;
}

/** This client's presence state (null before any is set) and the others', in arrival order. */
export interface PresenceSnapshot<P> {
  readonly self: P | null;
  readonly others: readonly PeerPresence<P>[];
}

const NOBODY: PresenceSnapshot<never> = Object.freeze({ self: null, others: Object.freeze([]) });

/**
 * The presence of `conn` (nobody when `conn` is null). `P` is the shape the app expects of
 * a state — presence is data other clients sent: check what matters before trusting it. The
 * same object while nothing changed; unchanged states stay the same objects.
 */
export function usePresence<P extends Record<string, unknown> = Record<string, unknown>>(conn: PresenceSource | null | undefined): PresenceSnapshot<P> {
  const awareness = conn ? conn.awareness : null;
  const last = useRef<{ awareness: Awareness; count: number; snapshot: PresenceSnapshot<P> } | null>(null);
  const subscribe = useCallback((notify: () => void) => (awareness ? listen(awareness, notify) : () => {}), [awareness]);
  const getSnapshot = (): PresenceSnapshot<P> => {
    if (!awareness) return NOBODY;
    const count = changeCount(awareness, "presence", (bump) => listen(awareness, bump));
    const before = last.current?.awareness === awareness ? last.current : null;
    if (before !== null && before.count === count) return before.snapshot;
    const others: PeerPresence<P>[] = [];
    for (const [clientId, state] of awareness.getStates()) if (clientId !== awareness.clientID) others.push({ clientId, state: state as P });
    const snapshot = shareEqual(before?.snapshot, { self: awareness.getLocalState() as P | null, others });
    last.current = { awareness, count, snapshot };
    return snapshot;
  };
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** Hears every change of the states (not the renewals that change nothing). */
function listen(awareness: Awareness, listener: () => void): () => void {
  awareness.on("change", listener);
  return () => awareness.off("change", listener);
}
