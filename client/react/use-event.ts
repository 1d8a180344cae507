/**
 * `useEvent(conn, name, listener)`: an actor event heard while the component is mounted.
 * The latest `listener` is called (an inline function does not subscribe again on each
 * render); the subscription follows `conn` and `name`.
 * @public
 */
import { useEffect, useRef } from "react";
import type { EventsOf } from "../../shared/client-types.ts";
import type { ActorConnection } from "../types.ts";

/** The events a connection's actor declares (name → payload). */
export type EventsOfConnection<C> = C extends ActorConnection<infer D> ? EventsOf<D> : never;

/** Calls `listener` with each `name` event of `conn` (nothing while `conn` is null). */
export function useEvent<C extends ActorConnection<unknown>, K extends keyof EventsOfConnection<C> & string>(
  conn: C | null | undefined,
  name: K,
  listener: (payload: EventsOfConnection<C>[K]) => void,
): void {
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => {
    if (!conn) return;
    const events = conn as unknown as { on(name: string, listener: (payload: unknown) => void): () => void };
    return events.on(name, (payload) => latest.current(payload as EventsOfConnection<C>[K]));
  }, [conn, name]);
}
