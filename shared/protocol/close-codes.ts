/** WebSocket close codes the server uses (4xxx: application codes, mirroring HTTP). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  /** A newer leader tab of the same browser took over (multi-tab fencing). */
  superseded: 4409,
  messageTooLarge: 4413,
  upgradeRequired: 4426,
  rateLimited: 4429,
  internalError: 4500,
} as const;
