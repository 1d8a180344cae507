/**
 * The leader tab's side of one follower's link channel: it binds the follower to the
 * leader's own subscription of that actor (shared with the leader's connections) and relays
 * both ways — the doc, the outbox and status, events and presence down; actions, edits and
 * presence up. A follower's action becomes the leader's (stored, given a seq, sent in
 * order) and is answered by one reply to its request.
 */
import * as Y from "yjs";
import { ErrorCodes, Forbidden, MalformedFrame, TandemError, toWireError } from "../../shared/errors.ts";
import type { ActorSubscription } from "../actor-subscription.ts";
import { entryToWire } from "../outbox-entry.ts";
import type { LeaderView, LinkDown, LinkSpec, LinkUp } from "./tab-messages.ts";

export interface RelayHost {
  /** The leader's subscription for this spec (shared, ref-counted), and how to let it go. */
  acquire(spec: LinkSpec): { subscription: ActorSubscription; release(): void };
  send(message: LinkDown): void;
}

/** Origin of edits a follower tab made, applied to the leader's doc (they are local edits here). */
const FOLLOWER_EDIT = Symbol("tandem.follower-edit");

export class RelayChannel {
  private readonly subscription: ActorSubscription;
  private readonly release: () => void;
  private readonly removers: (() => void)[] = [];
  /** This follower's calls being answered (their settled entries go as replies, not as "settled"). */
  private readonly answering = new Set<string>();
  private viewTimer: ReturnType<typeof setTimeout> | null = null;
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
    send({ kind: "ready", update: missing, hasState: sub.replica.hasState, leader: leaderView(sub), presence: sub.presence.others() });
    const on = sub.emitter;
    this.removers.push(
      on.on("mirror", (update) => send({ kind: "update", update })),
      on.on("view", () => this.viewChanged()),
      on.on("replaced", (snapshot, error) => send({ kind: "replaced", snapshot, error: toWireError(error) })),
      on.on("anyEvent", (name, payload) => send({ kind: "event", name, payload })),
      on.on("remoteAwareness", (update) => send({ kind: "awareness", update })),
      on.on("failed", (error) => send({ kind: "failed", error: toWireError(error) })),
      on.on("error", (error) => {
        if (error.code === ErrorCodes.storageError) send({ kind: "error", error: toWireError(error) }); // the rest reaches the follower through its own paths
      }),
      on.on("settled", (entry) => {
        if (entry.callId === undefined || !this.answering.has(entry.callId)) send({ kind: "settled", entry: entryToWire(entry) });
      }),
    );
  }

  receive(message: LinkUp): void {
    if (this.closed) return;
    const sub = this.subscription;
    switch (message.kind) {
      case "action": {
        const { id, callId } = message;
        if (this.answering.has(callId)) return; // already being answered on this channel
        this.answering.add(callId);
        // Sent again after a takeover: it is queued here already, and its outcome is the answer.
        const answer = sub.join(callId) ?? sub.call(message.name, message.args, callId);
        answer.then(
          (result) => this.reply(callId, { kind: "reply", id, ok: true, result }),
          (error: unknown) => this.reply(callId, { kind: "reply", id, ok: false, error: toWireError(error) }),
        );
        return;
      }
      case "edit": {
        const { id } = message;
        void this.applyEdit(message.update).then((error) => {
          if (!this.closed) this.host.send(error === undefined ? { kind: "editDone", id } : { kind: "editDone", id, error: toWireError(error) });
        });
        return;
      }
      case "presence":
        sub.presence.setTab(this.tab, message.state);
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
    if (this.viewTimer !== null) clearTimeout(this.viewTimer);
    for (const remove of this.removers.splice(0)) remove();
    this.subscription.presence.setTab(this.tab, undefined);
    this.release();
  }

  private reply(callId: string, message: LinkDown): void {
    this.answering.delete(callId);
    if (!this.closed) this.host.send(message);
  }

  /** The picture the follower mirrors changed: one message per turn (an outbox of 1,000 acks is one). */
  private viewChanged(): void {
    if (this.viewTimer !== null) return;
    this.viewTimer = setTimeout(() => {
      this.viewTimer = null;
      if (!this.closed && !this.subscription.disposed) this.host.send({ kind: "leader", leader: leaderView(this.subscription) });
    }, 0);
  }

  /** A follower tab's direct edit: applied to the leader's doc as a local edit; resolves once stored (or why not). */
  private async applyEdit(update: Uint8Array): Promise<TandemError | undefined> {
    const sub = this.subscription;
    await sub.roleSettled;
    if (sub.canEdit === false) return new Forbidden("This replica is read-only: local edits were discarded");
    try {
      Y.applyUpdate(sub.replica.doc, update, FOLLOWER_EDIT);
    } catch {
      return new MalformedFrame("The edit is not a valid Yjs update");
    }
    await sub.store.flushed();
    return undefined;
  }
}

/** The picture a follower mirrors of the leader's subscription. */
function leaderView(sub: ActorSubscription): LeaderView {
  return { status: sub.status, actorId: sub.actorId, connId: sub.connId, canEdit: sub.canEdit, outbox: sub.outbox.entries().map(entryToWire) };
}
