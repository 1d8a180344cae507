/** event (down): an event the actor broadcast or sent to this connection. */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";
import { readString, readValue, writeValue } from "./value.ts";

export interface EventFrame {
  readonly kind: typeof Kind.event;
  readonly channel: number;
  readonly name: string;
  readonly payload: unknown;
}

export function encodeEvent(encoder: encoding.Encoder, m: EventFrame): void {
  encoding.writeVarString(encoder, m.name);
  writeValue(encoder, m.payload);
}

export function decodeEvent(decoder: decoding.Decoder, channel: number): EventFrame {
  return { kind: Kind.event, channel, name: readString(decoder), payload: readValue(decoder) };
}
