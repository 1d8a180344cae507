/**
 * What a channel (actor-channel.ts) hands its actor's hub: its subscriber to the update
 * fan-out and its member of the presence. Both write to the channel's socket and fail the
 * channel alone when a relay to it fails. Method shorthand, not arrows, in these objects:
 * builds that keep function names (tsx) give every arrow a name property, ~250 bytes per
 * connection each.
 */
import type { ConnImpl } from "../runtime/connection.ts";
import type { UpdateSubscriber } from "./fanout.ts";
import type { PresenceMember } from "./presence.ts";

/** What the outlets need of their channel. */
export interface OutletOwner {
  readonly channel: number;
  /** Its connection (set before the outlets are handed out). */
  readonly connection: ConnImpl | null;
  /** Work for the channel failed where no caller waits. */
  fail(error: unknown): void;
}

/** Where a channel's frames go: its socket. */
export interface OutletSocket {
  readonly clientId: string;
  sendFrame(frame: Uint8Array): void;
}

export function subscriberOf(owner: OutletOwner, socket: OutletSocket): UpdateSubscriber {
  return {
    get conn() {
      return owner.connection!;
    },
    channel: owner.channel,
    sendFrame(frame: Uint8Array) {
      socket.sendFrame(frame);
    },
    fail(error: unknown) {
      owner.fail(error);
    },
  };
}

/** A presence member whose identity the channel sets once onAuth decided it (and on re-auth). */
export type ChannelMember = PresenceMember & { identity: unknown };

export function memberOf(owner: OutletOwner, socket: OutletSocket): ChannelMember {
  return {
    channel: owner.channel,
    get clientId() {
      return socket.clientId;
    },
    identity: null as unknown,
    sendFrame(frame: Uint8Array) {
      socket.sendFrame(frame);
    },
    fail(error: unknown) {
      owner.fail(error);
    },
  };
}
