/** Frames a client sends. Decoded once at the socket boundary, then switched on exhaustively. */
import { type Action, decodeAction, encodeAction } from "./action.ts";
import { type Auth, decodeAuth, encodeAuth } from "./auth.ts";
import { type AwarenessFrame, decodeAwareness, encodeAwareness } from "./awareness.ts";
import { type Edit, decodeEdit, encodeEdit } from "./edit.ts";
import { malformedFrame, unexpectedCase } from "./errors.ts";
import { decodeFrame, encodeFrame } from "./frame.ts";
import { type Hello, decodeHello, encodeHello } from "./hello.ts";
import { Kind } from "./kinds.ts";
import { type Ping, decodePing, encodePing } from "./ping.ts";
import { type Subscribe, decodeSubscribe, encodeSubscribe } from "./subscribe.ts";
import { type Sync, decodeSync, encodeSync } from "./sync.ts";
import { type Unsubscribe, decodeUnsubscribe, encodeUnsubscribe } from "./unsubscribe.ts";

export type UpMessage = Hello | Subscribe | Unsubscribe | Sync | Action | Edit | AwarenessFrame | Ping | Auth;

export function encodeUp(m: UpMessage): Uint8Array {
  switch (m.kind) {
    case Kind.hello:
      return encodeFrame(m.kind, m.channel, (e) => encodeHello(e, m));
    case Kind.subscribe:
      return encodeFrame(m.kind, m.channel, (e) => encodeSubscribe(e, m));
    case Kind.unsubscribe:
      return encodeFrame(m.kind, m.channel, (e) => encodeUnsubscribe(e, m));
    case Kind.sync:
      return encodeFrame(m.kind, m.channel, (e) => encodeSync(e, m));
    case Kind.action:
      return encodeFrame(m.kind, m.channel, (e) => encodeAction(e, m));
    case Kind.edit:
      return encodeFrame(m.kind, m.channel, (e) => encodeEdit(e, m));
    case Kind.awareness:
      return encodeFrame(m.kind, m.channel, (e) => encodeAwareness(e, m));
    case Kind.ping:
      return encodeFrame(m.kind, m.channel, (e) => encodePing(e, m));
    case Kind.auth:
      return encodeFrame(m.kind, m.channel, (e) => encodeAuth(e, m));
    default:
      return unexpectedCase(m);
  }
}

export function decodeUp(bytes: Uint8Array): UpMessage {
  return decodeFrame<UpMessage>(bytes, ({ kind, channel }, d) => {
    switch (kind) {
      case Kind.hello:
        return decodeHello(d, channel);
      case Kind.subscribe:
        return decodeSubscribe(d, channel);
      case Kind.unsubscribe:
        return decodeUnsubscribe(d, channel);
      case Kind.sync:
        return decodeSync(d, channel);
      case Kind.action:
        return decodeAction(d, channel);
      case Kind.edit:
        return decodeEdit(d, channel);
      case Kind.awareness:
        return decodeAwareness(d, channel);
      case Kind.ping:
        return decodePing(d, channel);
      case Kind.auth:
        return decodeAuth(d, channel);
      default:
        throw malformedFrame(`kind ${kind} is not a client frame`);
    }
  });
}
