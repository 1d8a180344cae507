/** Decoding failures: a frame that does not follow PROTOCOL.md (the class is in shared/errors.ts). */
import { MalformedFrame } from "../errors.ts";

export { MalformedFrame };

/** The error of a decoder that met bytes PROTOCOL.md does not allow: "Malformed frame: …". */
export function malformedFrame(message: string): MalformedFrame {
  return new MalformedFrame(`Malformed frame: ${message}`);
}

export function unexpectedCase(value: never): never {
  throw malformedFrame(`unexpected ${JSON.stringify(value)}`);
}
