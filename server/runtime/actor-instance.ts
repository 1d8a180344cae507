/**
 * A live actor: owns its Y.Doc and is the only place that changes it. It wires the parts an
 * actor is made of: its mailbox (mailbox.ts), where every piece of work runs one at a time;
 * the commit pipeline (commit.ts), the one road every change takes — action, direct edit
 * (direct-edit.ts), schedule, lifecycle hook — from a draft to a durable commit, then to
 * peers; its schedules (schedules.ts); its exactly-once records (exactly-once.ts); its live
 * connections; and its lifecycle (create, hydrate, idle sleep, stop, failure).
 *
 * When a commit fails after the document changed (inside its transaction, or in storage),
 * the instance is poisoned and evicted, its connections closed, and the next call reloads
 * the actor from what is durable.
 */
import * as Y from "yjs";
import type { AnyActorConfig } from "../../shared/actor.ts";
import type { AuthRequest } from "../../shared/context.ts";
import { ActionNotFound, InvalidArguments, StorageCorrupt, echo } from "../../shared/errors.ts";
import { applyStoredUpdate, stateRoot, toPlain } from "../../shared/state/index.ts";
import type { ActorMeta, Driver, Lease, StoredActor } from "../drivers/driver.ts";
import type { ServerLogger } from "../log.ts";
import { type CallChain, NO_CHAIN } from "./call-chain.ts";
import { type ActorStatus, type CommitHost, CommitPipeline, type TaskOutcome, type UpdateListener } from "./commit.ts";
import { type ConnImpl, systemConn } from "./connection.ts";
import { editSteps } from "./direct-edit.ts";
import { hasPending } from "./edit-check.ts";
import { type Migration, migrationOf, stampNewDocument } from "./migration.ts";
import { type ActionSeq, ExactlyOnce, type ExactlyOnceLimits } from "./exactly-once.ts";
import { Mailbox } from "./mailbox.ts";
import { YjsWriters } from "./yjs-writers.ts";
import { ActorSchedules } from "./schedules.ts";
import type { TaskContext } from "./task.ts";
import { validateArgs } from "./validate.ts";
import { type ActorObserver, EDIT_LABEL, type ObservedActor } from "../inspector/observer.ts";

/** What an instance needs from the runtime that owns it. */
export interface InstanceHost {
  readonly driver: Driver;
  readonly log: ServerLogger;
  readonly client: unknown;
  readonly compactAfterCommits: number;
  readonly defaultSleepAfterMs: number;
  readonly defaultActionTimeoutMs: number;
  /** Bounds of the exactly-once records (exactly-once.ts). */
  readonly exactlyOnceLimits: ExactlyOnceLimits;
  /** The instance stopped (sleep, failure): forget it, and keep its alarm if it has one. */
  unloaded(instance: ActorInstance, alarm: number | null): void;
  /** The instance asks to be put to sleep. */
  sleep(instance: ActorInstance): void;
  /** The inline client for code running with `chain` (`c.client()`). */
  clientFor(chain: CallChain): unknown;
  /** The inspector's observer (null: no inspector). */
  readonly observer: ActorObserver | null;
}

export type { ActionSeq } from "./exactly-once.ts";
export type { TaskOutcome, UpdateListener } from "./commit.ts";

export class ActorInstance implements CommitHost {
  readonly doc = new Y.Doc();
  readonly root = stateRoot(this.doc);
  readonly conns = new Map<string, ConnImpl>();
  readonly updateListeners = new Set<UpdateListener>();
  readonly log: ServerLogger;
  privateState: unknown = undefined;
  vars: unknown = undefined;

  readonly mailbox = new Mailbox();
  readonly schedules: ActorSchedules;
  /** Exactly-once records: the last seq and recent results per client (exactly-once.ts). */
  readonly exactlyOnce: ExactlyOnce;
  /** Which identity writes as which Yjs client in direct edits (yjs-writers.ts). */
  private readonly yjsWriters = new YjsWriters();
  private readonly pipeline: CommitPipeline;
  /** What this actor reports to the inspector (null: no inspector). */
  readonly observed: ObservedActor | null;
  private idleTimer: NodeJS.Timeout | null = null;
  private state: ActorStatus = "running";
  private stopping: Promise<void> | null = null;
  /** The network's per-actor state (its fan-out), made on first use (see `hub`). */
  private hubSlot: { readonly onUpdate: UpdateListener } | null = null;

  private constructor(
    private readonly host: InstanceHost,
    readonly config: AnyActorConfig,
    readonly meta: ActorMeta,
    readonly lease: Lease,
  ) {
    this.log = host.log.child({ actor: meta.name, actorId: meta.id });
    this.exactlyOnce = new ExactlyOnce(host.exactlyOnceLimits);
    this.observed = host.observer?.actor(meta.name, meta.id) ?? null;
    this.pipeline = new CommitPipeline(this);
    // The instance is the schedules' host itself: no object and closures of its own per actor.
    this.schedules = new ActorSchedules(this);
  }

  /** The actions by name (for schedules). */
  get actions(): Record<string, (c: unknown, ...args: unknown[]) => unknown> {
    return this.config.actions as Record<string, (c: unknown, ...args: unknown[]) => unknown>;
  }

  get name(): string {
    return this.meta.name;
  }
  get key(): readonly string[] {
    return this.meta.key;
  }
  get id(): string {
    return this.meta.id;
  }
  get status(): ActorStatus {
    return this.state;
  }
  get isRunning(): boolean {
    return this.state === "running";
  }
  get driver(): Driver {
    return this.host.driver;
  }
  get compactAfterCommits(): number {
    return this.host.compactAfterCommits;
  }
  get exactlyOnceLimits(): ExactlyOnceLimits {
    return this.host.exactlyOnceLimits;
  }
  get actionTimeoutMs(): number {
    return this.config.options?.actionTimeoutMs ?? this.host.defaultActionTimeoutMs;
  }

  /**
   * The network's state for this actor (server/network/actor-hub.ts: its update fan-out,
   * presence, encoded document), made by `make` when the first channel subscribes and owned
   * here, so it lives and goes with the instance. Its `onUpdate` gets every durable update.
   */
  hub<H extends { readonly onUpdate: UpdateListener }>(make: (doc: Y.Doc) => H): H {
    if (this.hubSlot === null) {
      this.hubSlot = make(this.doc);
      this.updateListeners.add(this.hubSlot.onUpdate);
    }
    return this.hubSlot as H;
  }

  // -------------------------------------------------------------------------------------
  // Loading

  /** A new actor: initial state, privateState and `onCreate` written as its first commit. */
  static async create(host: InstanceHost, config: AnyActorConfig, meta: ActorMeta, lease: Lease, input: unknown, chain: CallChain = NO_CHAIN): Promise<ActorInstance> {
    const instance = new ActorInstance(host, config, meta, lease);
    await instance.initVars();
    const createContext = { name: meta.name, key: meta.key, actorId: meta.id, vars: instance.vars, log: instance.log };
    const state = config.createState ? await config.createState(createContext, input) : config.state;
    const privateState = config.createPrivateState ? await config.createPrivateState(createContext, input) : config.privateState;
    instance.privateState = privateState === undefined ? undefined : structuredClone(privateState);
    await instance.pipeline.first(
      meta,
      async (task) => {
        if (state !== undefined) task.draft.replaceRoot(state);
        if (config.onCreate) await config.onCreate(task.context, input);
        stampNewDocument(instance.doc, config);
      },
      chain,
    );
    await instance.start(chain);
    return instance;
  }

  /** An existing actor, from what its driver stored. */
  static async hydrate(host: InstanceHost, config: AnyActorConfig, stored: StoredActor, lease: Lease, chain: CallChain = NO_CHAIN): Promise<ActorInstance> {
    const instance = new ActorInstance(host, config, stored.meta, lease);
    Y.transact(instance.doc, () => {
      for (const update of stored.updates) applyStoredUpdate(instance.doc, update);
    });
    // Yjs parks what depends on changes it does not have, silently: stored updates that
    // leave anything parked have a gap, and serving this document would lose data quietly.
    if (hasPending(instance.doc)) {
      instance.doc.destroy();
      throw new StorageCorrupt(`Actor ${stored.meta.id}: its stored updates have a gap (parts depend on changes that are not stored); refusing to load it`);
    }
    let migration: Migration | null;
    try {
      migration = migrationOf(instance.doc, config, instance, stored.meta.id);
    } catch (error) {
      instance.doc.destroy();
      throw error;
    }
    instance.privateState = stored.privateState;
    instance.pipeline.load(stored.privateState, stored.commitsSinceSnapshot);
    instance.exactlyOnce.load(stored.seqs.values());
    instance.schedules.load(stored.schedules);
    await instance.initVars();
    if (migration !== null) await instance.pipeline.run(systemConn("inline"), migration.run, undefined, chain, migration.write);
    await instance.start(chain);
    return instance;
  }

  private async initVars(): Promise<void> {
    if (this.config.createVars) this.vars = await this.config.createVars();
    else if (this.config.vars !== undefined) this.vars = structuredClone(this.config.vars);
  }

  private async start(chain: CallChain): Promise<void> {
    if (this.config.onStart) await this.run(systemConn("inline"), (c) => this.config.onStart!(c), undefined, chain);
    this.schedules.arm();
    this.touchIdle();
  }

  // -------------------------------------------------------------------------------------
  // Work

  /** Runs `fn` as a task of the mailbox; resolves with its (plain) result once durable. */
  async run<T>(conn: ConnImpl, fn: (c: TaskContext) => T | Promise<T>, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<T> {
    return (await this.pipeline.run(conn, fn, seq, chain)).value as T;
  }

  /**
   * Like `run`, also giving the Yjs update the task committed (null: none). `chain`: the
   * actors the call comes from (call-chain.ts).
   */
  runDetailed(conn: ConnImpl, fn: (c: TaskContext) => unknown, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<TaskOutcome> {
    return this.pipeline.run(conn, fn, seq, chain);
  }

  /** Calls an action by name, validating its arguments. */
  async action(name: string, args: unknown[], conn: ConnImpl, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<unknown> {
    return (await this.actionDetailed(name, args, conn, seq, chain)).value;
  }

  /** Like `action`, also giving the update it produced (sent in the ack). */
  actionDetailed(name: string, args: unknown[], conn: ConnImpl, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<TaskOutcome> {
    const actions = this.config.actions as Record<string, (c: unknown, ...args: unknown[]) => unknown>;
    if (!Object.hasOwn(actions, name)) return Promise.reject(new ActionNotFound(`Actor "${this.name}" has no action "${echo(name)}"`));
    if (!Array.isArray(args)) return Promise.reject(new InvalidArguments("Action arguments must be an array"));
    const action = actions[name]!;
    const schema = (this.config.schemas as Record<string, unknown> | undefined)?.[name];
    // Without a schema the action is called directly: a synchronous action then runs and
    // commits without waiting for anything (see CommitPipeline.execute).
    const run =
      schema === undefined ? (c: TaskContext) => action(c, ...args) : async (c: TaskContext) => action(c, ...(await validateArgs(schema, args)));
    return this.pipeline.run(conn, run, seq, chain, undefined, false, name);
  }

  /**
   * A direct edit of the replica by a connection (an editor binding): checked (edit-check.ts),
   * allowed by `canEdit`, validated by `onEdit` against the state it would produce, then
   * committed like an action — in the same commit as the hooks' privateState, schedules and
   * events, which reach others only once it is durable. A refused edit changes nothing.
   * Several updates a socket delivered back to back are one edit, in one transaction.
   */
  async edit(conn: ConnImpl, updates: readonly Uint8Array[]): Promise<void> {
    const { validate, write } = editSteps(this.doc, this.config, this.yjsWriters, conn, updates);
    await this.pipeline.run(conn, validate, undefined, NO_CHAIN, write, false, EDIT_LABEL);
  }

  /** Forgets a client id's exactly-once records, durably, after the work queued (the inspector's reset); how many. */
  forgetClient(clientId: string): Promise<number> {
    return this.pipeline.forgetClient(clientId);
  }

  /** The network's per-actor state if a channel made it (the inspector reads its presence). */
  get hubIfMade(): unknown {
    return this.hubSlot;
  }

  /** Whether a connection may edit directly (`canEdit`; absent means no). */
  canEdit(conn: ConnImpl): Promise<boolean> {
    const canEdit = this.config.canEdit;
    if (canEdit === undefined) return Promise.resolve(false);
    return this.run(conn, async (c) => (await canEdit(Object.assign(Object.create(c), { update: new Uint8Array() }))) === true);
  }

  // -------------------------------------------------------------------------------------
  // Events

  emit(targets: readonly ConnImpl[] | "all", name: string, payload: unknown): void {
    if (typeof name !== "string") throw new InvalidArguments("An event name must be a string");
    const plain = toPlain(payload);
    const task = this.pipeline.task;
    if (task !== null) task.events.push({ targets, name, payload: plain });
    else this.deliver(targets, name, plain);
  }

  deliver(targets: readonly ConnImpl[] | "all", name: string, payload: unknown): void {
    const list = targets === "all" ? [...this.conns.values()] : targets;
    this.observed?.event(name, list.length);
    for (const conn of list) {
      if (!this.conns.has(conn.id)) continue;
      try {
        conn.sink?.event(name, payload);
      } catch (error) {
        this.log.warn({ err: error, conn: conn.id }, "event delivery failed");
      }
    }
  }

  hasSchedule(id: string): boolean {
    return this.schedules.has(id);
  }

  client(chain: CallChain): unknown {
    return this.host.clientFor(chain);
  }

  // -------------------------------------------------------------------------------------
  // Connections

  /** Accepts a live connection: onBeforeConnect (may refuse), then onConnect, as one task. */
  connect(conn: ConnImpl, request?: AuthRequest, chain: CallChain = NO_CHAIN): Promise<void> {
    conn.emitter = this;
    return this.run(
      conn,
      async (c) => {
      if (this.config.onBeforeConnect) await this.config.onBeforeConnect(c, { params: conn.params, auth: conn.auth, request });
      this.conns.set(conn.id, conn);
      try {
        if (this.config.onConnect) await this.config.onConnect(c, conn);
      } catch (error) {
        this.conns.delete(conn.id);
        throw error;
      }
    },
      undefined,
      chain,
    );
  }

  /** Removes a live connection and runs onDisconnect. */
  async disconnect(conn: ConnImpl, reason = "disconnected"): Promise<void> {
    if (!this.conns.has(conn.id)) return;
    this.conns.delete(conn.id);
    conn.sink?.close(reason);
    if (this.state !== "running" && this.state !== "stopping") return;
    try {
      await this.pipeline.run(
        conn,
        async (c) => {
          if (this.config.onDisconnect) await this.config.onDisconnect(c, conn);
        },
        undefined,
        NO_CHAIN,
        undefined,
        true,
      );
    } catch (error) {
      this.log.error({ err: error, conn: conn.id }, "onDisconnect failed");
    }
  }

  // -------------------------------------------------------------------------------------
  // Sleep and stop

  touchIdle(): void {
    this.clearIdle();
    if (this.state !== "running" || this.conns.size > 0 || this.mailbox.size > 1) return;
    const ms = this.config.options?.sleepAfterMs ?? this.host.defaultSleepAfterMs;
    if (!ms || ms <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.conns.size > 0 || this.state !== "running") return;
      if (this.mailbox.size === 0) this.host.sleep(this);
      else this.touchIdle(); // busy with its own work (a compaction): try again later
    }, ms);
    this.idleTimer.unref();
  }

  clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** A task asked to sleep (`c.sleep()`), once its commit is durable. */
  sleep(): void {
    this.host.sleep(this);
  }

  /** Runs onStop after the work already queued, closes connections, gives up the lease. */
  stop(reason = "actor stopped"): Promise<void> {
    if (this.stopping) return this.stopping;
    this.state = "stopping";
    this.stopping = (async () => {
      this.clearIdle();
      this.schedules.stop();
      if (this.config.onStop) {
        await this.pipeline
          .run(systemConn("inline"), (c) => this.config.onStop!(c), undefined, NO_CHAIN, undefined, true)
          .catch((error) => this.log.error({ err: error }, "onStop failed"));
      }
      await this.mailbox.drain();
      await this.pipeline.settled();
      this.state = "stopped";
      this.mailbox.close();
      for (const conn of [...this.conns.values()]) conn.sink?.close(reason);
      this.conns.clear();
      await this.host.driver.release(this.lease).catch(() => undefined);
      this.host.unloaded(this, this.schedules.earliest());
    })();
    return this.stopping;
  }

  /**
   * The document changed and storage did not (a commit failed mid-way, or storage refused
   * it): this copy is no longer trustworthy. Connections are closed (their replicas resync
   * from the reloaded actor) and the next call reloads it from what is durable.
   */
  fail(error: unknown, why: string): void {
    if (this.state === "failed") return;
    this.log.error({ err: error }, `actor failed: ${why}; it will reload from storage`);
    this.state = "failed";
    this.clearIdle();
    this.schedules.stop();
    for (const conn of [...this.conns.values()]) conn.sink?.close("actor restarted");
    this.conns.clear();
    this.host.unloaded(this, this.schedules.earliest());
  }
}
