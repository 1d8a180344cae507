/**
 * The answer to a frame over `maxFrameBytes`. Such a frame is not decoded; the first bytes
 * of its header say whom to answer: an action's caller waits for an ack, an edit's for its
 * result, anything else gets an error on its channel.
 */
import { MessageTooLarge } from "../../shared/errors.ts";
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
  const error = new MessageTooLarge(`Frames are limited to ${maxFrameBytes} bytes`).toWire();
  const header = peekHeader(bytes);
  if (header?.kind === Kind.action && header.id !== undefined) {
    return { kind: Kind.ack, channel: header.channel, id: header.id, ok: false, error, update: new Uint8Array() };
  }
  if (header?.kind === Kind.edit && header.id !== undefined) {
    return { kind: Kind.editResult, channel: header.channel, id: header.id, ok: false, error };
  }
  return { kind: Kind.error, channel: header?.channel ?? 0, error };
}
