/** An error as it travels inside frames: code, message, group, metadata. */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { ERROR_GROUPS, type ErrorGroup, type WireError } from "../errors.ts";
import { malformedFrame } from "./errors.ts";
import { readString, readValue, writeValue } from "./value.ts";


export function writeWireError(encoder: encoding.Encoder, error: WireError): void {
  encoding.writeVarString(encoder, error.code);
  encoding.writeVarString(encoder, error.message);
  encoding.writeVarString(encoder, error.group);
  writeValue(encoder, error.metadata);
}

export function readWireError(decoder: decoding.Decoder): WireError {
  const code = readString(decoder);
  const message = readString(decoder);
  const group = readString(decoder) as ErrorGroup;
  if (!ERROR_GROUPS.includes(group)) throw malformedFrame(`unknown error group "${group}"`);
  const metadata = readValue(decoder);
  return metadata === undefined ? { code, message, group } : { code, message, group, metadata };
}
