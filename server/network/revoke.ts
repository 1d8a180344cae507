/**
 * `server.revoke(filter)`: withdraws live access from the server's side (a banned user, a
 * logout elsewhere, a changed ACL). Every open channel the filter matches is closed with an
 * `unauthorized` error (`unsubscribed`, no retry): its connection leaves the actor
 * (onDisconnect runs) and the client's connection fails with that error.
 */
import { InvalidArguments, Unauthorized } from "../../shared/errors.ts";
import { type ActorKey, normalizeKey } from "../../shared/key.ts";
import type { SocketSession } from "./socket-session.ts";

/** @public Which live connections `server.revoke` closes: all the given criteria must match. */
export interface RevokeFilter {
  /** The actor kind (a name of the registry). */
  readonly actor?: string;
  /** The actor's key (with `actor`: one actor). */
  readonly key?: ActorKey;
  /** Selects by the connection's `c.conn.auth` (and params), e.g. `(auth) => auth.userId === "bob"`. */
  readonly where?: (auth: unknown, params: unknown) => boolean;
  /** The error's message. Default "Access revoked". */
  readonly message?: string;
}

export function revokeChannels(sessions: Iterable<SocketSession>, filter: RevokeFilter): number {
  if (typeof filter !== "object" || filter === null || (filter.actor === undefined && filter.key === undefined && filter.where === undefined)) {
    throw new InvalidArguments("revoke() needs at least one of actor, key or where");
  }
  const key = filter.key === undefined ? undefined : JSON.stringify(normalizeKey(filter.key));
  const error = new Unauthorized(filter.message ?? "Access revoked");
  let closed = 0;
  for (const session of [...sessions]) {
    closed += session.revoke((channel) => {
      const subject = channel.subject;
      if (subject === null) return false;
      if (filter.actor !== undefined && subject.name !== filter.actor) return false;
      if (key !== undefined && JSON.stringify(subject.key) !== key) return false;
      return filter.where === undefined || filter.where(subject.auth, subject.params) === true;
    }, error);
  }
  return closed;
}
