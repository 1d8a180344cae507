/**
 * The upstream of a follower tab: a link channel to the leader tab (client/tabs/leader-link.ts),
 * which holds the socket, the outbox and storage. It mirrors the leader's doc, outbox and
 * status, sends its actions, edits and presence there, and keeps them until the leader
 * answers each: an action's answer is the leader's reply to it (one message per outcome).
 */
import * as Y from "yjs";
import { type TandemError, errorFromWire } from "../../shared/errors.ts";
import { unexpectedCase } from "../../shared/protocol/index.ts";
import type { OutboxAction } from "../outbox.ts";
import { entryFromWire } from "../outbox-entry.ts";
import type { PendingEdit } from "../replica.ts";
import type { LoadedReplica } from "../replica-store.ts";
import type { LeaderLink, LinkChannel } from "../tabs/leader-link.ts";
import type { LeaderView, LinkDown, LinkUp } from "../tabs/tab-messages.ts";
import type { ChannelCore, MirroredAction, Upstream } from "./upstream.ts";

export class LeaderTabUpstream implements Upstream, LinkChannel {
  readonly role = "follower";
  private channel = 0;
  private caught = false;
  /** What the leader last said of its subscription (null until linked). */
  private leader: LeaderView | null = null;
  private mirrored: MirroredAction[] = [];
  /** The leader was lost (status offline until the next one answers). */
  private lost = false;

  constructor(
    private readonly core: ChannelCore,
    private readonly link: LeaderLink,
  ) {}

  get live(): boolean {
    return this.caught;
  }

  attach(): void {
    this.core.presence.routeLocal((state) => {
      if (this.caught) this.send({ kind: "presence", state });
    });
    this.channel = this.link.attach(this);
  }

  detach(quietly: boolean): void {
    if (this.channel !== 0) this.link.detach(this.channel, quietly);
    this.channel = 0;
  }

  /** The leader's unanswered edits are part of the doc it shows; it keeps them, not this tab. */
  restore(stored: LoadedReplica): void {
    for (const edit of stored.edits) this.core.replica.applyRemote(edit.update);
  }

  keepEdit(): void {}

  dropEdits(): void {}

  sendEdit(edit: PendingEdit): void {
    this.send({ kind: "edit", id: edit.id, update: edit.update });
  }

  /** The leader's outbox, with this tab's own actions in their places, then those it has not listed yet. */
  queue(own: readonly OutboxAction[]): readonly (OutboxAction | MirroredAction)[] {
    if (this.mirrored.length === 0) return own;
    const mine = new Map(own.map((action) => [action.callId, action]));
    const queue: (OutboxAction | MirroredAction)[] = [];
    for (const mirror of this.mirrored) {
      const action = mirror.entry.callId === undefined ? undefined : mine.get(mirror.entry.callId);
      if (action === undefined) queue.push(mirror);
      else {
        queue.push(action);
        mine.delete(action.callId);
      }
    }
    for (const action of own) if (mine.has(action.callId)) queue.push(action);
    return queue;
  }

  /** As synced as the leader, once the leader has answered all of this tab's actions. */
  refreshStatus(): void {
    const { machine, outbox } = this.core;
    const leader = this.leader;
    if (!this.caught || leader === null) machine.to(this.lost ? "offline" : "connecting");
    else if (leader.status !== "synced") machine.to(leader.status);
    else machine.to(outbox.size > 0 ? "syncing" : "synced");
  }

  /** The leader subscribes again with the new params (for every tab). */
  setParams(): Promise<void> {
    if (this.channel !== 0) this.online();
    return this.core.whenSynced();
  }

  /** The leader resets (for every tab) and says so; not synced until it says so again. */
  async reset(): Promise<void> {
    this.send({ kind: "reset" });
    if (this.leader !== null) this.leader = { ...this.leader, status: "syncing" };
    this.refreshStatus();
  }

  dispose(): void {
    this.detach(false);
  }

  // LinkChannel

  online(): void {
    const { replica, spec, machine } = this.core;
    if (!machine.isLive) return; // disposed, or refused for good: never subscribes again
    this.caught = false;
    this.core.outbox.close();
    const stateVector = replica.hasState ? Y.encodeStateVector(replica.confirmed) : new Uint8Array();
    this.send({ kind: "subscribe", spec: { name: spec.name, target: spec.target, params: spec.params }, stateVector });
    this.refreshStatus();
  }

  offline(): void {
    if (this.core.disposed) return;
    this.caught = false;
    this.core.outbox.close();
    this.core.presence.forgetOthers();
    this.core.progress.stopped();
    this.lost = true;
    this.refreshStatus();
  }

  fromLeader(message: LinkDown): void {
    const core = this.core;
    if (core.disposed) return;
    switch (message.kind) {
      case "ready":
        this.lost = false;
        if (message.hasState) core.replica.applyRemote(message.update);
        if (message.presence !== null) core.presence.applyFromLeader(message.presence);
        this.mirror(message.leader);
        this.caught = true;
        this.send({ kind: "presence", state: core.presence.localState });
        core.caughtUp(this.sendAction);
        return;
      case "update":
        core.replica.applyRemote(message.update);
        return;
      case "leader":
        this.mirror(message.leader);
        core.notifyChange();
        core.notifyOutbox();
        this.refreshStatus();
        return;
      case "reply": {
        const action = core.outbox.take(message.id);
        if (action !== undefined) core.outbox.settle(action, message.ok ? { ok: true, result: message.result } : { ok: false, error: errorFromWire(message.error) });
        return;
      }
      case "editDone":
        if (message.error === undefined) core.replica.accept(message.id);
        else core.rejectEdit(message.id, errorFromWire(message.error));
        core.notifyChange();
        return;
      case "replaced":
        return this.replaced(message.snapshot, errorFromWire(message.error));
      case "event":
        core.emitEvent(message.name, message.payload);
        return;
      case "awareness":
        core.presence.applyFromLeader(message.update);
        return;
      case "settled":
        core.emitter.emit("settled", entryFromWire(message.entry));
        return;
      case "failed":
        core.fail(errorFromWire(message.error));
        return;
      case "error":
        core.emitter.emit("error", errorFromWire(message.error));
        return;
      default:
        return unexpectedCase(message);
    }
  }

  private readonly sendAction = (action: OutboxAction): void => {
    if (this.channel !== 0) this.link.send(this.channel, { kind: "action", id: action.id, callId: action.callId, name: action.name, args: action.args });
  };

  private send(message: LinkUp): void {
    if (this.channel !== 0) this.link.send(this.channel, message);
  }

  private mirror(view: LeaderView): void {
    const core = this.core;
    this.leader = view;
    const wasEditable = core.canEdit;
    core.identify(view.actorId, view.connId, view.canEdit);
    if (view.canEdit === false && wasEditable !== false && core.replica.pendingEdits.length > 0) core.refuseLocal();
    this.mirrored = view.outbox.map((wire) => {
      const entry = entryFromWire(wire);
      return { name: entry.name, args: entry.args, entry };
    });
    core.optimistic.invalidate();
  }

  /** The leader's doc was replaced: this tab's unanswered edits go with it. */
  private replaced(snapshot: Uint8Array, error: TandemError): void {
    const { replica, emitter } = this.core;
    const own = replica.clear();
    replica.applyRemote(snapshot);
    emitter.emit("doc", { doc: replica.doc, discarded: { error, updates: own.map((edit) => edit.update) } });
    if (own.length > 0) emitter.emit("error", error);
    this.core.optimistic.invalidate();
    this.core.notifyChange();
  }
}
