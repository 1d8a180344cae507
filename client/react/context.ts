/**
 * The client in React context: `<TandemProvider client={client}>` and `useClient()`.
 * The provider never creates nor disposes the client: the app owns its lifetime (a client
 * made and disposed in render or effects would not survive StrictMode's double mount).
 * @public
 */
import { createContext, createElement, useContext, useMemo, type ReactElement, type ReactNode } from "react";
import type { Client } from "../types.ts";
import { InvalidArguments } from "../../shared/errors.ts";

/** How long a connection no component holds stays open, in milliseconds (see `TandemProviderProps`). */
export const DEFAULT_RELEASE_DELAY_MS = 1000;

/** What the provider puts in context. */
export interface TandemContextValue {
  readonly client: object;
  readonly releaseDelayMs: number;
}

const TandemContext = createContext<TandemContextValue | null>(null);

export interface TandemProviderProps<R> {
  /** The client of `createClient<typeof registry>(url)`, made and disposed by the app. */
  readonly client: Client<R>;
  /**
   * How long a connection opened by `useActor` stays open once no mounted component holds it
   * (default 1000 ms). A component mounted again within that time — StrictMode's double
   * mount, a quick route change — gets the same connection instead of subscribing again.
   */
  readonly releaseDelayMs?: number;
  readonly children?: ReactNode;
}

/** Makes `client` the one `useClient()` returns below it. */
export function TandemProvider<R>({ client, releaseDelayMs = DEFAULT_RELEASE_DELAY_MS, children }: TandemProviderProps<R>): ReactElement {
  if (!Number.isFinite(releaseDelayMs) || releaseDelayMs < 0) throw new InvalidArguments("releaseDelayMs must be a finite number of milliseconds, 0 or more");
  // A new context value only when the client or the delay changes: consumers re-render then only.
  const value = useMemo<TandemContextValue>(() => ({ client, releaseDelayMs }), [client, releaseDelayMs]);
  // Context.Provider (not <Context>): React 18 has no other way.
  return createElement(TandemContext.Provider, { value }, children);
}

/** The provider's settings, or null outside any provider. */
export function useTandemContext(): TandemContextValue | null {
  return useContext(TandemContext);
}

/**
 * The client of the nearest `TandemProvider`, typed by the registry:
 * `useClient<typeof registry>()`. Throws outside a provider.
 */
export function useClient<R>(): Client<R> {
  const context = useContext(TandemContext);
  if (context === null) throw new InvalidArguments("useClient() needs a <TandemProvider client={client}> above it");
  return context.client as Client<R>;
}
