/**
 * A channel whose actor lives on another node: what the client sends on it goes up the
 * relay link to the owner, and what the owner sends comes back down unchanged. It keeps just
 * enough to play its part in the client's socket session: which actions are still waiting
 * for their ack (the session's pending-action limit and read backpressure count them), and
 * when the channel is over (`unsubscribed` from the owner, or a lost link: the client is
 * told to subscribe again).
 */
import * as decoding from "lib0/decoding";
import type { ActorStopped } from "../../shared/errors.ts";
import { type Action, type Auth, type Edit, Kind, type Subscribe, encodeUp } from "../../shared/protocol/index.ts";
import type { LinkedChannel, RelayLink } from "./relay-link.ts";

/** What a relayed channel needs of its socket session. */
export interface RelayedChannelHost {
  sendFrame(frame: Uint8Array): void;
  send(message: { kind: typeof Kind.unsubscribed; channel: number; error: ReturnType<ActorStopped["toWire"]>; retry: boolean }): void;
  forget(channel: number, which: object): void;
  actionSettled(): void;
}

export class RelayedChannel implements LinkedChannel {
  /** Action ids sent up and not yet acked, each with what settles its promise. */
  private readonly pending = new Map<number, () => void>();
  private closed = false;

  constructor(
    private readonly host: RelayedChannelHost,
    readonly channel: number,
    private readonly link: RelayLink,
    subscribe: Subscribe,
  ) {
    link.channels.set(channel, this);
    link.send(encodeUp(subscribe));
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  step1(stateVector: Uint8Array): Promise<void> {
    this.up(encodeUp({ kind: Kind.sync, channel: this.channel, step: "step1", data: stateVector }));
    return Promise.resolve();
  }

  /** Resolves when the owner acked it (or the channel ended): the session counts it as pending until then. */
  action(message: Action): Promise<void> {
    if (this.closed) return Promise.resolve();
    const acked = new Promise<void>((resolve) => this.pending.set(message.id, resolve));
    this.up(encodeUp(message));
    return acked;
  }

  edit(message: Edit): Promise<void> {
    this.up(encodeUp(message));
    return Promise.resolve();
  }

  awareness(update: Uint8Array): Promise<void> {
    this.up(encodeUp({ kind: Kind.awareness, channel: this.channel, update }));
    return Promise.resolve();
  }

  reauth(message: Auth): Promise<void> {
    this.up(encodeUp(message));
    return Promise.resolve();
  }

  /** The client unsubscribed (its frame goes up) or its socket closed. */
  close(_reason: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.up(encodeUp({ kind: Kind.unsubscribe, channel: this.channel }));
    this.finish();
    this.link.drop(this.channel, this);
    return Promise.resolve();
  }

  // LinkedChannel

  down(kind: number, frame: Uint8Array): void {
    if (this.closed) return;
    this.host.sendFrame(frame);
    if (kind === Kind.ack) {
      const decoder = decoding.createDecoder(frame);
      decoding.readVarUint(decoder); // kind
      decoding.readVarUint(decoder); // channel
      const id = decoding.readVarUint(decoder);
      const settle = this.pending.get(id);
      if (settle !== undefined) {
        this.pending.delete(id);
        settle();
        this.host.actionSettled();
      }
    } else if (kind === Kind.unsubscribed) {
      this.finish();
      this.host.forget(this.channel, this);
      this.link.drop(this.channel, this);
    }
  }

  lost(error: ActorStopped): void {
    if (this.closed) return;
    this.finish();
    this.host.send({ kind: Kind.unsubscribed, channel: this.channel, error: error.toWire(), retry: true });
    this.host.forget(this.channel, this);
  }

  private up(frame: Uint8Array): void {
    if (!this.closed) this.link.send(frame);
  }

  /** Over: actions still waiting are settled (the client resends them with their seqs after it subscribes again). */
  private finish(): void {
    this.closed = true;
    for (const settle of this.pending.values()) settle();
    this.pending.clear();
  }
}
