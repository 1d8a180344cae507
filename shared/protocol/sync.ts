/**
 * sync (both ways): a y-protocols sync message. The client sends step 1 (its state vector)
 * when it needs to catch up; the server answers step 2 (what the client lacks) and sends
 * updates as the actor commits them. The server never accepts document content through
 * sync: a client's own changes travel as `edit` frames, which are answered.
 */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from "y-protocols/sync";
import { malformedFrame } from "./errors.ts";
import { Kind } from "./kinds.ts";
import { readBytes, readUint } from "./value.ts";

export type SyncStep = "step1" | "step2" | "update";

export interface Sync {
  readonly kind: typeof Kind.sync;
  readonly channel: number;
  readonly step: SyncStep;
  /** A state vector for step 1, a Yjs update (v1) otherwise. */
  readonly data: Uint8Array;
}

const TAGS: Record<SyncStep, number> = { step1: messageYjsSyncStep1, step2: messageYjsSyncStep2, update: messageYjsUpdate };

export function encodeSync(encoder: encoding.Encoder, m: Sync): void {
  encoding.writeVarUint(encoder, TAGS[m.step]);
  encoding.writeVarUint8Array(encoder, m.data);
}

export function decodeSync(decoder: decoding.Decoder, channel: number): Sync {
  const tag = readUint(decoder);
  const step = tag === messageYjsSyncStep1 ? "step1" : tag === messageYjsSyncStep2 ? "step2" : tag === messageYjsUpdate ? "update" : null;
  if (step === null) throw malformedFrame(`unknown sync message ${tag}`);
  return { kind: Kind.sync, channel, step, data: readBytes(decoder) };
}

/** The body of a sync frame (tag and data), for frames built once and sent to many. */
export function syncBody(step: SyncStep, data: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encodeSync(encoder, { kind: Kind.sync, channel: 0, step, data });
  return encoding.toUint8Array(encoder);
}
