/**
 * action (up): calls an action on the channel's actor. `id` matches the ack; `seq` (≥ 1) is
 * the outbox sequence number of this client for exactly-once delivery (0: none).
 */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { malformedFrame } from "./errors.ts";
import { Kind } from "./kinds.ts";
import { readString, readUint, readValue, writeValue } from "./value.ts";

export interface Action {
  readonly kind: typeof Kind.action;
  readonly channel: number;
  readonly id: number;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly seq: number;
}

export function encodeAction(encoder: encoding.Encoder, m: Action): void {
  encoding.writeVarUint(encoder, m.id);
  encoding.writeVarString(encoder, m.name);
  writeValue(encoder, m.args);
  encoding.writeVarUint(encoder, m.seq);
}

export function decodeAction(decoder: decoding.Decoder, channel: number): Action {
  const id = readUint(decoder);
  const name = readString(decoder);
  const args = readValue(decoder);
  if (!Array.isArray(args)) throw malformedFrame("action arguments must be an array");
  return { kind: Kind.action, channel, id, name, args, seq: readUint(decoder) };
}
