/**
 * `createClient<typeof registry>(url, options)`: the typed client for browsers and Node.
 * Handles make stateless HTTP calls; `connect()` opens a live replica over the client's one
 * WebSocket (shared by every actor, ref-counted per actor and params).
 * @public
 */
import { InvalidArguments } from "../shared/errors.ts";
import { normalizeKey } from "../shared/key.ts";
import type { SubscribeTarget } from "../shared/protocol/index.ts";
import { ActorSubscription } from "./actor-subscription.ts";
import { makeConnection } from "./connection.ts";
import { type FetchLike, HttpCaller, type HttpTarget } from "./http.ts";
import { ClientSession } from "./session.ts";
import type { BackoffOptions } from "./transport/backoff.ts";
import type { SocketFactory } from "./transport/websocket.ts";
import type { Client } from "./types.ts";

export interface ClientOptions {
  /** How to open a WebSocket (tests, proxies). Default: the platform's, or `ws` in Node. */
  socketFactory?: SocketFactory;
  /** How to make HTTP requests. Default: the global fetch. */
  fetch?: FetchLike;
  /** This client's id (exactly-once identity). Default: a random UUID. */
  clientId?: string;
  /** Reconnect backoff (full jitter). */
  backoff?: BackoffOptions;
}

interface HandleSpec {
  readonly name: string;
  readonly key?: readonly string[];
  readonly id?: string;
  readonly mode: "get" | "getOrCreate";
  readonly input?: unknown;
  readonly params?: unknown;
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

class ClientCore {
  readonly clientId: string;
  private session: ClientSession | null = null;
  private readonly http: HttpCaller;
  private readonly subscriptions = new Map<string, ActorSubscription>();
  private seq = 0;

  constructor(
    private readonly url: string,
    private readonly options: ClientOptions,
  ) {
    this.clientId = options.clientId ?? crypto.randomUUID();
    const fetcher = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
    this.http = new HttpCaller(url, fetcher);
  }

  private sessionOf(): ClientSession {
    this.session ??= new ClientSession(this.url, { clientId: this.clientId, socketFactory: this.options.socketFactory, backoff: this.options.backoff });
    return this.session;
  }

  httpTarget(spec: HandleSpec): HttpTarget {
    return { name: spec.name, key: spec.key, id: spec.id, mode: spec.mode, input: spec.input, params: spec.params };
  }

  call(spec: HandleSpec, action: string, args: unknown[]): Promise<unknown> {
    return this.http.action(this.httpTarget(spec), action, args);
  }

  resolve(spec: HandleSpec): Promise<string> {
    return this.http.resolve(this.httpTarget(spec));
  }

  async create(name: string, key: readonly string[], input: unknown, params: unknown): Promise<void> {
    await this.http.resolve({ name, key, mode: "create", input, params });
  }

  connect(spec: HandleSpec): object {
    const target: SubscribeTarget =
      spec.id !== undefined ? { by: "id", id: spec.id } : { by: "key", mode: spec.mode, key: spec.key ?? [], input: spec.input };
    const identity = JSON.stringify([spec.name, spec.id ?? spec.key, spec.params ?? null]);
    let subscription = this.subscriptions.get(identity);
    if (subscription === undefined) {
      subscription = new ActorSubscription(this.sessionOf(), { name: spec.name, target, params: spec.params }, () => ++this.seq);
      this.subscriptions.set(identity, subscription);
    }
    subscription.refs++;
    const shared = subscription;
    return makeConnection(shared, () => {
      if (--shared.refs > 0) return;
      shared.dispose();
      if (this.subscriptions.get(identity) === shared) this.subscriptions.delete(identity);
    });
  }

  dispose(): void {
    for (const subscription of this.subscriptions.values()) subscription.dispose();
    this.subscriptions.clear();
    this.session?.dispose();
    this.session = null;
  }
}

function makeHandle(core: ClientCore, spec: HandleSpec): object {
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

function makeAccessor(core: ClientCore, name: string): object {
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

export function createClient<R>(url: string, options: ClientOptions = {}): Client<R> {
  const core = new ClientCore(url, options);
  const accessors = new Map<string, object>();
  return new Proxy({} as Client<R>, {
    get(_target, prop) {
      if (typeof prop !== "string" || prop === "then") return undefined;
      if (prop === "dispose") return () => core.dispose();
      if (prop === "clientId") return core.clientId;
      let accessor = accessors.get(prop);
      if (accessor === undefined) accessors.set(prop, (accessor = makeAccessor(core, prop)));
      return accessor;
    },
  });
}
