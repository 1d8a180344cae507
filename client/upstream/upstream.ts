/**
 * Where a subscription's frames go, as a strategy chosen by the tab's role: to the server
 * (a leader or lone tab, server-upstream.ts) or to the leader tab (a follower,
 * leader-tab-upstream.ts). The subscription picks one when it loads and swaps it when its
 * tab takes over (`promote`); nothing else asks which role it plays.
 */
import type { TandemError } from "../../shared/errors.ts";
import type { SubscribeTarget } from "../../shared/protocol/index.ts";
import type { StatusMachine } from "../connection-status.ts";
import type { Emitter } from "../emitter.ts";
import type { OptimisticView, PredictedAction } from "../optimistic.ts";
import type { Outbox, OutboxAction } from "../outbox.ts";
import type { OutboxEntry } from "../outbox-entry.ts";
import type { Presence } from "../presence.ts";
import type { PendingEdit, Replica } from "../replica.ts";
import type { LoadedReplica, ReplicaStore } from "../replica-store.ts";
import type { ClientSession } from "../session.ts";
import type { SubscriptionEvents } from "../subscription-events.ts";
import type { SyncProgressTracker } from "../sync-progress.ts";
import type { LeaderLink } from "../tabs/leader-link.ts";

export interface SubscriptionSpec {
  readonly name: string;
  readonly target: SubscribeTarget;
  /** Changed by `setParams` (a token refresh); every later subscribe carries the new ones. */
  params: unknown;
  /** The state version the app expects (ClientOptions.stateVersions): a stored replica of another is dropped. */
  readonly stateVersion?: number;
}

/** What the client offers a subscription: the server (leader tab) or the leader tab (follower). */
export type UpstreamRoute = { readonly role: "leader"; readonly session: ClientSession } | { readonly role: "follower"; readonly link: LeaderLink };

/** A leader's outbox entry as a follower sees it (someone else's pending action). */
export interface MirroredAction extends PredictedAction {
  readonly entry: OutboxEntry;
}

export interface Upstream {
  readonly role: UpstreamRoute["role"];
  /** Opens the channel (the session or the link calls `online` when it can subscribe). */
  attach(): void;
  /** Leaves the channel; `quietly` when the other end is gone anyway (a takeover). */
  detach(quietly: boolean): void;
  /** What storage held, as this role reads it. */
  restore(stored: LoadedReplica): void;
  /** A local edit: kept (stored) where this role keeps edits. */
  keepEdit(edit: PendingEdit): void;
  /** Edits thrown away: forgotten where they were kept. */
  dropEdits(edits: readonly PendingEdit[]): void;
  sendEdit(edit: PendingEdit): void;
  /** Subscribed and caught up: edits go at once. */
  readonly live: boolean;
  /** The actions this tab shows as pending, given its own, oldest first. */
  queue(own: readonly OutboxAction[]): readonly (OutboxAction | MirroredAction)[];
  /** Works out the status from what this upstream knows. */
  refreshStatus(): void;
  setParams(params: unknown): Promise<void>;
  /** Local data is being reset (the outbox is already emptied): this role's part. */
  reset(error: TandemError): Promise<void>;
  /** Stops timers; the subscription is going. */
  dispose(): void;
}

/** What an upstream works on: the subscription's parts, and the steps they share. */
export interface ChannelCore {
  readonly spec: SubscriptionSpec;
  readonly tabId: string;
  readonly replica: Replica;
  readonly store: ReplicaStore;
  readonly presence: Presence;
  readonly outbox: Outbox;
  readonly machine: StatusMachine;
  readonly emitter: Emitter<SubscriptionEvents>;
  readonly optimistic: OptimisticView;
  readonly progress: SyncProgressTracker;
  readonly disposed: boolean;
  readonly canEdit: boolean | null;
  /** Who the actor says this connection is. */
  identify(actorId: string | null, connId: string | null, canEdit: boolean | null): void;
  /** Edits refused (read-only): the replica goes back. */
  /** The server's state moved to another version: unanswered edits made on the old one are discarded. */
  versionMoved(from: number, to: number): void;
  refuseLocal(): void;
  /** Applies and stores a confirmed update (with what it settles in storage). */
  confirm(update: Uint8Array, settles: { outboxSeq?: number; editKey?: string }): void;
  saveConfirmed(update: Uint8Array, settles: { outboxSeq?: number; editKey?: string }): void;
  /** An edit refused: it and every later one are discarded. */
  rejectEdit(id: number, error: TandemError): void;
  /** `doc` was replaced: its content goes to the follower tabs. */
  emitReplaced(error: TandemError): void;
  /** Subscribed and answered: unanswered edits, then the outbox, go (in order). */
  caughtUp(sendAction: (action: OutboxAction) => void): void;
  fail(error: TandemError): void;
  /** An actor event: its listeners, then the follower tabs. */
  emitEvent(name: string, payload: unknown): void;
  whenSynced(): Promise<void>;
  notifyChange(): void;
  notifyOutbox(): void;
  /** The picture follower tabs mirror changed. */
  viewChanged(): void;
}
