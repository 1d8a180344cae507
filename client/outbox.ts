/**
 * The outbox of one subscription: actions in call order, each stored (with its seq) before
 * it is sent, sent in order with at most MAX_IN_FLIGHT unanswered, resent with the same seq
 * after a reconnect (the server applies each exactly once), settled by the answer. After a
 * reload the stored ones are restored; after a takeover the outbox is rebuilt from storage
 * with this tab's own calls in their places.
 *
 * Where actions are kept is chosen by the role (`keepIn`): a leader tab (or a lone tab)
 * stores them; a follower tab holds them in memory (the leader stores what it forwards).
 */
import type { TandemError } from "../shared/errors.ts";
import { MAX_IN_FLIGHT } from "../shared/protocol/windows.ts";
import type { PredictedAction } from "./optimistic.ts";
import type { OutboxEntry } from "./outbox-entry.ts";
import type { OutboxRecord } from "./replica-store.ts";

export interface OutboxAction extends PredictedAction {
  readonly id: number;
  readonly callId: string;
  seq: number;
  /** Stored (or, in a follower tab, in line): it may be sent. */
  stored: boolean;
  status: "queued" | "sent";
  readonly restored: boolean;
  /** The promises waiting for its outcome (none for a restored one). */
  readonly waiters: { resolve(value: unknown): void; reject(error: unknown): void }[];
}

export type Outcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: TandemError };

/** Where a leader keeps its actions: the client's seqs, and the outbox records in storage. */
export interface ActionStore {
  readonly seqs: {
    /** The next seq: a number when one is reserved already, else a promise of it. */
    takeSeq(): number | Promise<number>;
  };
  readonly records: { addAction(record: OutboxRecord): Promise<void> };
}

export interface OutboxHost {
  /** The list changed (an action stored, sent or requeued). */
  changed(): void;
  /** An answer is about to settle an action (what shows its prediction must forget it). */
  settling(): void;
  /** An answer settled an action, and the next ones went. */
  answered(): void;
  /** Whether anyone hears settled entries (they are only built then). */
  hearsSettled(): boolean;
  settled(entry: OutboxEntry): void;
}

export class Outbox {
  private readonly actions: OutboxAction[] = [];
  private inflight = 0;
  private nextId = 1;
  private store: ActionStore | null = null;
  private sender: ((action: OutboxAction) => void) | null = null;
  private storing: Promise<void> = Promise.resolve();
  /** Stores queued and not done yet: while there are some, a new action queues too (call order). */
  private storesQueued = 0;
  /** Bumped when the outbox is rebuilt: stores queued before give way. */
  private generation = 0;
  private paused = 0;
  private resumed: Promise<void> = Promise.resolve();
  private resume: () => void = () => undefined;

  constructor(private readonly host: OutboxHost) {}

  /** Oldest first. */
  get list(): readonly OutboxAction[] {
    return this.actions;
  }

  get size(): number {
    return this.actions.length;
  }

  /** Nothing stored is waiting and nothing sent is unanswered. */
  get drained(): boolean {
    return this.inflight === 0 && !this.actions.some((action) => action.stored);
  }

  entries(): OutboxEntry[] {
    return this.actions.map((action) => entryOf(action, action.status));
  }

  /** Actions are kept in `store` from now on (null: held in memory, a follower tab's). */
  keepIn(store: ActionStore | null): void {
    this.store = store;
  }

  /** No action is stored or sent until every `resume` returned is called (loading, a takeover). */
  pause(): () => void {
    if (this.paused++ === 0) this.resumed = new Promise((resolve) => (this.resume = resolve));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.paused === 0) this.resume();
    };
  }

  /** A new action: it shows at once, is stored in call order, and sent once stored. */
  add(name: string, args: readonly unknown[], callId: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const action: OutboxAction = { id: this.nextId++, callId, name, args, seq: 0, stored: false, status: "queued", restored: false, waiters: [{ resolve, reject }] };
      this.actions.push(action);
      this.keep(action);
    });
  }

  /** Waits for the pending action with this call id (sent again by a tab after a takeover); undefined if there is none. */
  join(callId: string): Promise<unknown> | undefined {
    const action = this.actions.find((each) => each.callId === callId);
    if (action === undefined) return undefined;
    return new Promise((resolve, reject) => action.waiters.push({ resolve, reject }));
  }

  /** Stored actions of an earlier session, before any made since. */
  restore(records: readonly OutboxRecord[]): void {
    this.actions.unshift(...records.map((record) => this.restored(record)));
  }

  /**
   * Rebuilds the outbox from storage (a takeover): storage's records in seq order, with
   * this outbox's own calls in their places; its calls storage lacks go after, stored again.
   */
  rebuild(records: readonly OutboxRecord[]): void {
    const mine = new Map(this.actions.map((action) => [action.callId, action]));
    const merged = records.map((record) => {
      const action = record.callId === undefined ? undefined : mine.get(record.callId);
      if (action === undefined) return this.restored(record);
      mine.delete(action.callId);
      action.seq = record.seq;
      action.stored = true;
      action.status = "queued";
      return action;
    });
    const unstored = [...mine.values()];
    for (const action of unstored) {
      action.stored = false;
      action.status = "queued";
    }
    this.actions.splice(0, this.actions.length, ...merged, ...unstored);
    this.inflight = 0;
    this.generation++;
    for (const action of unstored) this.keep(action);
  }

  /** Caught up upstream: what was sent and not answered is resent (same seq), then the rest in order. */
  open(sender: (action: OutboxAction) => void): void {
    this.sender = sender;
    this.inflight = 0;
    for (const action of this.actions) if (action.status === "sent") action.status = "queued";
    this.pump();
  }

  /** The upstream is gone: nothing is sent until the next `open`. */
  close(): void {
    this.sender = null;
  }

  /** Removes the answered action (undefined if unknown here); `settle` it next. */
  take(id: number): OutboxAction | undefined {
    const index = this.actions.findIndex((action) => action.id === id);
    if (index < 0) return undefined;
    const [action] = this.actions.splice(index, 1);
    if (action!.status === "sent") this.inflight--;
    return action;
  }

  /** Not run (the actor was stopping): it stays, and goes again after the next subscribe. */
  requeue(id: number): void {
    const action = this.actions.find((each) => each.id === id);
    if (action === undefined) return;
    if (action.status === "sent") this.inflight--;
    action.status = "queued";
    this.host.changed();
  }

  /** A taken action's outcome: its promises, the settled listeners, then the next ones go. */
  settle(action: OutboxAction, outcome: Outcome): void {
    this.host.settling();
    for (const waiter of action.waiters.splice(0)) {
      if (outcome.ok) waiter.resolve(outcome.result);
      else waiter.reject(outcome.error);
    }
    if (this.host.hearsSettled()) {
      this.host.settled(outcome.ok ? entryOf(action, "confirmed", { result: outcome.result }) : entryOf(action, "rejected", { error: outcome.error }));
    }
    this.pump();
    this.host.answered();
  }

  /** Empties the outbox, rejecting every promise; `announce`: each is a settled (rejected) entry too. */
  rejectAll(error: unknown, announce: boolean): void {
    const removed = this.actions.splice(0);
    this.inflight = 0;
    for (const action of removed) {
      for (const waiter of action.waiters.splice(0)) waiter.reject(error);
      if (announce) this.host.settled(entryOf(action, "rejected", { error: error as TandemError }));
    }
  }

  private restored(record: OutboxRecord): OutboxAction {
    const callId = record.callId ?? `restored:${record.seq}`;
    return { id: this.nextId++, callId, name: record.name, args: record.args, seq: record.seq, stored: true, status: "queued", restored: true, waiters: [] };
  }

  /** Stored before it is sent, in call order: seqs follow the order of calls. */
  private keep(action: OutboxAction): void {
    const store = this.store;
    // The common case (storing, nothing paused or queued, a seq at hand) takes its seq and
    // starts its write now; the store's write queue keeps the call order.
    if (store !== null && this.paused === 0 && this.storesQueued === 0) {
      const seq = store.seqs.takeSeq();
      if (typeof seq === "number") {
        void this.save(action, seq, store);
        return;
      }
      this.enqueue(async () => {
        const taken = await seq;
        if (this.actions.includes(action)) await this.save(action, taken, store);
      });
      return;
    }
    if (store === null && this.paused === 0 && this.storesQueued === 0) {
      action.stored = true; // a follower's: in line at once, the leader stores it
      this.pump();
      return;
    }
    const generation = this.generation;
    const current = () => this.generation === generation && this.actions.includes(action);
    this.enqueue(async () => {
      while (this.paused > 0) await this.resumed; // never a write while loading or taking over
      if (!current()) return; // reset, disposed or rebuilt meanwhile
      const keeper = this.store;
      if (keeper === null) {
        action.stored = true; // a follower's: in line, the leader stores it
        this.pump();
        return;
      }
      const seq = await keeper.seqs.takeSeq();
      if (current()) await this.save(action, seq, keeper);
    });
  }

  private enqueue(job: () => Promise<void>): void {
    this.storesQueued++;
    this.storing = this.storing.then(job).finally(() => {
      this.storesQueued--;
    });
  }

  private save(action: OutboxAction, seq: number, store: ActionStore): Promise<void> {
    const record: OutboxRecord = { seq, name: action.name, args: action.args, createdAt: Date.now(), callId: action.callId };
    return store.records.addAction(record).then(() => {
      action.seq = seq;
      action.stored = true;
      this.pump();
      this.host.changed();
    });
  }

  /** Sends stored actions in order, at most MAX_IN_FLIGHT unanswered; stops at one not yet stored. */
  private pump(): void {
    const send = this.sender;
    if (send === null) return;
    let sent = false;
    for (const action of this.actions) {
      if (this.inflight >= MAX_IN_FLIGHT) break;
      if (!action.stored) break;
      if (action.status !== "queued") continue;
      action.status = "sent";
      this.inflight++;
      sent = true;
      send(action);
    }
    if (sent) this.host.changed();
  }
}

export function entryOf(action: OutboxAction, status: OutboxEntry["status"], outcome: { result?: unknown; error?: TandemError } = {}): OutboxEntry {
  return { seq: action.seq, name: action.name, args: action.args, status, restored: action.restored, callId: action.callId, ...outcome };
}
