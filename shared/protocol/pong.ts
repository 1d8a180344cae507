/** pong (down, channel 0): the server's answer to a client's ping (protocol 3). No payload. */
import type * as decoding from "lib0/decoding";
import type * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";

export interface Pong {
  readonly kind: typeof Kind.pong;
  readonly channel: number;
}

export function encodePong(_encoder: encoding.Encoder, _m: Pong): void {}

export function decodePong(_decoder: decoding.Decoder, channel: number): Pong {
  return { kind: Kind.pong, channel };
}
