/**
 * Actor accessors and handles (`client.board.getOrCreate(key)`): what spec each makes, and
 * the Proxies that turn `handle.someAction(...)` into a stateless call and `connect()` into
 * a live connection through the client.
 */
import { InvalidArguments } from "../shared/errors.ts";
import { normalizeKey } from "../shared/key.ts";
import type { LinkSpec } from "./tabs/tab-messages.ts";

export interface HandleSpec {
  readonly name: string;
  readonly key?: readonly string[];
  readonly id?: string;
  readonly mode: "get" | "getOrCreate";
  readonly input?: unknown;
  readonly params?: unknown;
}

/** What handles need of the client. */
export interface HandleHost {
  resolve(spec: HandleSpec): Promise<string>;
  connect(spec: HandleSpec): object;
  call(spec: HandleSpec, action: string, args: unknown[]): Promise<unknown>;
  create(name: string, key: readonly string[], input: unknown, params: unknown): Promise<void>;
}

interface RawOptions {
  params?: unknown;
  input?: unknown;
  createWithInput?: unknown;
}

function raw(options: unknown): RawOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new InvalidArguments("Handle options must be an object");
  return options as RawOptions;
}

function makeHandle(core: HandleHost, spec: HandleSpec): object {
  const own: Record<string, unknown> = {
    resolve: () => core.resolve(spec),
    connect: () => core.connect(spec),
  };
  return new Proxy(own, {
    get(target, prop) {
      if (typeof prop !== "string" || prop === "then") return undefined;
      if (Object.hasOwn(target, prop)) return target[prop];
      return (...args: unknown[]) => core.call(spec, prop, args);
    },
  });
}

export function makeAccessor(core: HandleHost, name: string): object {
  return {
    get: (key?: unknown, options?: unknown) => makeHandle(core, { name, key: normalizeKey(key), mode: "get", params: raw(options).params }),
    getOrCreate: (key?: unknown, options?: unknown) => {
      const { params, createWithInput } = raw(options);
      return makeHandle(core, { name, key: normalizeKey(key), mode: "getOrCreate", input: createWithInput, params });
    },
    create: async (key: unknown, options?: unknown) => {
      const { params, input } = raw(options);
      const parts = normalizeKey(key);
      await core.create(name, parts, input, params);
      return makeHandle(core, { name, key: parts, mode: "get", params });
    },
    getForId: (id: unknown, options?: unknown) => {
      if (typeof id !== "string") throw new InvalidArguments("getForId takes the id string from handle.resolve()");
      return makeHandle(core, { name, id, mode: "get", params: raw(options).params });
    },
  };
}

/** A follower's link spec as a handle spec (the same replica and subscription identity). */
export function specOfLink(spec: LinkSpec): HandleSpec {
  const { target } = spec;
  if (target.by === "id") return { name: spec.name, id: target.id, mode: "get", params: spec.params };
  return { name: spec.name, key: target.key, mode: target.mode === "create" ? "getOrCreate" : target.mode, input: target.input, params: spec.params };
}
