/** welcome (down, channel 0): the server's answer to hello. */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";
import { readString, readUint } from "./value.ts";

export interface Welcome {
  readonly kind: typeof Kind.welcome;
  readonly channel: number;
  readonly version: number;
  readonly minVersion: number;
  readonly clientId: string;
  /** The server's id for this socket (for logs). */
  readonly socketId: string;
}

export function encodeWelcome(encoder: encoding.Encoder, m: Welcome): void {
  encoding.writeVarUint(encoder, m.version);
  encoding.writeVarUint(encoder, m.minVersion);
  encoding.writeVarString(encoder, m.clientId);
  encoding.writeVarString(encoder, m.socketId);
}

export function decodeWelcome(decoder: decoding.Decoder, channel: number): Welcome {
  return {
    kind: Kind.welcome,
    channel,
    version: readUint(decoder),
    minVersion: readUint(decoder),
    clientId: readString(decoder),
    socketId: readString(decoder),
  };
}
