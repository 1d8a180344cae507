/** WebSocket close codes the server uses (4xxx: application codes, mirroring HTTP). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  /** The actor does not exist (y-websocket endpoint: server/network/yjs/). */
  notFound: 4404,
  /** A newer leader tab of the same browser took over (multi-tab fencing). */
  superseded: 4409,
  messageTooLarge: 4413,
  upgradeRequired: 4426,
  rateLimited: 4429,
  internalError: 4500,
} as const;

/** Close reasons may end with a hint how long to wait before reconnecting: `…; retry-after=<ms>`. */
export function withRetryAfter(reason: string, ms: number): string {
  return `${reason}; retry-after=${ms}`;
}

/** Reads `retry-after=<ms>` from a close reason (null when it has none). */
export function retryAfterFromReason(reason: string): number | null {
  const match = /retry-after=(\d+)/.exec(reason);
  return match ? Number(match[1]) : null;
}
