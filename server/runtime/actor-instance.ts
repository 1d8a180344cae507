/**
 * A live actor: owns its Y.Doc and is the only place that changes it. Every piece of work —
 * action, connect, disconnect, schedule, lifecycle hook — runs as a task of its mailbox,
 * against a draft; when the task succeeds its changes become one commit:
 *
 *   draft → one Yjs transaction → driver.append (durable) → events and update fan-out → result
 *
 * When the task throws, the draft, the privateState changes, events and schedules are all
 * dropped: nothing reaches the document, storage or any peer. A direct edit is a task too:
 * its hooks run as the task's code and its update is what the commit writes. If the commit
 * fails after the document changed (inside its transaction, or in storage), the instance is
 * poisoned and evicted, its connections closed, and the next call reloads the actor from
 * what is durable.
 */
import * as Y from "yjs";
import type { AnyActorConfig } from "../../shared/actor.ts";
import type { AuthRequest } from "../../shared/context.ts";
import { ActionNotFound, ActorStopped, Forbidden, InternalError, InvalidArguments, StorageCorrupt, toWireError } from "../../shared/errors.ts";
import { Draft, applyStoredUpdate, stateRoot, toPlain } from "../../shared/state/index.ts";
import type { ActorMeta, Commit, Driver, Lease, ScheduleEntry, StoredActor } from "../drivers/driver.ts";
import type { ServerLogger } from "../log.ts";
import { type CallChain, NO_CHAIN } from "./call-chain.ts";
import { type ConnImpl, systemConn } from "./connection.ts";
import { Mailbox } from "./mailbox.ts";
import { type ContextHost, Task, type TaskContext } from "./task.ts";
import { checkEditUpdates, hasPending } from "./edit-check.ts";
import { type ActionSeq, ExactlyOnce, type ExactlyOnceLimits, type SeqWrite, identityDigest } from "./exactly-once.ts";
import { YjsWriters } from "./yjs-writers.ts";
import { checkPlainData } from "./plain-data.ts";
import { validateArgs } from "./validate.ts";

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
}

/** Listeners of committed updates (the network fan-out subscribes here). */
export type UpdateListener = (update: Uint8Array, origin: ConnImpl) => void;

/** What a task gave: its plain result and the update it committed (null: none). */
export interface TaskOutcome {
  readonly value: unknown;
  readonly update: Uint8Array | null;
}

/** A task done in memory, and the gate its answer waits at. */
type Executed = { readonly value: unknown; readonly update: Uint8Array | null; readonly durable: Promise<void> } & (
  | { readonly failed: false }
  | { readonly failed: true; readonly error: unknown }
);

export type { ActionSeq } from "./exactly-once.ts";

type Status = "running" | "stopping" | "stopped" | "failed";

const MAX_TIMER_MS = 2 ** 31 - 1;

export class ActorInstance implements ContextHost {
  readonly doc = new Y.Doc();
  readonly root = stateRoot(this.doc);
  readonly conns = new Map<string, ConnImpl>();
  readonly updateListeners = new Set<UpdateListener>();
  readonly log: ServerLogger;
  privateState: unknown = undefined;
  vars: unknown = undefined;

  private readonly mailbox = new Mailbox();
  private readonly schedules = new Map<string, ScheduleEntry>();
  /** Exactly-once records: the last seq and recent results per client (exactly-once.ts). */
  private readonly exactlyOnce: ExactlyOnce;
  /** Which identity writes as which Yjs client in direct edits (yjs-writers.ts). */
  private readonly yjsWriters = new YjsWriters();
  private privateStateJson = "undefined";
  private task: Task | null = null;
  private timer: NodeJS.Timeout | null = null;
  private firing = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private commitsSinceSnapshot = 0;
  /** Resolves once every append asked for so far is durable (see persist). */
  private durable: Promise<void> = Promise.resolve();
  private status: Status = "running";
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly host: InstanceHost,
    readonly config: AnyActorConfig,
    readonly meta: ActorMeta,
    readonly lease: Lease,
  ) {
    this.log = host.log.child({ actor: meta.name, actorId: meta.id });
    this.exactlyOnce = new ExactlyOnce(host.exactlyOnceLimits);
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
  get isRunning(): boolean {
    return this.status === "running";
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

    const task = new Task(new Draft(instance.root), systemConn("inline"), instance, [...chain, meta.id]);
    instance.task = task;
    try {
      if (state !== undefined) task.draft.replaceRoot(state);
      if (config.onCreate) await config.onCreate(task.context, input);
      const update = task.draft.commit(instance);
      const first = instance.buildCommit(task, update ?? Y.encodeStateAsUpdate(instance.doc), null, true)!;
      await host.driver.create(meta, first, lease);
      instance.afterCommit(task);
      instance.publish(task, update);
    } catch (error) {
      task.draft.close();
      throw error;
    } finally {
      instance.task = null;
    }
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
    instance.privateState = stored.privateState;
    instance.privateStateJson = jsonOf(stored.privateState);
    instance.exactlyOnce.load(stored.seqs.values());
    for (const entry of stored.schedules) instance.schedules.set(entry.id, entry);
    instance.commitsSinceSnapshot = stored.commitsSinceSnapshot;
    await instance.initVars();
    await instance.start(chain);
    return instance;
  }

  private async initVars(): Promise<void> {
    if (this.config.createVars) this.vars = await this.config.createVars();
    else if (this.config.vars !== undefined) this.vars = structuredClone(this.config.vars);
  }

  private async start(chain: CallChain): Promise<void> {
    if (this.config.onStart) await this.run(systemConn("inline"), (c) => this.config.onStart!(c), undefined, chain);
    this.armTimer();
    this.touchIdle();
  }

  // -------------------------------------------------------------------------------------
  // Work

  /** Runs `fn` as a task of the mailbox; resolves with its (plain) result once durable. */
  async run<T>(conn: ConnImpl, fn: (c: TaskContext) => T | Promise<T>, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<T> {
    return (await this.runDetailed(conn, fn, seq, chain)).value as T;
  }

  /**
   * Like `run`, also giving the Yjs update the task committed (null: none). `chain`: the
   * actors the call comes from (call-chain.ts).
   */
  async runDetailed(conn: ConnImpl, fn: (c: TaskContext) => unknown, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<TaskOutcome> {
    if (this.status !== "running") throw new ActorStopped();
    return this.settle(this.mailbox.enqueue(() => this.execute(conn, fn, seq, chain)));
  }

  /** Waits at a task's gate, then gives its outcome (or its error). */
  private async settle(executed: Promise<Executed>): Promise<TaskOutcome> {
    const done = await executed;
    await done.durable;
    if (done.failed) throw done.error;
    return { value: done.value, update: done.update };
  }

  /** Calls an action by name, validating its arguments. */
  async action(name: string, args: unknown[], conn: ConnImpl, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<unknown> {
    return (await this.actionDetailed(name, args, conn, seq, chain)).value;
  }

  /** Like `action`, also giving the update it produced (sent in the ack). */
  actionDetailed(name: string, args: unknown[], conn: ConnImpl, seq?: ActionSeq, chain: CallChain = NO_CHAIN): Promise<TaskOutcome> {
    const actions = this.config.actions as Record<string, (c: unknown, ...args: unknown[]) => unknown>;
    if (!Object.hasOwn(actions, name)) return Promise.reject(new ActionNotFound(`Actor "${this.name}" has no action "${name}"`));
    if (!Array.isArray(args)) return Promise.reject(new InvalidArguments("Action arguments must be an array"));
    const action = actions[name]!;
    const schema = (this.config.schemas as Record<string, unknown> | undefined)?.[name];
    // Without a schema the action is called directly: a synchronous action then runs and
    // commits without waiting for anything (see execute).
    const run =
      schema === undefined ? (c: TaskContext) => action(c, ...args) : async (c: TaskContext) => action(c, ...(await validateArgs(schema, args)));
    return this.runDetailed(conn, run, seq, chain);
  }

  /**
   * One task, inside the mailbox. Resolves as soon as the task committed in memory; the
   * caller waits at `durable` before it may answer (see persist). Actions and edits both
   * commit here; they differ only in how their changes reach the document (`write`: the
   * draft's replay for an action, the client's update for an edit).
   *
   * Two phases. Until `write` starts, nothing outside the task changed: a failure drops the
   * draft, restores privateState, and fails the task alone. Once the document may have
   * changed, a failure (a throw inside the transaction, a commit that cannot be built) leaves
   * this copy ahead of storage: the instance fails and reloads from what is durable.
   */
  private async execute(
    conn: ConnImpl,
    fn: (c: TaskContext) => unknown,
    seq?: ActionSeq,
    chain: CallChain = NO_CHAIN,
    write: (task: Task) => Uint8Array | null = (task) => task.draft.commit(this),
  ): Promise<Executed> {
    if (this.status !== "running" && this.status !== "stopping") throw new ActorStopped();
    if (seq !== undefined) {
      // Answered from the record, once whatever it was recorded in is durable; a seq too far
      // ahead is refused and records nothing.
      try {
        const known = this.exactlyOnce.check(seq);
        if (known !== null) return { value: known.replay(), update: null, durable: this.durable, failed: false };
      } catch (error) {
        return { failed: true, error, durable: this.durable, value: undefined, update: null };
      }
    }
    this.clearIdle();
    const task = new Task(new Draft(this.root), conn, this, [...chain, this.id]);
    const privateStateBefore = this.privateStateJson;
    this.task = task;
    let result: unknown;
    let privateStateJson: string;
    try {
      const value = fn(task.context);
      // Only an action that awaits can run long enough to time out (a synchronous one holds
      // the event loop, so no timer could fire anyway): the timer is for those alone.
      result = plainResult(toPlain(isThenable(value) ? await this.withTimeout(value) : value));
      // Everything that can refuse the commit is checked before the document changes.
      task.draft.check();
      privateStateJson = jsonOf(this.privateState);
      // What JSON would not give back as it was (NaN, byte arrays, Dates…) is refused now
      // rather than changed silently by the next load.
      if (privateStateJson !== privateStateBefore) checkPlainData(this.privateState, "privateState", 0, false);
    } catch (error) {
      task.draft.close();
      this.privateState = privateStateBefore === "undefined" ? undefined : JSON.parse(privateStateBefore);
      this.task = null;
      // An outbox action that failed still uses up its seq: a resend gets the same error.
      const durable = seq !== undefined ? this.recordFailure(seq, error) : this.durable;
      this.touchIdle();
      return { failed: true, error, durable, value: undefined, update: null };
    }
    try {
      const update = write(task);
      const record = seq === undefined ? null : this.exactlyOnce.record(seq, { ok: true, value: result });
      const commit = this.buildCommit(task, update, record, false, privateStateJson);
      const durable = commit !== null ? this.persist(commit) : this.durable;
      this.afterCommit(task, privateStateJson);
      void durable.then(
        () => this.publish(task, update),
        () => undefined,
      );
      return { value: result, update, durable, failed: false };
    } catch (error) {
      task.draft.close();
      this.fail(error, "a commit failed after the document changed");
      const failure = new InternalError("The actor could not commit its changes; it reloads from storage", { cause: error });
      return { failed: true, error: failure, durable: this.durable, value: undefined, update: null };
    } finally {
      this.task = null;
      this.touchIdle();
    }
  }

  /**
   * A direct edit of the replica by a connection (an editor binding): checked (edit-check.ts),
   * allowed by `canEdit`, validated by `onEdit` against the state it would produce, then
   * committed like an action — in the same commit as the hooks' privateState, schedules and
   * events, which reach others only once it is durable. A refused edit changes nothing.
   */
  async edit(conn: ConnImpl, updates: readonly Uint8Array[]): Promise<void> {
    if (this.status !== "running") throw new ActorStopped();
    await this.settle(this.mailbox.enqueue(() => this.executeEdit(conn, updates)));
  }

  /** Whether a connection may edit directly (`canEdit`; absent means no). */
  canEdit(conn: ConnImpl): Promise<boolean> {
    const canEdit = this.config.canEdit;
    if (canEdit === undefined) return Promise.resolve(false);
    return this.run(conn, async (c) => (await canEdit(Object.assign(Object.create(c), { update: new Uint8Array() }))) === true);
  }

  /**
   * An edit — one update, or several a socket delivered back to back, in one transaction —
   * as a task: its hooks are the task's code, its updates what the commit writes.
   */
  private executeEdit(conn: ConnImpl, updates: readonly Uint8Array[]): Promise<Executed> {
    // Which Yjs clients the edit writes as, and whether this identity may (yjs-writers.ts).
    const identity = identityDigest(conn.auth, this.config.identity);
    let writes: number[] = [];
    const validate = async (c: TaskContext) => {
      writes = checkEditUpdates(this.doc, updates, (client) => this.yjsWriters.mayWrite(client, identity, this.doc.clientID));
      // The hooks see the edit as one update, merged only if one of them reads it.
      let update: Uint8Array | null = updates.length === 1 ? updates[0]! : null;
      const context = Object.create(c, {
        update: { get: () => (update ??= Y.mergeUpdates(updates as Uint8Array[])), enumerable: true },
      }) as TaskContext & { update: Uint8Array };
      if (!this.config.canEdit || !(await this.config.canEdit(context))) {
        throw new Forbidden("This connection may not edit the state directly");
      }
      if (this.config.onEdit) {
        // Let onEdit see the state the edit would produce, on a copy: nothing changes if it throws.
        const trial = new Y.Doc();
        Y.applyUpdate(trial, Y.encodeStateAsUpdate(this.doc));
        Y.transact(trial, () => {
          for (const u of updates) Y.applyUpdate(trial, u);
        });
        if (hasPending(trial)) throw new InvalidArguments("The edit depends on changes the actor does not have");
        const view = new Draft(stateRoot(trial));
        const trialContext = Object.create(context, { state: { value: view.view } }) as typeof context;
        try {
          await this.config.onEdit(trialContext);
        } finally {
          view.close();
          trial.destroy();
        }
      }
      return undefined;
    };
    const write = (task: Task) => {
      task.draft.close();
      const applied = applyEdit(this.doc, updates, conn);
      // The check refuses what Yjs would park; anything parked all the same means this copy
      // is no longer clean (execute then reloads the actor).
      if (hasPending(this.doc)) throw new InternalError("An accepted edit left parts Yjs could not integrate");
      this.yjsWriters.claim(writes, identity);
      return applied;
    };
    return this.execute(conn, validate, undefined, NO_CHAIN, write);
  }

  private recordFailure(seq: ActionSeq, error: unknown): Promise<void> {
    const write = this.exactlyOnce.record(seq, { ok: false, error: toWireError(error) });
    return this.persist(write.removed.length > 0 ? { seqs: [write.put], seqsRemoved: write.removed } : { seqs: [write.put] });
  }

  private withTimeout<T>(promise: PromiseLike<T>): Promise<T> {
    const ms = this.config.options?.actionTimeoutMs ?? this.host.defaultActionTimeoutMs;
    if (!ms) return Promise.resolve(promise);
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InternalError(`Action timed out after ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private buildCommit(task: Task, update: Uint8Array | null, seqRecord: SeqWrite | null, always: boolean, privateStateJson = jsonOf(this.privateState)): Commit | null {
    const privateStateChanged = privateStateJson !== this.privateStateJson;
    if (!always && update === null && !privateStateChanged && !task.scheduleChanged && seqRecord === null) return null;
    const commit: { -readonly [K in keyof Commit]: Commit[K] } = {};
    if (update !== null) commit.update = update;
    if (privateStateChanged || always) commit.privateState = this.privateState === undefined ? undefined : JSON.parse(privateStateJson);
    if (seqRecord !== null) commit.seqs = [seqRecord.put];
    if (seqRecord !== null && seqRecord.removed.length > 0) commit.seqsRemoved = seqRecord.removed;
    if (task.scheduleChanged) {
      commit.schedules = { put: task.schedulesPut, remove: task.schedulesRemoved };
      commit.alarm = earliest([...this.schedulesAfter(task)]);
    }
    return commit;
  }

  private *schedulesAfter(task: Task): Iterable<ScheduleEntry> {
    const removed = new Set(task.schedulesRemoved);
    for (const entry of this.schedules.values()) if (!removed.has(entry.id)) yield entry;
    yield* task.schedulesPut;
  }

  /**
   * Hands a commit to the driver without waiting: the mailbox goes on with the next task
   * (whose commits the driver can then share an fsync with — group commit), while this
   * task's result, events and update wait at the returned gate. The gate covers every
   * append asked for before, so nothing is acknowledged before what it may depend on is
   * durable; one failed append fails every gate after it (and poisons the instance).
   */
  private persist(commit: Commit): Promise<void> {
    const append = this.host.driver.append(this.id, commit, this.lease).then(
      () => {
        this.commitsSinceSnapshot++;
        // Results recorded for exactly-once also count: their log must not outgrow the bound on what is kept.
        if (this.commitsSinceSnapshot >= this.host.compactAfterCommits || this.exactlyOnce.loggedBytes > this.host.exactlyOnceLimits.maxBytesPerActor) {
          this.commitsSinceSnapshot = 0;
          this.exactlyOnce.loggedBytes = 0;
          void this.mailbox
            .enqueue(() => this.compact())
            .catch((error) => this.log.error({ err: error }, "compaction failed"))
            .finally(() => this.touchIdle());
        }
      },
      (error: unknown) => {
        this.fail(error, "storage refused a commit");
        throw new InternalError("The actor could not persist its changes", { cause: error });
      },
    );
    const gate = Promise.all([this.durable, append]).then(() => undefined);
    gate.catch(() => undefined); // observed by whoever waits at it
    this.durable = gate;
    return gate;
  }

  /** Right after a task committed in memory: what the next task must see. */
  private afterCommit(task: Task, privateStateJson = jsonOf(this.privateState)): void {
    this.privateStateJson = privateStateJson;
    if (task.scheduleChanged) {
      for (const id of task.schedulesRemoved) this.schedules.delete(id);
      for (const entry of task.schedulesPut) this.schedules.set(entry.id, entry);
      this.armTimer();
    }
  }

  /**
   * Once the task's commit is durable: what others may see (the update, then the events —
   * an event never reaches a connection before the state it announces — then sleep).
   */
  private publish(task: Task, update: Uint8Array | null): void {
    if (update !== null) {
      for (const listener of this.updateListeners) {
        try {
          listener(update, task.conn);
        } catch (error) {
          this.log.error({ err: error }, "an update listener failed");
        }
      }
    }
    for (const event of task.events) this.deliver(event.targets, event.name, event.payload);
    if (task.sleepRequested) this.host.sleep(this);
  }

  private async compact(): Promise<void> {
    if (this.status !== "running") return;
    await this.durable; // the snapshot must not hold anything that is not durable yet
    const schedules = [...this.schedules.values()];
    await this.host.driver.compact(
      this.id,
      {
        doc: Y.encodeStateAsUpdate(this.doc),
        privateState: this.privateState === undefined ? undefined : JSON.parse(this.privateStateJson),
        seqs: this.exactlyOnce.records(),
        schedules,
        alarm: earliest(schedules),
      },
      this.lease,
    );
  }

  // -------------------------------------------------------------------------------------
  // Events

  emit(targets: readonly ConnImpl[] | "all", name: string, payload: unknown): void {
    if (typeof name !== "string") throw new InvalidArguments("An event name must be a string");
    const plain = toPlain(payload);
    if (this.task !== null) this.task.events.push({ targets, name, payload: plain });
    else this.deliver(targets, name, plain);
  }

  private deliver(targets: readonly ConnImpl[] | "all", name: string, payload: unknown): void {
    const list = targets === "all" ? [...this.conns.values()] : targets;
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
    if (this.status !== "running" && this.status !== "stopping") return;
    try {
      await this.settle(
        this.mailbox.enqueue(() =>
          this.execute(conn, async (c) => {
            if (this.config.onDisconnect) await this.config.onDisconnect(c, conn);
          }),
        ),
      );
    } catch (error) {
      this.log.error({ err: error, conn: conn.id }, "onDisconnect failed");
    }
  }

  // -------------------------------------------------------------------------------------
  // Schedules

  private armTimer(): void {
    if (this.firing) return; // fireDue re-arms when it is done
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = earliest([...this.schedules.values()]);
    if (next === null || this.status !== "running") return;
    const delay = Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.fireDue();
    }, delay);
    this.timer.unref();
  }

  private async fireDue(): Promise<void> {
    if (this.firing) return;
    this.firing = true;
    try {
      const now = Date.now();
      const due = [...this.schedules.values()].filter((entry) => entry.at <= now).sort((a, b) => a.at - b.at);
      for (const entry of due) {
        if (this.status !== "running") return;
        try {
          await this.run(systemConn("schedule"), (c) => {
            // Checked when the task runs: each schedule fires once.
            if (!this.schedules.has(entry.id)) return undefined;
            c.schedule.cancel(entry.id); // removed in the same commit as the action's effects
            const actions = this.config.actions as Record<string, (c: unknown, ...args: unknown[]) => unknown>;
            if (!Object.hasOwn(actions, entry.action)) throw new ActionNotFound(`Scheduled action "${entry.action}" does not exist`);
            return actions[entry.action]!(c, ...entry.args);
          });
        } catch (error) {
          this.log.error({ err: error, action: entry.action, schedule: entry.id }, "scheduled action failed");
          // The schedule fired once: remove it even though its action failed.
          if (this.schedules.has(entry.id) && this.status === "running") {
            await this.run(systemConn("schedule"), (c) => c.schedule.cancel(entry.id)).catch(() => undefined);
          }
        }
      }
    } finally {
      this.firing = false;
      this.armTimer();
    }
  }

  // -------------------------------------------------------------------------------------
  // Sleep and stop

  private touchIdle(): void {
    this.clearIdle();
    if (this.status !== "running" || this.conns.size > 0 || this.mailbox.size > 1) return;
    const ms = this.config.options?.sleepAfterMs ?? this.host.defaultSleepAfterMs;
    if (!ms || ms <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.conns.size > 0 || this.status !== "running") return;
      if (this.mailbox.size === 0) this.host.sleep(this);
      else this.touchIdle(); // busy with its own work (a compaction): try again later
    }, ms);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Runs onStop after the work already queued, closes connections, gives up the lease. */
  stop(reason = "actor stopped"): Promise<void> {
    if (this.stopping) return this.stopping;
    this.status = "stopping";
    this.stopping = (async () => {
      this.clearIdle();
      if (this.timer !== null) clearTimeout(this.timer);
      if (this.config.onStop) {
        await this.settle(this.mailbox.enqueue(() => this.execute(systemConn("inline"), (c) => this.config.onStop!(c)))).catch((error) =>
          this.log.error({ err: error }, "onStop failed"),
        );
      }
      await this.mailbox.drain();
      await this.durable.catch(() => undefined);
      this.status = "stopped";
      this.mailbox.close();
      for (const conn of [...this.conns.values()]) conn.sink?.close(reason);
      this.conns.clear();
      await this.host.driver.release(this.lease).catch(() => undefined);
      this.host.unloaded(this, earliest([...this.schedules.values()]));
    })();
    return this.stopping;
  }

  /**
   * The document changed and storage did not (a commit failed mid-way, or storage refused
   * it): this copy is no longer trustworthy. Connections are closed (their replicas resync
   * from the reloaded actor) and the next call reloads it from what is durable.
   */
  private fail(error: unknown, why: string): void {
    if (this.status === "failed") return;
    this.log.error({ err: error }, `actor failed: ${why}; it will reload from storage`);
    this.status = "failed";
    this.clearIdle();
    if (this.timer !== null) clearTimeout(this.timer);
    for (const conn of [...this.conns.values()]) conn.sink?.close("actor restarted");
    this.conns.clear();
    this.host.unloaded(this, earliest([...this.schedules.values()]));
  }
}

function earliest(entries: readonly ScheduleEntry[]): number | null {
  let min: number | null = null;
  for (const entry of entries) if (min === null || entry.at < min) min = entry.at;
  return min;
}

/**
 * A result must be data every caller and every driver keeps the same: JSON-like values and
 * Uint8Array. Anything else fails the action (and it commits nothing).
 */
function plainResult(value: unknown): unknown {
  checkPlainData(value, "result", 0);
  return typeof value === "object" && value !== null ? structuredClone(value) : value;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}


/** Applies an edit's updates in one transaction; gives what was new to the document (null: nothing). */
function applyEdit(doc: Y.Doc, updates: readonly Uint8Array[], origin: ConnImpl): Uint8Array | null {
  let applied: Uint8Array | null = null;
  const capture = (u: Uint8Array, o: unknown) => {
    if (o === origin) applied = applied === null ? u : Y.mergeUpdates([applied, u]);
  };
  doc.on("update", capture);
  try {
    Y.transact(
      doc,
      () => {
        for (const u of updates) Y.applyUpdate(doc, u, origin);
      },
      origin,
    );
  } finally {
    doc.off("update", capture);
  }
  return applied;
}

function jsonOf(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}
