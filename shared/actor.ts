/**
 * `actor({...})`: the definition of a kind of actor — its replicated state, private state,
 * vars, auth, lifecycle hooks, events and actions — with every type inferred from the
 * literal (state, action arguments and results, event payloads, `c.conn.auth`, create input).
 * @public
 */
import type { ActorContext, ActionContext, AuthOptions, Conn, ConnectOptions, CreateContext, EditContext, MigrateContext } from "./context.ts";
import { InvalidArguments } from "./errors.ts";
import type { EventMap } from "./event-map.ts";
import { isStateVersion } from "./state/state-version.ts";

/** Marks an event and its payload type: `events: { newMessage: event<Message>() }`. */
export interface EventSpec<T> {
  readonly __event?: (payload: T) => void;
}

/** Declares an event's payload type for `c.broadcast`, `conn.send` and client `on`. @public */
export function event<T = undefined>(): EventSpec<T> {
  return {};
}

export type { EventMap } from "./event-map.ts";

/** Connection parameters as sent by clients (in a header, never in the URL). */
export type ConnParams = Record<string, string | undefined>;

/**
 * Standard Schema v1 (https://standardschema.dev): any validator that implements it (zod,
 * valibot, arktype…) can check an action's arguments.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) =>
      | { readonly value: Output; readonly issues?: undefined }
      | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }> }
      | Promise<
          | { readonly value: Output; readonly issues?: undefined }
          | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }> }
        >;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** Options of an actor kind. */
export interface ActorOptions {
  /** Milliseconds without connections or work before an idle actor is unloaded (sleep). */
  sleepAfterMs?: number;
  /** Longest an action may run before it fails with `internal_error` (0: no limit). */
  actionTimeoutMs?: number;
}

/** The shape of `actions`: each takes the context, then its own arguments. */
export type ActionsShape<Ctx> = Record<string, (c: Ctx, ...args: any[]) => any>;

/** Everything an actor kind may declare. Type parameters are inferred from the literal. */
export interface ActorConfig<S, PS, V, A, P, E extends EventMap, I, Act> {
  /** The replicated state's initial value (copied for every new actor). */
  state?: S;
  /** Builds the initial state from the input given to `create(key, { input })`. */
  createState?: (c: CreateContext<V>, input: I) => S | Promise<S>;
  /**
   * The version of the state's shape (an integer from 1; default 1). Raise it when the shape
   * changes and say how in `migrate`: an actor stored by an older version is migrated when it
   * loads, and clients drop replicas stored by another version (docs/versioning.md).
   */
  version?: number;
  /**
   * Moves an actor stored by an older version (`fromVersion`) to `version`: runs once when it
   * loads, before `onStart` and before any connection, action or edit; its writes and the new
   * version commit together (atomically, like an action). If it throws the actor does not load
   * and stays as stored. Without it, raising `version` only records the new version.
   */
  migrate?: (c: MigrateContext<S, PS, V, A, P, E>, fromVersion: number) => void | Promise<void>;
  /** Persisted, never sent to clients. */
  privateState?: PS;
  createPrivateState?: (c: CreateContext<V>, input: I) => PS | Promise<PS>;
  /** Ephemeral per instance: rebuilt on every load, never persisted. */
  vars?: V;
  createVars?: () => V | Promise<V>;
  /** Runs before the actor is loaded or created; its result becomes `c.conn.auth`. */
  onAuth?: (opts: AuthOptions<P>) => A | Promise<A>;
  /** Payload types of the events this actor emits. */
  events?: { [K in keyof E]: EventSpec<E[K]> };
  /** What others see of a connection in presence (stamped as `state.user`). Default: id/userId/name/displayName/color/avatar of the auth. */
  identity?: (auth: A) => unknown;
  /** Whether a connection may edit the replica directly (editor bindings). Absent: deny. */
  canEdit?: (c: EditContext<S, PS, V, A, P, E>) => boolean | Promise<boolean>;
  /** Validates a direct edit once applied to a draft of the state; throw to reject it. */
  onEdit?: (c: EditContext<S, PS, V, A, P, E>) => void | Promise<void>;
  /** Once, when the actor is created (after its initial state is written). */
  onCreate?: (c: ActorContext<S, PS, V, A, P, E>, input: I) => void | Promise<void>;
  /** Every time the actor is loaded (after creation, after a restart or wake). */
  onStart?: (c: ActorContext<S, PS, V, A, P, E>) => void | Promise<void>;
  /** Before the actor is unloaded (sleep, server close). */
  onStop?: (c: ActorContext<S, PS, V, A, P, E>) => void | Promise<void>;
  /** Before a connection is accepted; throw to refuse it. */
  onBeforeConnect?: (c: ActorContext<S, PS, V, A, P, E>, opts: ConnectOptions<A, P>) => void | Promise<void>;
  onConnect?: (c: ActorContext<S, PS, V, A, P, E>, conn: Conn<A, P, E>) => void | Promise<void>;
  onDisconnect?: (c: ActorContext<S, PS, V, A, P, E>, conn: Conn<A, P, E>) => void | Promise<void>;
  /** Standard Schema validators of each action's argument list (a tuple schema). */
  schemas?: { [K in keyof NoInfer<Act>]?: StandardSchemaV1<unknown, NoInfer<Act>[K] extends (c: never, ...args: infer R) => unknown ? R : never> };
  /** Inferred as written (`Act`), checked against the context shape (intersection keeps inference working). */
  actions: Act & ActionsShape<ActionContext<S, PS, V, A, P, E>>;
  options?: ActorOptions;
}

/** What `actor()` returns: the config plus the inferred types, for `setup` and clients. */
export interface ActorDefinition<S, PS, V, A, P, E extends EventMap, I, Act> {
  readonly kind: "tandem.actor";
  /** The definition as written; the run time reads it untyped, clients use `types`. */
  readonly config: AnyActorConfig;
  /** Type carrier only (never set at run time). */
  readonly types?: { state: S; privateState: PS; vars: V; auth: A; params: P; events: E; input: I; actions: Act };
}

export type AnyActorConfig = ActorConfig<any, any, any, any, any, any, any, any>;

/**
 * Any actor definition (what `setup` takes). Its type carrier is `unknown`, not the `any`s of
 * `ActorDefinition<any, …>`: an `actor({...})` written inline in `setup({ use: { x: actor(…) } })`
 * is contextually typed by this, and TypeScript 5.x infers the inline call's type parameters
 * from that contextual return type first — `any` for the actions, which then typed their
 * context `c` as implicitly any. From `unknown` nothing is inferred, so an inline actor is
 * typed from its own literal exactly like one defined in a variable.
 */
export interface AnyActorDefinition {
  readonly kind: "tandem.actor";
  readonly config: AnyActorConfig;
  readonly types?: unknown;
}

/** Names a handle or connection already uses, so actions cannot take them. */
export const RESERVED_ACTION_NAMES: ReadonlySet<string> = new Set([
  "connect",
  "resolve",
  "dispose",
  "on",
  "once",
  "off",
  "then",
  "catch",
  "finally",
  "constructor",
  "__proto__",
  "toJSON",
  "state",
  "doc",
  "status",
  "pending",
  "whenSynced",
  "awareness",
  "actorId",
  "canEdit",
  "onStatus",
  "onError",
  "onChange",
  "onDoc",
  "onOutbox",
  "onSettled",
  "outbox",
  "whenLoaded",
  "resetLocalData",
  "id",
]);

const HOOKS = [
  "createState",
  "createPrivateState",
  "createVars",
  "onAuth",
  "canEdit",
  "onEdit",
  "onCreate",
  "onStart",
  "onStop",
  "onBeforeConnect",
  "onConnect",
  "onDisconnect",
  "migrate",
] as const satisfies readonly (keyof AnyActorConfig)[];

/**
 * Defines an actor kind. Checks the definition at once, so a mistake shows where it is
 * written rather than at the first call.
 * @public
 */
export function actor<
  Act,
  S = undefined,
  PS = undefined,
  V = undefined,
  A = undefined,
  P = ConnParams,
  E extends EventMap = EventMap,
  I = undefined,
>(config: ActorConfig<S, PS, V, A, P, E, I, Act>): ActorDefinition<S, PS, V, A, P, E, I, Act> {
  if (typeof config !== "object" || config === null) throw new InvalidArguments("actor() takes a definition object");
  const actions = config.actions as unknown;
  if (typeof actions !== "object" || actions === null) throw new InvalidArguments("An actor needs an `actions` object");
  for (const [name, fn] of Object.entries(actions)) {
    if (typeof fn !== "function") throw new InvalidArguments(`Action "${name}" must be a function`);
    if (RESERVED_ACTION_NAMES.has(name)) throw new InvalidArguments(`"${name}" is reserved and cannot name an action`);
  }
  for (const hook of HOOKS) {
    const value = (config as unknown as Record<string, unknown>)[hook];
    if (value !== undefined && typeof value !== "function") throw new InvalidArguments(`"${hook}" must be a function`);
  }
  if (config.version !== undefined && !isStateVersion(config.version)) throw new InvalidArguments("`version` must be an integer from 1");
  if (config.state !== undefined && config.createState !== undefined) {
    throw new InvalidArguments("Give an actor either `state` or `createState`, not both");
  }
  if (config.privateState !== undefined && config.createPrivateState !== undefined) {
    throw new InvalidArguments("Give an actor either `privateState` or `createPrivateState`, not both");
  }
  if (config.vars !== undefined && config.createVars !== undefined) {
    throw new InvalidArguments("Give an actor either `vars` or `createVars`, not both");
  }
  return { kind: "tandem.actor", config: config as AnyActorConfig };
}
