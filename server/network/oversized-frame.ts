/**
 * The answer to a frame that is refused before it is decoded — over `maxFrameBytes`, or
 * one that does not decode (a value nested past the limit, garbage after a valid header).
 * The first bytes of its header say whom to answer: an action's caller waits for an ack, an
 * edit's for its result, a token refresh for its authResult, a subscribe for `unsubscribed`;
 * anything else gets an error on its channel. Without this, a caller whose frame was refused
 * would wait for ever (and a client's outbox would resend the frame after every reconnect).
 */
import { MessageTooLarge, type WireError } from "../../shared/errors.ts";
import { type DownMessage, Kind } from "../../shared/protocol/index.ts";

/** kind, channel and (for actions and edits) the id, from the first bytes of a frame. */
function peekHeader(bytes: Uint8Array): { kind: number; channel: number; id?: number } | null {
  let pos = 0;
  const uint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35 && pos < bytes.length; shift += 7) {
      const byte = bytes[pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  };
  const kind = uint();
  const channel = uint();
  if (kind === undefined || channel === undefined) return null;
  return { kind, channel, id: uint() };
}

export function oversizedAnswer(bytes: Uint8Array, maxFrameBytes: number): DownMessage {
  return refusedFrameAnswer(bytes, new MessageTooLarge(`Frames are limited to ${maxFrameBytes} bytes`).toWire());
}

/** Client → server kinds that travel on an actor channel. */
const CHANNEL_KINDS: ReadonlySet<number> = new Set([Kind.subscribe, Kind.unsubscribe, Kind.sync, Kind.action, Kind.edit, Kind.awareness, Kind.auth]);

/** Whom to tell that the frame `bytes` was refused with `error`, and how. */
export function refusedFrameAnswer(bytes: Uint8Array, error: WireError): DownMessage {
  const header = peekHeader(bytes);
  // Only a frame a client may send names a channel worth answering on; garbage is the socket's.
  if (header === null || header.channel === 0 || !CHANNEL_KINDS.has(header.kind)) return { kind: Kind.error, channel: 0, error };
  if (header.kind === Kind.action && header.id !== undefined) {
    return { kind: Kind.ack, channel: header.channel, id: header.id, ok: false, error, update: new Uint8Array() };
  }
  if (header.kind === Kind.edit && header.id !== undefined) {
    return { kind: Kind.editResult, channel: header.channel, id: header.id, ok: false, error };
  }
  if (header.kind === Kind.auth && header.id !== undefined) {
    return { kind: Kind.authResult, channel: header.channel, id: header.id, ok: false, error };
  }
  if (header.kind === Kind.subscribe) return { kind: Kind.unsubscribed, channel: header.channel, error, retry: false };
  return { kind: Kind.error, channel: header.channel, error };
}
