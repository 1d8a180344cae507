/** hello (up, channel 0): the first frame of a socket — protocol version, client id and the leader tab's epoch. */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";
import { readString, readUint } from "./value.ts";

/** A client id has 1 to MAX_CLIENT_ID_LENGTH characters. */
export const MAX_CLIENT_ID_LENGTH = 128;

export interface Hello {
  readonly kind: typeof Kind.hello;
  readonly channel: number;
  readonly version: number;
  /** Persisted per replica store: the identity of exactly-once action seqs. */
  readonly clientId: string;
  /** The leader tab's term (multi-tab fencing); 0 or absent without tabs (older clients send none). */
  readonly epoch?: number;
}

export function encodeHello(encoder: encoding.Encoder, m: Hello): void {
  encoding.writeVarUint(encoder, m.version);
  encoding.writeVarString(encoder, m.clientId);
  encoding.writeVarUint(encoder, m.epoch ?? 0);
}

export function decodeHello(decoder: decoding.Decoder, channel: number): Hello {
  return { kind: Kind.hello, channel, version: readUint(decoder), clientId: readString(decoder), epoch: decoder.pos < decoder.arr.length ? readUint(decoder) : 0 };
}
