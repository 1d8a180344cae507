/**
 * A y-websocket peer has no error message: what a Tandem client gets as an error frame, it
 * gets as the socket's close code and reason. Codes mirror HTTP (4xxx). A stock provider
 * (v3) treats 4400–4499 as final (it stops reconnecting and emits `closed` with the code and
 * reason) and anything else as transient (it reconnects with backoff): an actor stopping
 * or an internal error is 4500, to be retried; a refusal is final.
 */
import { ErrorCodes, type WireError } from "../../../shared/errors.ts";
import { CloseCode } from "../../../shared/protocol/index.ts";

const CODES: Readonly<Record<string, number>> = {
  [ErrorCodes.unauthorized]: CloseCode.unauthorized,
  [ErrorCodes.forbidden]: CloseCode.forbidden,
  [ErrorCodes.actorNotFound]: CloseCode.notFound,
  [ErrorCodes.messageTooLarge]: CloseCode.messageTooLarge,
  [ErrorCodes.rateLimited]: CloseCode.rateLimited,
  [ErrorCodes.actorStopped]: CloseCode.internalError,
  [ErrorCodes.internalError]: CloseCode.internalError,
};

/** WebSocket close reasons are at most 123 bytes of UTF-8. */
const MAX_REASON_BYTES = 123;

/** The close code for an error (4400 for any refusal without a code of its own). */
export function closeCodeFor(error: WireError): number {
  return CODES[error.code] ?? CloseCode.protocolError;
}

/** `code: message`, cut to fit a close frame. */
export function closeReasonFor(error: WireError): string {
  let reason = `${error.code}: ${error.message}`;
  while (Buffer.byteLength(reason) > MAX_REASON_BYTES) reason = reason.slice(0, Math.max(0, reason.length - Math.max(1, Buffer.byteLength(reason) - MAX_REASON_BYTES)));
  return reason;
}
