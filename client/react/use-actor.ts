/**
 * `useActor(handle)`: the live connection of an actor for a component. Every component
 * using the same client and target (actor, key or id, params) shares one connection, so one
 * subscription; StrictMode's double mount and a quick remount reuse it, and it is disposed
 * once no mounted component has held it for `releaseDelayMs` (connection-cache.ts).
 * @public
 */
import { useEffect, useState } from "react";
import { DEFAULT_RELEASE_DELAY_MS, useTandemContext } from "./context.ts";
import { type Connectable, connectionFor } from "./connection-cache.ts";

/**
 * The connection of `handle` (`client.board.getOrCreate(key, { params })`; a new handle
 * object every render is fine: connections are keyed by what the handle points at), or null
 * for a null or undefined handle (nothing to connect yet, e.g. before sign-in).
 */
export function useActor<H extends Connectable>(handle: H): ReturnType<H["connect"]>;
export function useActor<H extends Connectable>(handle: H | null | undefined): ReturnType<H["connect"]> | null;
export function useActor<H extends Connectable>(handle: H | null | undefined): ReturnType<H["connect"]> | null {
  const releaseDelayMs = useTandemContext()?.releaseDelayMs ?? DEFAULT_RELEASE_DELAY_MS;
  // Bumped when the connection this render got was released before the commit (a render
  // kept waiting longer than releaseDelayMs): the next render gets a fresh one.
  const [, setRetry] = useState(0);
  const held = handle === null || handle === undefined ? null : connectionFor(handle, releaseDelayMs);
  useEffect(() => {
    if (held === null) return;
    if (!held.hold()) {
      setRetry((n) => n + 1);
      return;
    }
    return () => held.drop(releaseDelayMs);
  }, [held, releaseDelayMs]);
  // The connection is what this handle's connect() returned (same client, same target).
  return held === null ? null : (held.connection as ReturnType<H["connect"]>);
}
