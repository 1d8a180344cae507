/**
 * The leader tab's switchboard for its followers: one relay channel per (tab, link
 * channel), opened by a follower's subscribe and closed by its unsubscribe, or when its
 * tab goes away.
 */
import type { ActorSubscription } from "../actor-subscription.ts";
import { RelayChannel } from "./relay-channel.ts";
import type { LinkDown, LinkSpec, LinkUp } from "./tab-messages.ts";

export interface HubHost {
  acquire(spec: LinkSpec): { subscription: ActorSubscription; release(): void };
  send(tab: string, channel: number, message: LinkDown): void;
}

export class FollowerHub {
  private readonly relays = new Map<string, RelayChannel>();

  constructor(private readonly host: HubHost) {}

  receive(tab: string, channel: number, message: LinkUp): void {
    const key = `${tab}\u0000${channel}`;
    if (message.kind === "subscribe") {
      this.relays.get(key)?.close();
      const relay = new RelayChannel(
        { acquire: (spec) => this.host.acquire(spec), send: (down) => this.host.send(tab, channel, down) },
        tab,
        message.spec,
        message.stateVector,
      );
      this.relays.set(key, relay);
      return;
    }
    const relay = this.relays.get(key);
    if (relay === undefined) return;
    if (message.kind === "unsubscribe") {
      relay.close();
      this.relays.delete(key);
      return;
    }
    relay.receive(message);
  }

  /** A follower tab is gone: its channels close (its presence leaves, its subscriptions are released). */
  tabGone(tab: string): void {
    for (const [key, relay] of this.relays) {
      if (!key.startsWith(`${tab}\u0000`)) continue;
      relay.close();
      this.relays.delete(key);
    }
  }

  dispose(): void {
    for (const relay of this.relays.values()) relay.close();
    this.relays.clear();
  }
}
