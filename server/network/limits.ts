import { DEFAULT_EXACTLY_ONCE_LIMITS, type ExactlyOnceLimits } from "../runtime/exactly-once.ts";

/**
 * Limits on what one socket may ask of the server, with sane defaults. Each is an option of
 * createServer (`limits: {...}`); going over one gets a clear error and changes nothing.
 * The exactly-once bounds (ExactlyOnceLimits: maxResultBytes, maxBytesPerOwner,
 * maxOwnersPerActor, maxBytesPerActor, ownerIdleMs, maxSeqJump) are documented in
 * server/runtime/exactly-once.ts.
 */
export interface Limits extends ExactlyOnceLimits {
  /** Largest frame or HTTP body accepted, in bytes. */
  maxFrameBytes: number;
  /** Actor channels open at once on one socket. */
  maxChannelsPerSocket: number;
  /** Actions sent on one channel and not yet answered. */
  maxPendingActionsPerChannel: number;
  /** Frames per second per socket (a token bucket: this rate, bursts of twice it). Over it the socket is read more slowly. */
  framesPerSecond: number;
  /** Bytes queued for a slow socket before it is closed. */
  maxBufferedBytes: number;
  /** How often the server pings a socket (a WebSocket ping), in ms; 0 turns the heartbeat off. */
  heartbeatMs: number;
  /** A socket silent this long (no pong, no frame), in ms, is terminated (heartbeat.ts). */
  deadAfterMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  ...DEFAULT_EXACTLY_ONCE_LIMITS,
  maxFrameBytes: 1024 * 1024,
  maxChannelsPerSocket: 256,
  maxPendingActionsPerChannel: 1024,
  framesPerSecond: 10_000,
  maxBufferedBytes: 32 * 1024 * 1024,
  heartbeatMs: 10_000,
  deadAfterMs: 30_000,
};

/** A token bucket: `take()` gives 0 when a token was taken, else the ms until one is there. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst = perSecond * 2,
  ) {
    this.tokens = burst;
  }

  take(): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return ((1 - this.tokens) / this.perSecond) * 1000;
    this.tokens -= 1;
    return 0;
  }
}
