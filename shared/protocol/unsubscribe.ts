/** unsubscribe (up): the client closes an actor channel. No payload. */
import type * as decoding from "lib0/decoding";
import type * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";

export interface Unsubscribe {
  readonly kind: typeof Kind.unsubscribe;
  readonly channel: number;
}

export function encodeUnsubscribe(_encoder: encoding.Encoder, _m: Unsubscribe): void {}

export function decodeUnsubscribe(_decoder: decoding.Decoder, channel: number): Unsubscribe {
  return { kind: Kind.unsubscribe, channel };
}
