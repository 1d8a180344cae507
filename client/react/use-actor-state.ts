/**
 * `useActorState(conn, selector, isEqual?)`: a part of an actor's state, for a component,
 * through useSyncExternalStore (no tearing in concurrent rendering). The component renders
 * again only when its selection changes — whatever changed the state: an action's
 * prediction, its confirmation or rollback, a server update, a direct edit (local, or
 * confirmed from another client), a replaced doc.
 * @public
 */
import { useCallback, useRef, useSyncExternalStore } from "react";
import { changeCount } from "./change-counter.ts";
import { type Snapshot, snapshotOf } from "./snapshot.ts";
import { shareEqual } from "./structural-sharing.ts";

/** What the hook needs of a connection (an `ActorConnection`). */
export interface StateSource {
  readonly state: unknown;
  onChange(listener: () => void): () => void;
}

/** The state type a connection's selector reads. */
export type StateOfConnection<C extends StateSource> = NonNullable<C["state"]>;

interface Selection<T> {
  readonly conn: StateSource;
  readonly count: number;
  readonly selector: unknown;
  readonly value: Snapshot<T> | undefined;
}

const noSubscription = () => () => {};

/**
 * `selector(state)` as plain data (see `Snapshot`), or undefined while the replica has no
 * state yet (never loaded nor synced) or `conn` is null. The selector gets the live read
 * view: it must be pure, and keep nothing of it (what it returns is copied at once).
 *
 * A new selection is compared with the last one structurally: equal parts are kept (the
 * same objects), and an equal selection is the last one itself, so the component does not
 * render again. `isEqual(previous, next)` may declare more selections equal (return true to
 * keep `previous`). An inline selector is fine: it is run again only when the state changed
 * or the selector did.
 */
export function useActorState<C extends StateSource, T>(
  conn: C | null | undefined,
  selector: (state: StateOfConnection<C>) => T,
  isEqual?: (previous: Snapshot<T>, next: Snapshot<T>) => boolean,
): Snapshot<T> | undefined {
  const last = useRef<Selection<T> | null>(null);
  const subscribe = useCallback((notify: () => void) => (conn ? conn.onChange(notify) : noSubscription()), [conn]);
  const getSnapshot = (): Snapshot<T> | undefined => {
    if (!conn) return undefined;
    const count = changeCount(conn, "state", (bump) => conn.onChange(bump));
    const before = last.current?.conn === conn ? last.current : null;
    if (before !== null && before.count === count && before.selector === selector) return before.value;
    const state = conn.state as StateOfConnection<C> | undefined;
    let value = state === undefined ? undefined : shareEqual(before?.value, snapshotOf(selector(state)));
    if (before?.value !== undefined && value !== undefined && value !== before.value && isEqual?.(before.value, value)) value = before.value;
    last.current = { conn, count, selector, value };
    return value;
  };
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
