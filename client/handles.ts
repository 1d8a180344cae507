/**
 * The network client's transport under the shared client façade (shared/client-facade.ts):
 * what spec each accessor method makes (keys normalized, ids checked at once), and which
 * client call a handle's resolve, call, create and connect go to.
 */
import type { ClientTransport } from "../shared/client-facade.ts";
import { handleOptions } from "../shared/client-facade.ts";
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

export function networkTransport(core: HandleHost): ClientTransport<HandleSpec> {
  return {
    target(name, lookup, options) {
      switch (lookup.kind) {
        case "get":
          return { name, key: normalizeKey(lookup.key), mode: "get", params: handleOptions(options).params };
        case "getOrCreate": {
          const key = normalizeKey(lookup.key);
          const { params, createWithInput } = handleOptions(options);
          return { name, key, mode: "getOrCreate", input: createWithInput, params };
        }
        case "getForId":
          if (typeof lookup.id !== "string") throw new InvalidArguments("getForId takes the id string from handle.resolve()");
          return { name, id: lookup.id, mode: "get", params: handleOptions(options).params };
      }
    },
    async create(name, key, options) {
      const { params, input } = handleOptions(options);
      const parts = normalizeKey(key);
      await core.create(name, parts, input, params);
      return { name, key: parts, mode: "get", params };
    },
    resolve: core.resolve.bind(core),
    call: core.call.bind(core),
    connect: core.connect.bind(core),
  };
}

/** A follower's link spec as a handle spec (the same replica and subscription identity). */
export function specOfLink(spec: LinkSpec): HandleSpec {
  const { target } = spec;
  if (target.by === "id") return { name: spec.name, id: target.id, mode: "get", params: spec.params };
  return { name: spec.name, key: target.key, mode: target.mode === "create" ? "getOrCreate" : target.mode, input: target.input, params: spec.params };
}
