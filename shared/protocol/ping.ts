/**
 * ping (up, channel 0): the client's heartbeat, protocol 3. Browsers cannot send WebSocket
 * ping frames, so a client that wants to know its link is alive asks in a frame of its own;
 * the server answers every ping with a pong. No payload.
 */
import type * as decoding from "lib0/decoding";
import type * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";

export interface Ping {
  readonly kind: typeof Kind.ping;
  readonly channel: number;
}

export function encodePing(_encoder: encoding.Encoder, _m: Ping): void {}

export function decodePing(_decoder: decoding.Decoder, channel: number): Ping {
  return { kind: Kind.ping, channel };
}
