/**
 * subscribe (up): opens an actor channel. Carries how to find the actor (by key with a load
 * mode, or by id), the connection params for onAuth, and the replica's state vector so the
 * server can answer with sync step 2 at once (one round trip to synced).
 */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { malformedFrame } from "./errors.ts";
import { Kind } from "./kinds.ts";
import { readByte, readBytes, readLength, readString, readValue, writeValue } from "./value.ts";

export type SubscribeTarget =
  | { readonly by: "key"; readonly mode: "get" | "getOrCreate" | "create"; readonly key: readonly string[]; readonly input?: unknown }
  | { readonly by: "id"; readonly id: string };

export interface Subscribe {
  readonly kind: typeof Kind.subscribe;
  readonly channel: number;
  readonly name: string;
  readonly target: SubscribeTarget;
  readonly params: unknown;
  /** The replica's state vector (empty: it has nothing yet). */
  readonly stateVector: Uint8Array;
}

const MODES = ["get", "getOrCreate", "create"] as const;
const BY_ID = 3;

export function encodeSubscribe(encoder: encoding.Encoder, m: Subscribe): void {
  encoding.writeVarString(encoder, m.name);
  if (m.target.by === "id") {
    encoding.writeUint8(encoder, BY_ID);
    encoding.writeVarString(encoder, m.target.id);
  } else {
    encoding.writeUint8(encoder, MODES.indexOf(m.target.mode));
    encoding.writeVarUint(encoder, m.target.key.length);
    for (const part of m.target.key) encoding.writeVarString(encoder, part);
    writeValue(encoder, m.target.input);
  }
  writeValue(encoder, m.params);
  encoding.writeVarUint8Array(encoder, m.stateVector);
}

export function decodeSubscribe(decoder: decoding.Decoder, channel: number): Subscribe {
  const name = readString(decoder);
  const mode = readByte(decoder);
  let target: SubscribeTarget;
  if (mode === BY_ID) {
    target = { by: "id", id: readString(decoder) };
  } else {
    const modeName = MODES[mode];
    if (modeName === undefined) throw malformedFrame(`unknown subscribe mode ${mode}`);
    const key: string[] = [];
    for (let i = readLength(decoder); i > 0; i--) key.push(readString(decoder));
    target = { by: "key", mode: modeName, key, input: readValue(decoder) };
  }
  return { kind: Kind.subscribe, channel, name, target, params: readValue(decoder), stateVector: readBytes(decoder) };
}
