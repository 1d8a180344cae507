/**
 * Frames built from a body encoded once: only the frame header (kind, channel number)
 * differs between the sockets that get the same update or event.
 */
import { encodeFrame } from "../../shared/protocol/frame.ts";

/** `[kind][channel]` + a body encoded once. */
export function frameWithBody(kind: number, channel: number, body: Uint8Array): Uint8Array {
  const header = encodeFrame(kind, channel, () => {});
  const frame = new Uint8Array(header.length + body.length);
  frame.set(header, 0);
  frame.set(body, header.length);
  return frame;
}

/**
 * The frames of one body for many channels, each built once: most sockets use the same few
 * channel numbers (a client's first actor is channel 1), and a frame is never changed once
 * sent (server frames are not masked), so sockets can share it.
 */
export function framesOf(kind: number, body: Uint8Array): (channel: number) => Uint8Array {
  const frames = new Map<number, Uint8Array>();
  return (channel) => {
    let frame = frames.get(channel);
    if (frame === undefined) {
      frame = frameWithBody(kind, channel, body);
      frames.set(channel, frame);
    }
    return frame;
  };
}
