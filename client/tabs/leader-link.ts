/**
 * A follower tab's side of the link to the leader tab: one link channel per actor
 * subscription of this tab, multiplexed over the BroadcastChannel like the server's
 * channels over the WebSocket. When the leader changes, every channel goes offline and
 * subscribes again to the new one (sending what it still holds: its unanswered actions and
 * edits).
 */
import type { TabCoordinator } from "./tab-coordinator.ts";
import type { LinkDown, LinkUp } from "./tab-messages.ts";

/** What the link needs of a follower subscription. */
export interface LinkChannel {
  /** A leader is known: subscribe to it. */
  online(): void;
  /** The leader is gone (or changed): wait for the next. */
  offline(): void;
  fromLeader(message: LinkDown): void;
}

export class LeaderLink {
  private readonly channels = new Map<number, LinkChannel>();
  private nextChannel = 1;

  constructor(private readonly coordinator: TabCoordinator) {}

  /** Whether a leader is known (messages can be sent). */
  get isUp(): boolean {
    return this.coordinator.role === "follower" && this.coordinator.leaderTab !== null;
  }

  attach(channel: LinkChannel): number {
    const id = this.nextChannel++;
    this.channels.set(id, channel);
    if (this.isUp) queueMicrotask(() => this.channels.get(id) === channel && channel.online());
    return id;
  }

  /** Leaves a channel; `quietly` when the leader is gone anyway (this tab takes over). */
  detach(id: number, quietly = false): void {
    if (!this.channels.delete(id)) return;
    if (!quietly) this.send(id, { kind: "unsubscribe" });
  }

  send(id: number, message: LinkUp): boolean {
    return this.coordinator.sendUp(id, message);
  }

  /** The coordinator saw the leader change. */
  leaderChanged(): void {
    for (const channel of [...this.channels.values()]) channel.offline();
    if (!this.isUp) return;
    for (const channel of [...this.channels.values()]) channel.online();
  }

  receive(id: number, message: LinkDown): void {
    this.channels.get(id)?.fromLeader(message);
  }
}
