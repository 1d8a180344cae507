/**
 * error (down): a frame or request the server refused (malformed, too large, rate limited,
 * unknown channel…). Channel 0 for the socket, else the channel concerned. Nothing changed.
 */
import type * as decoding from "lib0/decoding";
import type * as encoding from "lib0/encoding";
import type { WireError } from "../errors.ts";
import { Kind } from "./kinds.ts";
import { readWireError, writeWireError } from "./wire-error.ts";

export interface ErrorFrame {
  readonly kind: typeof Kind.error;
  readonly channel: number;
  readonly error: WireError;
}

export function encodeErrorFrame(encoder: encoding.Encoder, m: ErrorFrame): void {
  writeWireError(encoder, m.error);
}

export function decodeErrorFrame(decoder: decoding.Decoder, channel: number): ErrorFrame {
  return { kind: Kind.error, channel, error: readWireError(decoder) };
}
