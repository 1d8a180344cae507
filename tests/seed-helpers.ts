/**
 * Small helpers shared by the runtime tests: servers torn down after each test, bounded
 * polling instead of fixed sleeps, and error capture.
 */
import { afterEach } from "vitest";
import type { ActorDefinitions, Registry } from "tandem";
import { createServer, type ServerOptions, type TandemServer } from "tandem/server";

/** Registers an afterEach that closes every server `start` opened during the test. */
export function useServers(): <A extends ActorDefinitions>(registry: Registry<A>, options?: ServerOptions) => TandemServer<Registry<A>> {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()));
  });
  return (registry, options = {}) => {
    const server = createServer(registry, { logger: false, ...options });
    open.push(server);
    return server;
  };
}

/** Polls `condition` until it holds (returns its value) or fails after `timeoutMs`. */
export async function waitFor<T>(condition: () => T | Promise<T>, { timeoutMs = 2000, intervalMs = 5, what = "condition" } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected the promise to reject, but it resolved");
}

/** Rejects if `promise` has not settled within `ms`: turns a hang into a failure. */
export function within<T>(promise: Promise<T>, ms: number, what = "the call"): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (hang)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
