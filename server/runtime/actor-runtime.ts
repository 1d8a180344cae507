/**
 * The actor registry of one server: finds, loads, creates and unloads actor instances by
 * id, one load at a time per id (concurrent callers share it), and wakes actors whose
 * alarms fall due while they are not loaded.
 */
import type { AnyActorConfig } from "../../shared/actor.ts";
import { ActorAlreadyExists, ActorNotFound, ActorStopped, InternalError, echo, isInternal, toCallerError } from "../../shared/errors.ts";
import { normalizeKey } from "../../shared/key.ts";
import type { AnyRegistry } from "../../shared/setup.ts";
import { type Alarm, type Driver, HeldElsewhere } from "../drivers/driver.ts";
import type { ServerLogger } from "../log.ts";
import { actorId, isActorId } from "./actor-id.ts";
import { ActorInstance, type InstanceHost } from "./actor-instance.ts";
import { AlarmClock } from "./alarm-clock.ts";
import { type CallChain, NO_CHAIN } from "./call-chain.ts";
import { DEFAULT_EXACTLY_ONCE_LIMITS, type ExactlyOnceLimits } from "./exactly-once.ts";
import type { ActorObserver } from "../inspector/observer.ts";

export type LoadMode = { readonly kind: "get" } | { readonly kind: "getOrCreate" | "create"; readonly input?: unknown };

export interface RuntimeOptions {
  driver: Driver;
  log: ServerLogger;
  /** Commits after which an actor's log is compacted into a snapshot. Default 1,000. */
  compactAfterCommits?: number;
  /** Idle time before an actor with no connections sleeps (0: never). Default 60 s. */
  sleepAfterMs?: number;
  /** Longest an action may run (0: no limit). Default 60 s. */
  actionTimeoutMs?: number;
  /** Bounds of each actor's exactly-once records (exactly-once.ts). */
  exactlyOnce?: Partial<ExactlyOnceLimits>;
}

export class ActorRuntime implements InstanceHost {
  readonly driver: Driver;
  readonly log: ServerLogger;
  readonly compactAfterCommits: number;
  readonly defaultSleepAfterMs: number;
  readonly defaultActionTimeoutMs: number;
  readonly exactlyOnceLimits: ExactlyOnceLimits;
  /** The inline client (`server.client`); set by createServer. */
  client: unknown = undefined;
  /** Makes the inline client of code running with a call chain (`c.client()`); set by createServer. */
  clientWith: ((chain: CallChain) => unknown) | undefined = undefined;
  /** The inspector's observer, told of actions, commits and events (null: no inspector); set by createServer. */
  observer: ActorObserver | null = null;

  private readonly instances = new Map<string, ActorInstance>();
  private readonly loading = new Map<string, Promise<ActorInstance>>();
  private readonly alarmClock = new AlarmClock((alarm) => this.wake(alarm));
  private closed = false;

  constructor(
    readonly registry: AnyRegistry,
    options: RuntimeOptions,
  ) {
    this.driver = options.driver;
    this.log = options.log;
    this.compactAfterCommits = options.compactAfterCommits ?? 1000;
    this.defaultSleepAfterMs = options.sleepAfterMs ?? 60_000;
    this.defaultActionTimeoutMs = options.actionTimeoutMs ?? 60_000;
    this.exactlyOnceLimits = { ...DEFAULT_EXACTLY_ONCE_LIMITS, ...options.exactlyOnce };
  }

  /** Arms the alarms the driver knows of (actors with schedules due while we were down). */
  async start(): Promise<void> {
    for (const alarm of await this.driver.alarms()) this.alarmClock.set(alarm);
  }

  /** Live instances (for tests and metrics). */
  get loaded(): ReadonlyMap<string, ActorInstance> {
    return this.instances;
  }

  /** Actors not loaded whose alarm is armed here, by id (for the inspector). */
  get asleepWithAlarms(): ReadonlyMap<string, Alarm> {
    return this.alarmClock.waiting;
  }

  config(name: string): AnyActorConfig {
    const definition = Object.hasOwn(this.registry.actors, name) ? this.registry.actors[name] : undefined;
    if (definition === undefined) throw new ActorNotFound(`There is no actor kind "${echo(name)}"`);
    return definition.config;
  }

  /** The inline client for code of the actors in `chain` (`c.client()`). */
  clientFor(chain: CallChain): unknown {
    return this.clientWith === undefined ? this.client : this.clientWith(chain);
  }

  /**
   * The live instance of `(name, key)`, loading or creating it as `mode` allows. `chain`:
   * the actors the call comes from (call-chain.ts).
   */
  async resolve(name: string, rawKey: unknown, mode: LoadMode, chain: CallChain = NO_CHAIN): Promise<ActorInstance> {
    const config = this.config(name);
    const key = normalizeKey(rawKey);
    return this.resolveId(actorId(name, key), name, key, config, mode, chain);
  }

  /**
   * The key of an actor id, for `onAuth` of a by-id target (an id is a hash anyone can
   * compute from a key: auth must see the real key). From the live instance or the stored
   * meta, without loading the actor; `ActorNotFound` if there is no such actor of this kind.
   */
  async keyOfId(name: string, id: unknown): Promise<readonly string[]> {
    this.config(name);
    if (!isActorId(id)) throw new ActorNotFound(`"${echo(String(id))}" is not an actor id`);
    const live = this.instances.get(id);
    if (live?.isRunning) {
      if (live.name !== name) throw new ActorNotFound(`Actor ${echo(id)} is not a "${echo(name)}"`);
      return live.key;
    }
    const meta = await this.driver.meta(id);
    if (meta === null || meta.name !== name) throw new ActorNotFound(`There is no "${echo(name)}" actor with id ${echo(id)}`);
    return meta.key;
  }

  /** The live instance of an id from `handle.resolve()`; `name` must match its kind. */
  async resolveById(name: string, id: unknown, chain: CallChain = NO_CHAIN): Promise<ActorInstance> {
    const config = this.config(name);
    if (!isActorId(id)) throw new ActorNotFound(`"${echo(String(id))}" is not an actor id`);
    this.refuseSelfCall(id, name, chain);
    const live = this.instances.get(id);
    if (live?.isRunning) {
      if (live.name !== name) throw new ActorNotFound(`Actor ${echo(id)} is not a "${echo(name)}"`);
      return live;
    }
    const meta = await this.driver.meta(id);
    if (meta === null || meta.name !== name) throw new ActorNotFound(`There is no "${echo(name)}" actor with id ${echo(id)}`);
    return this.resolveId(id, name, meta.key, config, { kind: "get" }, chain);
  }

  private async resolveId(id: string, name: string, key: readonly string[], config: AnyActorConfig, mode: LoadMode, chain: CallChain): Promise<ActorInstance> {
    this.refuseSelfCall(id, name, chain);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.closed) throw new ActorStopped("The server is closing");
      const live = this.instances.get(id);
      if (live !== undefined) {
        if (live.isRunning) {
          if (mode.kind === "create") throw new ActorAlreadyExists(`Actor "${name}" ${JSON.stringify(key)} already exists`);
          return live;
        }
        await live.stop();
        continue;
      }
      const pending = this.loading.get(id);
      if (pending !== undefined) {
        await pending.catch(() => undefined);
        continue;
      }
      const load = this.load(id, name, key, config, mode, chain);
      this.loading.set(id, load);
      try {
        return await load;
      } finally {
        this.loading.delete(id);
      }
    }
    throw new InternalError(`Actor ${id} kept changing while loading`);
  }

  /** An action awaiting a call to its own actor would wait for itself forever. */
  private refuseSelfCall(id: string, name: string, chain: CallChain): void {
    if (chain.includes(id)) {
      throw new InternalError(`Actor "${name}" called itself through c.client(): this would wait for itself forever`);
    }
  }

  private async load(id: string, name: string, key: readonly string[], config: AnyActorConfig, mode: LoadMode, chain: CallChain): Promise<ActorInstance> {
    const lease = await this.driver.acquire(id);
    try {
      const stored = await this.driver.load(id, lease);
      let instance: ActorInstance;
      if (stored !== null) {
        if (mode.kind === "create") throw new ActorAlreadyExists(`Actor "${name}" ${JSON.stringify(key)} already exists`);
        instance = await ActorInstance.hydrate(this, config, stored, lease, chain);
      } else {
        if (mode.kind === "get") throw new ActorNotFound(`There is no "${echo(name)}" actor with key ${echo(key)}`);
        const meta = { id, name, key: [...key], createdAt: Date.now() };
        instance = await ActorInstance.create(this, config, meta, lease, mode.input, chain);
      }
      this.alarmClock.delete(id);
      if (this.closed) {
        await instance.stop("server closing");
        throw new ActorStopped("The server is closing");
      }
      this.instances.set(id, instance);
      return instance;
    } catch (error) {
      await this.driver.release(lease).catch(() => undefined);
      throw error;
    }
  }

  unloaded(instance: ActorInstance, alarm: number | null): void {
    if (this.instances.get(instance.id) === instance) this.instances.delete(instance.id);
    if (alarm !== null && !this.closed) this.alarmClock.set({ id: instance.id, name: instance.name, key: instance.key, at: alarm });
  }

  /** Wakes the actor of `alarm` when it falls due (alarms another node stored: cluster-node.ts). */
  wakeAt(alarm: Alarm): void {
    if (!this.closed) this.alarmClock.set(alarm);
  }

  sleep(instance: ActorInstance): void {
    void instance.stop("actor went to sleep");
  }

  private async wake(alarm: Alarm): Promise<void> {
    try {
      await this.resolve(alarm.name, alarm.key, { kind: "get" });
    } catch (error) {
      // Live on another node: that node runs its schedules.
      if (error instanceof HeldElsewhere) return;
      this.log.error({ err: error, actorId: alarm.id }, "could not wake an actor for its alarm");
    }
  }

  /** What a caller outside the actor sees of an error; internal details are logged here. */
  callerError(error: unknown, context: Record<string, unknown>): Error {
    if (isInternal(error)) this.log.error({ err: error, ...context }, "internal error");
    return toCallerError(error);
  }

  /** Stops every actor (onStop, drained mailboxes), then closes the driver. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.alarmClock.stop();
    await Promise.allSettled([...this.loading.values()]);
    await Promise.allSettled([...this.instances.values()].map((instance) => instance.stop("server closing")));
    await this.driver.close();
  }
}
