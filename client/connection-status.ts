/**
 * The status of a subscription as one explicit state machine (`conn.status`, README.md "Over the network").
 *
 *   connecting  no upstream has answered yet (a follower tab waiting for its leader)
 *   syncing     subscribed, catching up or with actions/edits not yet answered
 *   synced      caught up, nothing of ours unanswered
 *   offline     the link is down (the socket, or the leader tab is gone)
 *   failed      refused for good (auth, not found…): shown as "offline"; terminal
 *   disposed    the last connection let go; terminal
 *
 * Moves outside `TRANSITIONS` are ignored (a late frame after a failure changes nothing).
 * `whenSynced()` waiters live here: resolved on synced, rejected on failed or disposed.
 */
import type { TandemError } from "../shared/errors.ts";

export type ConnectionStatus = "offline" | "connecting" | "syncing" | "synced";

export type SubscriptionState = ConnectionStatus | "failed" | "disposed";

const LIVE: readonly SubscriptionState[] = ["connecting", "syncing", "synced", "offline", "failed", "disposed"];

/** From each state, where it may go. */
export const TRANSITIONS: Readonly<Record<SubscriptionState, readonly SubscriptionState[]>> = {
  connecting: LIVE,
  syncing: LIVE,
  synced: LIVE,
  offline: LIVE,
  failed: ["disposed"],
  disposed: [],
};

export class StatusMachine {
  private current: SubscriptionState = "connecting";
  private failure: TandemError | null = null;
  private readonly waiters: { resolve(): void; reject(error: unknown): void }[] = [];

  /** `changed` hears every change of the public status. */
  constructor(
    private readonly changed: (status: ConnectionStatus) => void,
    private readonly disposedError: () => TandemError,
  ) {}

  get state(): SubscriptionState {
    return this.current;
  }

  /** What connections show. */
  get status(): ConnectionStatus {
    const state = this.current;
    return state === "failed" || state === "disposed" ? "offline" : state;
  }

  /** Why the subscription failed (null unless it did). */
  get error(): TandemError | null {
    return this.failure;
  }

  get isLive(): boolean {
    return this.current !== "failed" && this.current !== "disposed";
  }

  /** Moves to `next` if allowed; false when the move is not allowed (or no move). */
  to(next: ConnectionStatus): boolean {
    return this.move(next);
  }

  fail(error: TandemError): boolean {
    if (!TRANSITIONS[this.current].includes("failed")) return false;
    this.failure = error;
    return this.move("failed");
  }

  dispose(): void {
    this.move("disposed");
  }

  whenSynced(): Promise<void> {
    if (this.current === "synced") return Promise.resolve();
    if (this.current === "failed") return Promise.reject(this.failure);
    if (this.current === "disposed") return Promise.reject(this.disposedError());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private move(next: SubscriptionState): boolean {
    if (next === this.current || !TRANSITIONS[this.current].includes(next)) return false;
    const shown = this.status;
    this.current = next;
    if (next === "synced") for (const waiter of this.waiters.splice(0)) waiter.resolve();
    else if (next === "failed") for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
    else if (next === "disposed") for (const waiter of this.waiters.splice(0)) waiter.reject(this.disposedError());
    if (this.status !== shown && next !== "disposed") this.changed(this.status);
    return true;
  }
}
