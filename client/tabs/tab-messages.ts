/**
 * What the tabs of one origin say to each other over their BroadcastChannel (README.md
 * "Local-first", many tabs; ARCHITECTURE.md). One tab is leader: it alone holds the WebSocket, the outbox and the
 * storage writes. The others (followers) open link channels to it — one per actor they
 * connect to — and speak a small protocol shaped like the server's:
 *
 *   follower → leader  (LinkUp)    subscribe, unsubscribe, action, edit, presence, reset
 *   leader → follower  (LinkDown)  ready, update, leader, reply, editDone, replaced, event,
 *                                  awareness, settled, failed, error
 *
 * An action is a request: the leader answers it with one reply (its id), whatever the
 * outcome — confirmed, rejected, or refused before it ran.
 *
 * Every message names the leader's epoch: a follower drops what a stale leader sends, and
 * a leader ignores what was meant for another term. Every message carries the tab protocol
 * version (`TAB_PROTOCOL_VERSION`): a tab of another deployment is not heard at all.
 */
import type { WireError } from "../../shared/errors.ts";
import type { SubscribeTarget } from "../../shared/protocol/index.ts";
import type { ConnectionStatus } from "../connection-status.ts";
import type { WireOutboxEntry } from "../outbox-entry.ts";

/** The status a connection reports (the leader's, relayed). */
export type LinkStatus = ConnectionStatus;

export type { WireOutboxEntry };

/** What a follower mirrors of the leader's subscription. */
export interface LeaderView {
  readonly status: LinkStatus;
  readonly actorId: string | null;
  readonly connId: string | null;
  readonly canEdit: boolean | null;
  /** The leader's outbox (every tab's actions not yet confirmed), oldest first. */
  readonly outbox: readonly WireOutboxEntry[];
}

export interface LinkSpec {
  readonly name: string;
  readonly target: SubscribeTarget;
  readonly params: unknown;
}

export type LinkUp =
  | { readonly kind: "subscribe"; readonly spec: LinkSpec; readonly stateVector: Uint8Array }
  | { readonly kind: "unsubscribe" }
  | { readonly kind: "action"; readonly id: number; readonly callId: string; readonly name: string; readonly args: readonly unknown[] }
  | { readonly kind: "edit"; readonly id: number; readonly update: Uint8Array }
  | { readonly kind: "presence"; readonly state: Record<string, unknown> | null }
  | { readonly kind: "reset" };

export type LinkDown =
  /** The answer to subscribe: what the follower lacks of the leader's doc, and the rest of the picture. */
  | { readonly kind: "ready"; readonly update: Uint8Array; readonly hasState: boolean; readonly leader: LeaderView; readonly presence: Uint8Array | null }
  /** A change of the leader's doc (confirmed or its pending edits, any tab's). */
  | { readonly kind: "update"; readonly update: Uint8Array }
  | { readonly kind: "leader"; readonly leader: LeaderView }
  /** The answer to one of this follower's actions (its request id): the outcome, once. */
  | { readonly kind: "reply"; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly kind: "reply"; readonly id: number; readonly ok: false; readonly error: WireError }
  /** The leader holds (stored) this follower's edit, or refused it. */
  | { readonly kind: "editDone"; readonly id: number; readonly error?: WireError }
  /** The leader's doc was replaced (a rejected edit, a read-only replica, a reset). */
  | { readonly kind: "replaced"; readonly snapshot: Uint8Array; readonly error: WireError }
  | { readonly kind: "event"; readonly name: string; readonly payload: unknown }
  /** Others' presence (never this browser's own). */
  | { readonly kind: "awareness"; readonly update: Uint8Array }
  /** Another tab's action (or one restored from storage) was confirmed or rejected (replies answer this tab's). */
  | { readonly kind: "settled"; readonly entry: WireOutboxEntry }
  /** The actor refused the connection for good. */
  | { readonly kind: "failed"; readonly error: WireError }
  | { readonly kind: "error"; readonly error: WireError };

export type TabMessage =
  /** A new tab asks who leads. */
  | { readonly t: "who"; readonly from: string }
  /** A leader announces itself (on taking over, and in answer to "who"). */
  | { readonly t: "leader"; readonly epoch: number; readonly from: string }
  | { readonly t: "up"; readonly epoch: number; readonly from: string; readonly ch: number; readonly msg: LinkUp }
  | { readonly t: "down"; readonly epoch: number; readonly to: string; readonly ch: number; readonly msg: LinkDown }
  /** A tab goes away (page hidden for good, client disposed). */
  | { readonly t: "bye"; readonly from: string };

/** What a tab needs of a BroadcastChannel (the platform's, or a test's). */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

/** What a tab needs of the Web Locks API (navigator.locks, or a test's). */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown> | unknown): Promise<unknown>;
  query?(): Promise<{ held?: { name?: string }[] }>;
}

/**
 * The tab protocol's version, on every message: tabs of another version (another
 * deployment, still open) ignore each other — a new tab waits until the old leader is gone
 * rather than misread it. 1 (unmarked): an action's outcome came as "ack"; 2: as "reply".
 */
export const TAB_PROTOCOL_VERSION = 2;

/** A tab message as posted on the channel. */
export type TabWire = TabMessage & { readonly v: typeof TAB_PROTOCOL_VERSION };

export function isTabMessage(data: unknown): data is TabWire {
  if (typeof data !== "object" || data === null) return false;
  if ((data as { v?: unknown }).v !== TAB_PROTOCOL_VERSION) return false; // another deployment's tab
  const t = (data as { t?: unknown }).t;
  return t === "who" || t === "leader" || t === "up" || t === "down" || t === "bye";
}
