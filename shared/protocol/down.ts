/** Frames a server sends. Decoded once at the socket boundary, then switched on exhaustively. */
import type * as decoding from "lib0/decoding";
import { type Ack, decodeAck, encodeAck } from "./ack.ts";
import { type AuthResult, decodeAuthResult, encodeAuthResult } from "./auth-result.ts";
import { isBatch, unbatch } from "./batch.ts";
import { type AwarenessFrame, decodeAwareness, encodeAwareness } from "./awareness.ts";
import { type EditResult, decodeEditResult, encodeEditResult } from "./edit-result.ts";
import { type ErrorFrame, decodeErrorFrame, encodeErrorFrame } from "./error-frame.ts";
import { malformedFrame, unexpectedCase } from "./errors.ts";
import { type EventFrame, decodeEvent, encodeEvent } from "./event.ts";
import { type FrameHeader, decodeFrame, encodeFrame, ownBytes } from "./frame.ts";
import { Kind } from "./kinds.ts";
import { type Pong, decodePong, encodePong } from "./pong.ts";
import { type Subscribed, decodeSubscribed, encodeSubscribed } from "./subscribed.ts";
import { type Sync, decodeSync, encodeSync } from "./sync.ts";
import { type Unsubscribed, decodeUnsubscribed, encodeUnsubscribed } from "./unsubscribed.ts";
import { type Welcome, decodeWelcome, encodeWelcome } from "./welcome.ts";

export type DownMessage = Welcome | Subscribed | Unsubscribed | Sync | Ack | EditResult | EventFrame | AwarenessFrame | ErrorFrame | Pong | AuthResult;

export function encodeDown(m: DownMessage): Uint8Array {
  switch (m.kind) {
    case Kind.welcome:
      return encodeFrame(m.kind, m.channel, (e) => encodeWelcome(e, m));
    case Kind.subscribed:
      return encodeFrame(m.kind, m.channel, (e) => encodeSubscribed(e, m));
    case Kind.unsubscribed:
      return encodeFrame(m.kind, m.channel, (e) => encodeUnsubscribed(e, m));
    case Kind.sync:
      return encodeFrame(m.kind, m.channel, (e) => encodeSync(e, m));
    case Kind.ack:
      return encodeFrame(m.kind, m.channel, (e) => encodeAck(e, m));
    case Kind.editResult:
      return encodeFrame(m.kind, m.channel, (e) => encodeEditResult(e, m));
    case Kind.event:
      return encodeFrame(m.kind, m.channel, (e) => encodeEvent(e, m));
    case Kind.awareness:
      return encodeFrame(m.kind, m.channel, (e) => encodeAwareness(e, m));
    case Kind.error:
      return encodeFrame(m.kind, m.channel, (e) => encodeErrorFrame(e, m));
    case Kind.pong:
      return encodeFrame(m.kind, m.channel, (e) => encodePong(e, m));
    case Kind.authResult:
      return encodeFrame(m.kind, m.channel, (e) => encodeAuthResult(e, m));
    default:
      return unexpectedCase(m);
  }
}

/** One frame (a batch is refused here: see decodeDownMessages). */
export function decodeDown(bytes: Uint8Array): DownMessage {
  return decodeFrame<DownMessage>(bytes, readDown);
}

/**
 * What one WebSocket message holds: one frame, or a batch of them (protocol 2), copied once
 * (when small) and decoded in order. A malformed frame anywhere refuses the whole message.
 */
export function decodeDownMessages(bytes: Uint8Array): DownMessage[] {
  if (!isBatch(bytes)) return [decodeDown(bytes)];
  return unbatch(ownBytes(bytes)).map((frame) => decodeFrame<DownMessage>(frame, readDown, true));
}

function readDown({ kind, channel }: FrameHeader, d: decoding.Decoder): DownMessage {
  switch (kind) {
    case Kind.welcome:
      return decodeWelcome(d, channel);
    case Kind.subscribed:
      return decodeSubscribed(d, channel);
    case Kind.unsubscribed:
      return decodeUnsubscribed(d, channel);
    case Kind.sync:
      return decodeSync(d, channel);
    case Kind.ack:
      return decodeAck(d, channel);
    case Kind.editResult:
      return decodeEditResult(d, channel);
    case Kind.event:
      return decodeEvent(d, channel);
    case Kind.awareness:
      return decodeAwareness(d, channel);
    case Kind.error:
      return decodeErrorFrame(d, channel);
    case Kind.pong:
      return decodePong(d, channel);
    case Kind.authResult:
      return decodeAuthResult(d, channel);
    default:
      throw malformedFrame(`kind ${kind} is not a server frame`);
  }
}
