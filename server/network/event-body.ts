/**
 * Event frames, encoded once per broadcast: the actor hands the same payload to every
 * connection in one synchronous loop, so the last encoding is reused while the name and the
 * payload are the same (`Object.is`: the same object, or an equal number, string, boolean…).
 * The cache lives until the next microtask: user code can run only then, and might change an
 * object (a payload that is not plain data is passed as is) before broadcasting it again.
 */
import * as encoding from "lib0/encoding";
import { Kind } from "../../shared/protocol/kinds.ts";
import { writeValue } from "../../shared/protocol/value.ts";
import { framesOf } from "./frames.ts";

let lastName: string | null = null;
let lastPayload: unknown = undefined;
let lastFrames: ((channel: number) => Uint8Array) | null = null;

const forget = (): void => {
  lastFrames = null;
  lastPayload = undefined;
  lastName = null;
};

/** The event frame for `channel`; the body is encoded once for every channel of a broadcast. */
export function eventFrame(channel: number, name: string, payload: unknown): Uint8Array {
  if (lastFrames !== null && name === lastName && Object.is(payload, lastPayload)) return lastFrames(channel);
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, name);
  writeValue(encoder, payload);
  if (lastFrames === null) queueMicrotask(forget);
  lastName = name;
  lastPayload = payload;
  lastFrames = framesOf(Kind.event, encoding.toUint8Array(encoder));
  return lastFrames(channel);
}
