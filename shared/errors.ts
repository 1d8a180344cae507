/**
 * Errors, in three tiers:
 * - `WireError`: errors as data `{ code, message, metadata }`, what crosses process boundaries;
 * - named `Error` classes in-process, each with a stable `code`;
 * - `toWireError(unknown)`: the one place that decides what a caller may see.
 *
 * Anything that is not a `TandemError` is an internal error: its details are logged by the
 * server and the caller only learns `internal_error`.
 * @public
 */

/** Stable error codes (README.md "Guarantees", errors). A `UserError` carries the user's own code instead. */
export const ErrorCodes = {
  actorNotFound: "actor_not_found",
  actorAlreadyExists: "actor_already_exists",
  actionNotFound: "action_not_found",
  invalidArguments: "invalid_arguments",
  invalidState: "invalid_state",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  messageTooLarge: "message_too_large",
  rateLimited: "rate_limited",
  upgradeRequired: "upgrade_required",
  /** A newer leader tab of the same browser took over the connection (multi-tab fencing). */
  superseded: "superseded",
  internalError: "internal_error",
  userError: "user_error",
  storageCorrupt: "storage_corrupt",
  actorStopped: "actor_stopped",
  malformedFrame: "malformed_frame",
  /** A resent action was applied already, but its result is no longer kept (too large, or too old). */
  resultNotKept: "result_not_kept",
  /** A frame names a channel the socket has not opened (or has closed). */
  unknownChannel: "unknown_channel",
  /** An optimistic handler (a client's prediction) threw; the action itself still runs. */
  predictionFailed: "prediction_failed",
  /** The browser's storage failed (quota, a closed database); the replica carries on in memory. */
  storageError: "storage_error",
  /** A storage write carried a fencing token older than the actor's newest: ownership was lost. */
  staleLease: "stale_lease",
  /** The server's storage cannot be reached (a Redis connection lost, timed out, or a write's fate unknown). */
  storageUnavailable: "storage_unavailable",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Who an error is for: `user` errors are thrown by actor code on purpose. */
export type ErrorGroup = "user" | "auth" | "actor" | "client" | "internal";

/** Every error group, for checking one read from the wire or from storage. */
export const ERROR_GROUPS: readonly ErrorGroup[] = ["user", "auth", "actor", "client", "internal"];

/** An error as data: what travels over the wire and what `errorFromWire` rebuilds. */
export interface WireError {
  code: string;
  message: string;
  group: ErrorGroup;
  metadata?: unknown;
}

export interface TandemErrorOptions {
  metadata?: unknown;
  cause?: unknown;
}

/** Base of every error Tandem raises on purpose. `code` is stable; `message` is for people. */
export class TandemError extends Error {
  readonly code: string;
  readonly group: ErrorGroup;
  readonly metadata: unknown;

  constructor(code: string, message: string, group: ErrorGroup, options: TandemErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.group = group;
    this.metadata = options.metadata;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, group: this.group };
    if (this.metadata !== undefined) wire.metadata = this.metadata;
    return wire;
  }
}

/**
 * An error an action throws on purpose; it reaches the caller intact (message, code,
 * metadata). `code` defaults to `user_error`.
 * @public
 */
export class UserError extends TandemError {
  constructor(message: string, options: { code?: string; metadata?: unknown; cause?: unknown } = {}) {
    super(options.code ?? ErrorCodes.userError, message, "user", options);
  }
}

/** The caller is not authenticated (HTTP 401, close code 4401). @public */
export class Unauthorized extends TandemError {
  constructor(message = "Unauthorized", options: TandemErrorOptions = {}) {
    super(ErrorCodes.unauthorized, message, "auth", options);
  }
}

/** The caller is authenticated but may not do this (HTTP 403, close code 4403). @public */
export class Forbidden extends TandemError {
  constructor(message = "Forbidden", options: TandemErrorOptions = {}) {
    super(ErrorCodes.forbidden, message, "auth", options);
  }
}

export class ActorNotFound extends TandemError {
  constructor(message = "Actor not found", options: TandemErrorOptions = {}) {
    super(ErrorCodes.actorNotFound, message, "actor", options);
  }
}

export class ActorAlreadyExists extends TandemError {
  constructor(message = "Actor already exists", options: TandemErrorOptions = {}) {
    super(ErrorCodes.actorAlreadyExists, message, "actor", options);
  }
}

export class ActionNotFound extends TandemError {
  constructor(message = "Action not found", options: TandemErrorOptions = {}) {
    super(ErrorCodes.actionNotFound, message, "actor", options);
  }
}

export class InvalidArguments extends TandemError {
  constructor(message = "Invalid arguments", options: TandemErrorOptions = {}) {
    super(ErrorCodes.invalidArguments, message, "client", options);
  }
}

/** A resent action was applied already (it does not run again), but its recorded result is no longer kept. */
export class ResultNotKept extends TandemError {
  constructor(message = "The action was applied; its result is no longer kept", options: TandemErrorOptions = {}) {
    super(ErrorCodes.resultNotKept, message, "actor", options);
  }
}

/** A value that cannot live in actor state (a function, a Date, a `__proto__` key…). */
export class InvalidState extends TandemError {
  constructor(message: string, options: TandemErrorOptions = {}) {
    super(ErrorCodes.invalidState, message, "actor", options);
  }
}

export class MessageTooLarge extends TandemError {
  constructor(message = "Message too large", options: TandemErrorOptions = {}) {
    super(ErrorCodes.messageTooLarge, message, "client", options);
  }
}

export class RateLimited extends TandemError {
  constructor(message = "Rate limited", options: TandemErrorOptions = {}) {
    super(ErrorCodes.rateLimited, message, "client", options);
  }
}

export class UpgradeRequired extends TandemError {
  constructor(message = "Client protocol too old: upgrade required", options: TandemErrorOptions = {}) {
    super(ErrorCodes.upgradeRequired, message, "client", options);
  }
}

/** Stored data of one actor cannot be read; that actor fails, the others keep serving. */
export class StorageCorrupt extends TandemError {
  constructor(message: string, options: TandemErrorOptions = {}) {
    super(ErrorCodes.storageCorrupt, message, "internal", options);
  }
}

/** The actor is stopping or its server closed. */
export class ActorStopped extends TandemError {
  constructor(message = "Actor stopped", options: TandemErrorOptions = {}) {
    super(ErrorCodes.actorStopped, message, "actor", options);
  }
}

/** A newer leader tab of the same browser took over the connection (close code 4409). */
export class Superseded extends TandemError {
  constructor(message = "Superseded by a newer connection", options: TandemErrorOptions = {}) {
    super(ErrorCodes.superseded, message, "client", options);
  }
}

/** A frame that does not follow the protocol (shared/protocol/PROTOCOL.md). */
export class MalformedFrame extends TandemError {
  constructor(message = "Malformed frame", options: TandemErrorOptions = {}) {
    super(ErrorCodes.malformedFrame, message, "client", options);
  }
}

/** A frame names a channel the socket has not opened. */
export class UnknownChannel extends TandemError {
  constructor(message = "Unknown channel", options: TandemErrorOptions = {}) {
    super(ErrorCodes.unknownChannel, message, "client", options);
  }
}

/** A client's optimistic handler threw (reported on the connection's `error` event). */
export class PredictionFailed extends TandemError {
  constructor(message = "An optimistic handler threw", options: TandemErrorOptions = {}) {
    super(ErrorCodes.predictionFailed, message, "client", options);
  }
}

/** The browser's storage failed; the replica carries on in memory (reported on `error`). */
export class StorageError extends TandemError {
  constructor(message = "Storage failed", options: TandemErrorOptions = {}) {
    super(ErrorCodes.storageError, message, "client", options);
  }
}

/** A storage write carried a fencing token older than the actor's newest: ownership was lost. */
export class StaleLease extends TandemError {
  constructor(id: string, token: number, current: number) {
    super(ErrorCodes.staleLease, `Actor ${id}: write with fencing token ${token} refused, the current token is ${current}`, "internal");
  }
}

/** The server's storage cannot be reached, or a write's fate is unknown (the actor must load again). */
export class StorageUnavailable extends TandemError {
  constructor(message: string, options: TandemErrorOptions = {}) {
    super(ErrorCodes.storageUnavailable, message, "internal", options);
  }
}

/** What a caller sees of an error nobody meant to show it. */
export class InternalError extends TandemError {
  constructor(message = "Internal error", options: TandemErrorOptions = {}) {
    super(ErrorCodes.internalError, message, "internal", options);
  }
}

/**
 * The one decision of what a caller may learn: a `TandemError` passes as it is (except
 * storage details, which stay internal), anything else becomes `internal_error`.
 */
export function toWireError(error: unknown): WireError {
  if (error instanceof TandemError && error.group !== "internal") return error.toWire();
  return new InternalError().toWire();
}

/** True for errors whose details must be logged because the caller will not see them. */
export function isInternal(error: unknown): boolean {
  return !(error instanceof TandemError) || error.group === "internal";
}

const byCode: Record<string, new (message: string, options: TandemErrorOptions) => TandemError> = {
  [ErrorCodes.actorNotFound]: ActorNotFound,
  [ErrorCodes.actorAlreadyExists]: ActorAlreadyExists,
  [ErrorCodes.actionNotFound]: ActionNotFound,
  [ErrorCodes.invalidArguments]: InvalidArguments,
  [ErrorCodes.invalidState]: InvalidState,
  [ErrorCodes.unauthorized]: Unauthorized,
  [ErrorCodes.forbidden]: Forbidden,
  [ErrorCodes.messageTooLarge]: MessageTooLarge,
  [ErrorCodes.rateLimited]: RateLimited,
  [ErrorCodes.upgradeRequired]: UpgradeRequired,
  [ErrorCodes.actorStopped]: ActorStopped,
  [ErrorCodes.resultNotKept]: ResultNotKept,
  [ErrorCodes.superseded]: Superseded,
  [ErrorCodes.malformedFrame]: MalformedFrame,
  [ErrorCodes.unknownChannel]: UnknownChannel,
  [ErrorCodes.predictionFailed]: PredictionFailed,
  [ErrorCodes.storageError]: StorageError,
  [ErrorCodes.internalError]: InternalError,
};

/** Rebuilds the in-process error a caller throws from its wire form. */
export function errorFromWire(wire: WireError): TandemError {
  if (wire.group === "user") return new UserError(wire.message, { code: wire.code, metadata: wire.metadata });
  const Known = byCode[wire.code];
  if (Known) return new Known(wire.message, { metadata: wire.metadata });
  return new TandemError(wire.code, wire.message, wire.group, { metadata: wire.metadata });
}

/**
 * The caller-side copy of an error: what the inline client throws, so that trusted server
 * code sees exactly what a network caller would (no internals, same classes).
 */
export function toCallerError(error: unknown): TandemError {
  return errorFromWire(toWireError(error));
}

/** Longest piece of a caller's input an error message repeats (names, ids, keys). */
export const MAX_ECHO_CHARS = 120;

/**
 * `value` as an error message repeats it: cut to MAX_ECHO_CHARS, so an error never sends a
 * caller's megabyte back to it (or into the logs) — a name, an id or a key of any size.
 */
export function echo(value: unknown): string {
  const text = typeof value === "string" ? value : String(JSON.stringify(value) ?? value);
  return text.length <= MAX_ECHO_CHARS ? text : `${text.slice(0, MAX_ECHO_CHARS)}… (${text.length} characters)`;
}
