/**
 * The leader tab's side of one follower's link channel: it binds the follower to the
 * leader's own subscription of that actor (shared with the leader's connections) and relays
 * both ways — the doc, the outbox and status, events, presence and acks down; actions, edits
 * and presence up. The follower's actions become the leader's (stored, given seqs, sent in
 * order); their answers go back to the follower by call id.
 */
import * as Y from "yjs";
import { type TandemError, toWireError } from "../../shared/errors.ts";
import { type ActorSubscription, entryToWire } from "../actor-subscription.ts";
import type { LinkDown, LinkSpec, LinkUp } from "./tab-messages.ts";

export interface RelayHost {
  /** The leader's subscription for this spec (shared, ref-counted), and how to let it go. */
  acquire(spec: LinkSpec): { subscription: ActorSubscription; release(): void };
  send(message: LinkDown): void;
}

export class RelayChannel {
  private readonly subscription: ActorSubscription;
  private readonly release: () => void;
  private readonly removers: (() => void)[] = [];
  /** This follower's pending calls: call id → its action id (for the ack). */
  private readonly calls = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly host: RelayHost,
    private readonly tab: string,
    spec: LinkSpec,
    stateVector: Uint8Array,
  ) {
    const { subscription, release } = host.acquire(spec);
    this.subscription = subscription;
    this.release = release;
    void subscription.roleSettled.then(() => this.start(stateVector));
  }

  private start(stateVector: Uint8Array): void {
    if (this.closed) return;
    const sub = this.subscription;
    let missing: Uint8Array;
    try {
      missing = Y.encodeStateAsUpdate(sub.replica.doc, stateVector);
    } catch {
      missing = Y.encodeStateAsUpdate(sub.replica.doc); // an unreadable state vector: send it all
    }
    const send = (message: LinkDown) => this.host.send(message);
    send({ kind: "ready", update: missing, hasState: sub.replica.hasState, leader: sub.leaderSnapshot(), presence: sub.remotePresence() });
    this.listen(sub.mirrorListeners, (update) => send({ kind: "update", update }));
    this.listen(sub.leaderViewListeners, (leader) => send({ kind: "leader", leader }));
    this.listen(sub.replacedListeners, (snapshot: Uint8Array, error: TandemError) => send({ kind: "replaced", snapshot, error: toWireError(error) }));
    this.listen(sub.anyEventListeners, (name: string, payload: unknown) => send({ kind: "event", name, payload }));
    this.listen(sub.remoteAwarenessListeners, (update) => send({ kind: "awareness", update }));
    this.listen(sub.failedListeners, (error) => send({ kind: "failed", error: toWireError(error) }));
    this.listen(sub.errorListeners, (error) => {
      if (error.code !== "storage_error") return; // the rest reaches the follower through its own paths
      send({ kind: "error", error: toWireError(error) });
    });
    this.listen(sub.settledListeners, (entry) => {
      const id = entry.callId === undefined ? undefined : this.calls.get(entry.callId);
      if (id === undefined) {
        send({ kind: "settled", entry: entryToWire(entry) });
        return;
      }
      this.calls.delete(entry.callId!);
      send(entry.status === "confirmed" ? { kind: "ack", id, ok: true, result: entry.result } : { kind: "ack", id, ok: false, error: toWireError(entry.error) });
    });
  }

  receive(message: LinkUp): void {
    if (this.closed) return;
    const sub = this.subscription;
    switch (message.kind) {
      case "action": {
        this.calls.set(message.callId, message.id);
        if (sub.hasCall(message.callId)) return; // sent again after a takeover: it is already queued here
        const { id, callId } = message;
        sub.call(message.name, message.args, callId).catch((error: unknown) => {
          // settled listeners answer confirmed and rejected actions; this is the rest (disposed, failed)
          if (this.calls.get(callId) !== id) return;
          this.calls.delete(callId);
          this.host.send({ kind: "ack", id, ok: false, error: toWireError(error) });
        });
        return;
      }
      case "edit": {
        const { id } = message;
        void sub.applyFollowerEdit(message.update).then((error) => {
          if (!this.closed) this.host.send(error === undefined ? { kind: "editDone", id } : { kind: "editDone", id, error: toWireError(error) });
        });
        return;
      }
      case "presence":
        sub.presenceOf(this.tab, message.state);
        return;
      case "reset":
        void sub.resetLocalData();
        return;
      case "subscribe":
      case "unsubscribe":
        return; // the hub handles these
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const remove of this.removers.splice(0)) remove();
    this.subscription.presenceOf(this.tab, undefined);
    this.release();
  }

  private listen<A extends unknown[]>(set: Set<(...args: A) => void>, listener: (...args: A) => void): void {
    set.add(listener);
    this.removers.push(() => set.delete(listener));
  }
}
