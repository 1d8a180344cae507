/** subscribed (down): the actor accepted the channel (onAuth, onBeforeConnect passed). */
import type * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Kind } from "./kinds.ts";
import { readByte, readString } from "./value.ts";

export interface Subscribed {
  readonly kind: typeof Kind.subscribed;
  readonly channel: number;
  readonly actorId: string;
  /** Whether this connection may edit the replica directly (`canEdit`). */
  readonly canEdit: boolean;
  /** The server's id for this connection (`c.conn.id`). */
  readonly connId: string;
}

export function encodeSubscribed(encoder: encoding.Encoder, m: Subscribed): void {
  encoding.writeVarString(encoder, m.actorId);
  encoding.writeUint8(encoder, m.canEdit ? 1 : 0);
  encoding.writeVarString(encoder, m.connId);
}

export function decodeSubscribed(decoder: decoding.Decoder, channel: number): Subscribed {
  return { kind: Kind.subscribed, channel, actorId: readString(decoder), canEdit: readByte(decoder) === 1, connId: readString(decoder) };
}
