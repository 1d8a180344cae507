/** Decoding failures: a frame that does not follow PROTOCOL.md. */
import { TandemError } from "../errors.ts";

export class MalformedFrame extends TandemError {
  constructor(message: string) {
    super("malformed_frame", `Malformed frame: ${message}`, "client");
  }
}

export function unexpectedCase(value: never): never {
  throw new MalformedFrame(`unexpected ${JSON.stringify(value)}`);
}
