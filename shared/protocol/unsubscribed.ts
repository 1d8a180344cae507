/**
 * unsubscribed (down): the server closed an actor channel — the subscribe was refused, the
 * actor disconnected the connection, or it restarted. The error says why; `retry` says
 * whether subscribing again may work (a restart: yes; refused by auth: no).
 */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import type { WireError } from "../errors.ts";
import { Kind } from "./kinds.ts";
import { readByte } from "./value.ts";
import { readWireError, writeWireError } from "./wire-error.ts";

export interface Unsubscribed {
  readonly kind: typeof Kind.unsubscribed;
  readonly channel: number;
  readonly error: WireError;
  readonly retry: boolean;
}

export function encodeUnsubscribed(encoder: encoding.Encoder, m: Unsubscribed): void {
  writeWireError(encoder, m.error);
  encoding.writeUint8(encoder, m.retry ? 1 : 0);
}

export function decodeUnsubscribed(decoder: decoding.Decoder, channel: number): Unsubscribed {
  return { kind: Kind.unsubscribed, channel, error: readWireError(decoder), retry: readByte(decoder) === 1 };
}
