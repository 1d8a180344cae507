/**
 * The commit pipeline of an actor: the one road every change takes — action, direct edit,
 * schedule, lifecycle hook, and the first commit of a new actor:
 *
 *   draft → one Yjs transaction → build the commit → durable gate (driver) → publish (update fan-out, then events) → result
 *
 * A task runs in the actor's mailbox against a draft. When its code throws, the draft, the
 * privateState changes, events and schedules are all dropped: nothing reaches the document,
 * storage or any peer. Tasks differ only in how their changes reach the document (`write`:
 * the draft's replay for an action or hook, the client's update for a direct edit). If the
 * commit fails after the document changed (inside its transaction, or in storage), the actor
 * is failed (its host poisons and evicts it) and the next call reloads it from what is durable.
 */
import * as Y from "yjs";
import { ActorStopped, InternalError, toWireError } from "../../shared/errors.ts";
import { Draft, toPlain } from "../../shared/state/index.ts";
import type { ActorMeta, Commit, Driver, Lease } from "../drivers/driver.ts";
import { type CallChain, NO_CHAIN } from "./call-chain.ts";
import { type ConnImpl, systemConn } from "./connection.ts";
import type { ActionSeq, ExactlyOnce, ExactlyOnceLimits, SeqWrite } from "./exactly-once.ts";
import type { Mailbox } from "./mailbox.ts";
import { checkPlainData } from "./plain-data.ts";
import { type ActorSchedules, earliest } from "./schedules.ts";
import { type ContextHost, Task, type TaskContext } from "./task.ts";
import type { ObservedActor } from "../inspector/observer.ts";

export type ActorStatus = "running" | "stopping" | "stopped" | "failed";

/** Listeners of committed updates (the network fan-out subscribes here). */
export type UpdateListener = (update: Uint8Array, origin: ConnImpl) => void;

/** What a task gave: its plain result and the update it committed (null: none). */
export interface TaskOutcome {
  readonly value: unknown;
  readonly update: Uint8Array | null;
}

/** How a task's changes reach the document; gives the update written (null: none). */
export type WriteStep = (task: Task) => Uint8Array | null;

/** A task done in memory, and the gate its answer waits at. */
type Executed = { readonly value: unknown; readonly update: Uint8Array | null; readonly durable: Promise<void> } & (
  | { readonly failed: false }
  | { readonly failed: true; readonly error: unknown }
);

/** What the pipeline works on: its actor (actor-instance.ts). */
export interface CommitHost extends ContextHost {
  readonly doc: Y.Doc;
  readonly root: Y.Map<unknown>;
  readonly lease: Lease;
  readonly status: ActorStatus;
  readonly driver: Driver;
  readonly compactAfterCommits: number;
  readonly exactlyOnceLimits: ExactlyOnceLimits;
  /** Longest an action may run, in ms (0: no limit). */
  readonly actionTimeoutMs: number;
  readonly mailbox: Mailbox;
  readonly exactlyOnce: ExactlyOnce;
  readonly schedules: ActorSchedules;
  readonly updateListeners: ReadonlySet<UpdateListener>;
  /** The inspector's observer of this actor (null: no inspector). */
  readonly observed: ObservedActor | null;
  /** Sends an event to connections of the actor now. */
  deliver(targets: readonly ConnImpl[] | "all", name: string, payload: unknown): void;
  /** The document changed and storage did not: the actor must reload. */
  fail(error: unknown, why: string): void;
  /** A task asked the actor to sleep (`c.sleep()`). */
  sleep(): void;
  touchIdle(): void;
  clearIdle(): void;
}

export class CommitPipeline {
  /** The task running now (its events are buffered until its commit is durable). */
  task: Task | null = null;
  private privateStateJson = "undefined";
  private commitsSinceSnapshot = 0;
  /** Resolves once every append asked for so far is durable (see persist). */
  private durable: Promise<void> = Promise.resolve();

  constructor(private readonly actor: CommitHost) {}

  /** What the actor was stored with. */
  load(privateState: unknown, commitsSinceSnapshot: number): void {
    this.privateStateJson = jsonOf(privateState);
    this.commitsSinceSnapshot = commitsSinceSnapshot;
  }

  /** Resolves once every commit asked for so far is durable (or failed). */
  settled(): Promise<void> {
    return this.durable.catch(() => undefined);
  }

  /**
   * The first commit of a new actor: `init` fills the draft (initial state, `onCreate`), and
   * the commit — always one, with the whole document and privateState — creates the actor
   * in storage. Anything failing fails the creation (the instance is dropped unused).
   */
  async first(meta: ActorMeta, init: (task: Task) => Promise<void>, chain: CallChain): Promise<void> {
    const actor = this.actor;
    const task = new Task(new Draft(actor.root), systemConn("inline"), actor, [...chain, meta.id]);
    this.task = task;
    try {
      await init(task);
      const update = task.draft.commit(actor);
      // The whole new document: what init wrote beside the draft (its state version) too.
      const first = this.buildCommit(task, Y.encodeStateAsUpdate(actor.doc), null, true)!;
      await actor.driver.create(meta, first, actor.lease);
      this.afterCommit(task);
      this.publish(task, update);
    } catch (error) {
      task.draft.close();
      throw error;
    } finally {
      this.task = null;
    }
  }

  /**
   * Runs `fn` as a task of the mailbox; resolves with its (plain) result and the update it
   * committed once durable. `chain`: the actors the call comes from (call-chain.ts).
   * `whileStopping`: a hook of the stop or a disconnect, which still runs once stop began.
   */
  async run(conn: ConnImpl, fn: (c: TaskContext) => unknown, seq?: ActionSeq, chain: CallChain = NO_CHAIN, write?: WriteStep, whileStopping = false, label?: string): Promise<TaskOutcome> {
    if (this.actor.status !== "running" && !whileStopping) throw new ActorStopped();
    // `label` (an action's name, or an edit's): the task is reported to the observer, if any.
    const observed = label === undefined ? null : this.actor.observed;
    const startedAt = observed === null ? 0 : performance.now();
    let done: Executed;
    try {
      done = await this.actor.mailbox.enqueue(() => this.execute(conn, fn, seq, chain, write));
      await done.durable;
    } catch (error) {
      observed?.task(label!, conn.id, startedAt, error);
      throw error;
    }
    observed?.task(label!, conn.id, startedAt, done.failed ? done.error : null);
    if (done.failed) throw done.error;
    return { value: done.value, update: done.update };
  }

  /**
   * Forgets every exactly-once record of `clientId` (the inspector's reset, see
   * server/inspector/admin.ts), after the work queued before it, durably; gives how many.
   */
  async forgetClient(clientId: string): Promise<number> {
    const done = await this.actor.mailbox.enqueue(() => {
      const removed = this.actor.exactlyOnce.forget(clientId);
      return { count: removed.length, durable: removed.length > 0 ? this.persist({ seqsRemoved: removed }) : this.durable };
    });
    await done.durable;
    return done.count;
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
  private async execute(conn: ConnImpl, fn: (c: TaskContext) => unknown, seq?: ActionSeq, chain: CallChain = NO_CHAIN, write?: WriteStep): Promise<Executed> {
    const actor = this.actor;
    if (actor.status !== "running" && actor.status !== "stopping") throw new ActorStopped();
    if (seq !== undefined) {
      // Answered from the record, once whatever it was recorded in is durable; a seq too far
      // ahead is refused and records nothing.
      try {
        const known = actor.exactlyOnce.check(seq);
        if (known !== null) return { value: known.replay(), update: null, durable: this.durable, failed: false };
      } catch (error) {
        return { failed: true, error, durable: this.durable, value: undefined, update: null };
      }
    }
    actor.clearIdle();
    const task = new Task(new Draft(actor.root), conn, actor, [...chain, actor.id]);
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
      privateStateJson = jsonOf(actor.privateState);
      // What JSON would not give back as it was (NaN, byte arrays, Dates…) is refused now
      // rather than changed silently by the next load.
      if (privateStateJson !== privateStateBefore) checkPlainData(actor.privateState, "privateState", 0, false);
    } catch (error) {
      task.draft.close();
      actor.privateState = privateStateBefore === "undefined" ? undefined : JSON.parse(privateStateBefore);
      this.task = null;
      // An outbox action that failed still uses up its seq: a resend gets the same error.
      const durable = seq !== undefined ? this.recordFailure(seq, error) : this.durable;
      actor.touchIdle();
      return { failed: true, error, durable, value: undefined, update: null };
    }
    try {
      const update = write === undefined ? task.draft.commit(actor) : write(task);
      const record = seq === undefined ? null : actor.exactlyOnce.record(seq, { ok: true, value: result });
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
      actor.fail(error, "a commit failed after the document changed");
      const failure = new InternalError("The actor could not commit its changes; it reloads from storage", { cause: error });
      return { failed: true, error: failure, durable: this.durable, value: undefined, update: null };
    } finally {
      this.task = null;
      actor.touchIdle();
    }
  }

  private recordFailure(seq: ActionSeq, error: unknown): Promise<void> {
    const write = this.actor.exactlyOnce.record(seq, { ok: false, error: toWireError(error) });
    return this.persist(write.removed.length > 0 ? { seqs: [write.put], seqsRemoved: write.removed } : { seqs: [write.put] });
  }

  private withTimeout<T>(promise: PromiseLike<T>): Promise<T> {
    const ms = this.actor.actionTimeoutMs;
    if (!ms) return Promise.resolve(promise);
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InternalError(`Action timed out after ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private buildCommit(task: Task, update: Uint8Array | null, seqRecord: SeqWrite | null, always: boolean, privateStateJson = jsonOf(this.actor.privateState)): Commit | null {
    const privateStateChanged = privateStateJson !== this.privateStateJson;
    if (!always && update === null && !privateStateChanged && !task.scheduleChanged && seqRecord === null) return null;
    const commit: { -readonly [K in keyof Commit]: Commit[K] } = {};
    if (update !== null) commit.update = update;
    if (privateStateChanged || always) commit.privateState = this.actor.privateState === undefined ? undefined : JSON.parse(privateStateJson);
    if (seqRecord !== null) commit.seqs = [seqRecord.put];
    if (seqRecord !== null && seqRecord.removed.length > 0) commit.seqsRemoved = seqRecord.removed;
    if (task.scheduleChanged) {
      commit.schedules = { put: task.schedulesPut, remove: task.schedulesRemoved };
      commit.alarm = earliest([...this.actor.schedules.after(task)]);
    }
    return commit;
  }

  /**
   * Hands a commit to the driver without waiting: the mailbox goes on with the next task
   * (whose commits the driver can then share an fsync with — group commit), while this
   * task's result, events and update wait at the returned gate. The gate covers every
   * append asked for before, so nothing is acknowledged before what it may depend on is
   * durable; one failed append fails every gate after it (and poisons the instance).
   */
  private persist(commit: Commit): Promise<void> {
    const actor = this.actor;
    const observed = actor.observed;
    const startedAt = observed === null ? 0 : performance.now();
    const append = actor.driver.append(actor.id, commit, actor.lease).then(
      () => {
        observed?.appended(startedAt, false);
        this.commitsSinceSnapshot++;
        // Results recorded for exactly-once also count: their log must not outgrow the bound on what is kept.
        if (this.commitsSinceSnapshot >= actor.compactAfterCommits || actor.exactlyOnce.loggedBytes > actor.exactlyOnceLimits.maxBytesPerActor) {
          this.commitsSinceSnapshot = 0;
          actor.exactlyOnce.loggedBytes = 0;
          void actor.mailbox
            .enqueue(() => this.compact())
            .catch((error) => actor.log.error({ err: error }, "compaction failed"))
            .finally(() => actor.touchIdle());
        }
      },
      (error: unknown) => {
        observed?.appended(startedAt, true);
        actor.fail(error, "storage refused a commit");
        throw new InternalError("The actor could not persist its changes", { cause: error });
      },
    );
    const gate = Promise.all([this.durable, append]).then(() => undefined);
    gate.catch(() => undefined); // observed by whoever waits at it
    this.durable = gate;
    return gate;
  }

  /** Right after a task committed in memory: what the next task must see. */
  private afterCommit(task: Task, privateStateJson = jsonOf(this.actor.privateState)): void {
    this.privateStateJson = privateStateJson;
    if (task.scheduleChanged) this.actor.schedules.apply(task);
  }

  /**
   * Once the task's commit is durable: what others may see (the update, then the events —
   * an event never reaches a connection before the state it announces — then sleep).
   */
  private publish(task: Task, update: Uint8Array | null): void {
    const actor = this.actor;
    if (update !== null) {
      for (const listener of actor.updateListeners) {
        try {
          listener(update, task.conn);
        } catch (error) {
          actor.log.error({ err: error }, "an update listener failed");
        }
      }
    }
    for (const event of task.events) actor.deliver(event.targets, event.name, event.payload);
    if (task.sleepRequested) actor.sleep();
  }

  private async compact(): Promise<void> {
    const actor = this.actor;
    if (actor.status !== "running") return;
    await this.durable; // the snapshot must not hold anything that is not durable yet
    const schedules = actor.schedules.list();
    await actor.driver.compact(
      actor.id,
      {
        doc: Y.encodeStateAsUpdate(actor.doc),
        privateState: actor.privateState === undefined ? undefined : JSON.parse(this.privateStateJson),
        seqs: actor.exactlyOnce.records(),
        schedules,
        alarm: earliest(schedules),
      },
      actor.lease,
    );
  }
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

function jsonOf(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}
