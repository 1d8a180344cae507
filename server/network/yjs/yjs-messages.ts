/**
 * The y-websocket protocol (what a stock `WebsocketProvider` speaks): each WebSocket message
 * is `[type varuint][body]` — sync (a y-protocols sync message: step 1, step 2 or update),
 * awareness (a varUint8Array holding a y-protocols awareness update), auth (permission
 * denied, server to client) and query-awareness (asks for every awareness state). The sync
 * and awareness bodies are byte for byte the bodies of Tandem's sync and awareness frames
 * (shared/protocol/sync.ts, awareness.ts): only the header differs.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from "y-protocols/sync";
import { TandemError } from "../../../shared/errors.ts";
import { malformedFrame } from "../../../shared/protocol/errors.ts";
import { readBytes, readUint } from "../../../shared/protocol/value.ts";

/** y-websocket's message types (y-websocket.js: messageSync, messageAwareness, messageAuth, messageQueryAwareness). */
export const YjsMessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
} as const;

/** y-protocols/auth: the one auth message, "permission denied" with a reason. */
const PERMISSION_DENIED = 0;

/** A message a provider sends. */
export type YjsPeerMessage =
  | { readonly type: "step1"; readonly stateVector: Uint8Array }
  /** Step 2 (`answer`: what the server asked for with step 1) and update both carry a Yjs update (v1): the provider's changes. */
  | { readonly type: "update"; readonly update: Uint8Array; readonly answer: boolean }
  | { readonly type: "awareness"; readonly update: Uint8Array }
  | { readonly type: "queryAwareness" };

/**
 * Decodes one provider message (the bytes it holds are copied: ws hands out slices of
 * larger buffers). Throws malformed_frame for anything else, trailing bytes included.
 */
export function readYjsMessage(bytes: Uint8Array): YjsPeerMessage {
  try {
    return readMessage(bytes);
  } catch (error) {
    // lib0's readers throw plain errors past the end of a varuint.
    throw error instanceof TandemError ? error : malformedFrame("a y-websocket message does not decode");
  }
}

function readMessage(bytes: Uint8Array): YjsPeerMessage {
  const decoder = decoding.createDecoder(bytes);
  const type = readUint(decoder);
  let message: YjsPeerMessage;
  switch (type) {
    case YjsMessageType.sync: {
      const step = readUint(decoder);
      const data = readBytes(decoder).slice();
      if (step === messageYjsSyncStep1) message = { type: "step1", stateVector: data };
      else if (step === messageYjsSyncStep2 || step === messageYjsUpdate) message = { type: "update", update: data, answer: step === messageYjsSyncStep2 };
      else throw malformedFrame(`unknown y-websocket sync message ${step}`);
      break;
    }
    case YjsMessageType.awareness:
      message = { type: "awareness", update: readBytes(decoder).slice() };
      break;
    case YjsMessageType.queryAwareness:
      message = { type: "queryAwareness" };
      break;
    default:
      throw malformedFrame(`a y-websocket client does not send messages of type ${type}`);
  }
  if (decoder.pos !== bytes.length) throw malformedFrame("trailing bytes after a y-websocket message");
  return message;
}

/** A y-websocket message: `type` then a body encoded elsewhere (a Tandem frame's body). */
export function yjsMessage(type: number, body: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  encoding.writeUint8Array(encoder, body);
  return encoding.toUint8Array(encoder);
}

/** Sync step 1: the server's state vector (the provider answers with step 2: what the server lacks). */
export function yjsStep1(stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, YjsMessageType.sync);
  encoding.writeVarUint(encoder, messageYjsSyncStep1);
  encoding.writeVarUint8Array(encoder, stateVector);
  return encoding.toUint8Array(encoder);
}

/** y-protocols/auth permission denied: the provider logs `reason` (console.warn). */
export function yjsPermissionDenied(reason: string): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, YjsMessageType.auth);
  encoding.writeVarUint(encoder, PERMISSION_DENIED);
  encoding.writeVarString(encoder, reason);
  return encoding.toUint8Array(encoder);
}
