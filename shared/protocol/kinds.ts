/**
 * Frame kinds: the first varuint of every frame. One number space for both directions;
 * `up.ts` and `down.ts` say which kinds each direction may carry. Never reuse a number.
 */
export const Kind = {
  hello: 0,
  welcome: 1,
  subscribe: 2,
  subscribed: 3,
  unsubscribe: 4,
  unsubscribed: 5,
  sync: 6,
  action: 7,
  ack: 8,
  edit: 9,
  editResult: 10,
  event: 11,
  awareness: 12,
  error: 13,
  /** Protocol 2, down only: several frames in one message (batch.ts). */
  batch: 14,
  /** Protocol 3, up only: the client's heartbeat (ping.ts). */
  ping: 15,
  /** Protocol 3, down only: the server's answer to a ping (pong.ts). */
  pong: 16,
  /** Protocol 4, up: new params for a channel (auth.ts). */
  auth: 17,
  /** Protocol 4, down: the answer to auth (auth-result.ts). */
  authResult: 18,
} as const;

export type Kind = (typeof Kind)[keyof typeof Kind];

/** Channel 0 is the socket itself; actor channels are numbered by the client from 1. */
export const SOCKET_CHANNEL = 0;
