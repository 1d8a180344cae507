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
  /**
   * Bytes of action frames read from one socket and not yet answered (their arguments are held
   * in memory until the action runs). Over it the socket is read no further until answers go
   * out; a single action always may go.
   */
  maxPendingActionBytesPerSocket: number;
  /** Frames per second per socket (a token bucket: this rate, bursts of twice it). Over it the socket is read more slowly. */
  framesPerSecond: number;
  /**
   * Bytes queued for one slow socket (not yet taken by the kernel) before it is terminated:
   * at once, without a close handshake, so its queue is freed now, not when a close times out.
   */
  maxBufferedBytes: number;
  /** How often the server pings a socket (a WebSocket ping), in ms; 0 turns the heartbeat off. */
  heartbeatMs: number;
  /** A socket silent this long (no pong, no frame), in ms, is terminated (heartbeat.ts). */
  deadAfterMs: number;
  /**
   * Bytes queued for all sockets of the server together (send-budget.ts). Over it, sockets
   * that have not drained for 2 s are terminated, most queued first, until the total is back
   * under it; over twice it, any socket, most queued first. A crowd of readers that stopped
   * reading cannot take the server's memory. (Bytes count per socket: a frame shared by many
   * sockets counts for each.)
   */
  maxBufferedBytesTotal: number;
  /** Time a new socket has to send hello before it is closed (4400). */
  helloTimeoutMs: number;
  /**
   * Sockets open at once from one remote address (fastify's `request.ip`: the peer's
   * address, or the forwarded one when the app trusts a proxy). One more is closed with
   * 4429 (rate limited) right after the upgrade.
   */
  maxSocketsPerAddress: number;
  /**
   * Actor channels open at once from one remote address, over all its sockets (counted as
   * maxSocketsPerAddress is). One more subscribe is refused with rate_limited (no retry).
   */
  maxChannelsPerAddress: number;
  /**
   * Yjs clients one edit frame may write for (its update's client groups): refused past it
   * with invalid_arguments. A replica writes as one; many cost the server ~500× more per byte
   * than text (edit-clients.ts).
   */
  maxEditClients: number;
  /**
   * Size of the params a channel holds (subscribe and re-auth; estimated: characters of
   * strings and keys, 8 per number). Over it: message_too_large, nothing changes. Params live
   * as long as their channel, so without it each channel could pin a frame's worth.
   */
  maxParamsBytes: number;
  /** Bytes of one awareness state's JSON. */
  maxPresenceStateBytes: number;
  /** Awareness client ids one channel may hold (a browser sends one, shared by its tabs). */
  maxPresenceIdsPerChannel: number;
  /** Awareness states held per actor, of all its channels. */
  maxPresenceStatesPerActor: number;
  /** Bytes of awareness states held per actor (what each joiner is sent at once). */
  maxPresenceBytesPerActor: number;
  /**
   * With the inspector on (createServer `inspector`): entries of recent actions, edits and
   * events kept per live actor (a ring: the oldest go; ~50 bytes each, allocated when the
   * actor loads). 0 keeps none.
   */
  inspectorRecentEntries: number;
  /**
   * Bytes of an actor's state (its JSON) the inspector sends; a larger state is answered with
   * its size and no tree (`stateTooLarge`), so polling a huge actor costs no more than this.
   */
  inspectorMaxStateBytes: number;
  /** Actors, connections, presence states and exactly-once owners one inspector answer lists at most (the rest are counted, not listed). */
  inspectorMaxListed: number;
}

export const DEFAULT_LIMITS: Limits = {
  ...DEFAULT_EXACTLY_ONCE_LIMITS,
  maxFrameBytes: 1024 * 1024,
  maxChannelsPerSocket: 256,
  maxPendingActionsPerChannel: 1024,
  maxPendingActionBytesPerSocket: 16 * 1024 * 1024,
  framesPerSecond: 10_000,
  maxBufferedBytes: 32 * 1024 * 1024,
  heartbeatMs: 10_000,
  deadAfterMs: 30_000,
  maxBufferedBytesTotal: 128 * 1024 * 1024,
  helloTimeoutMs: 10_000,
  maxSocketsPerAddress: 1024,
  maxChannelsPerAddress: 16_384,
  maxEditClients: 256,
  maxParamsBytes: 64 * 1024,
  maxPresenceStateBytes: 64 * 1024,
  maxPresenceIdsPerChannel: 16,
  maxPresenceStatesPerActor: 10_000,
  maxPresenceBytesPerActor: 8 * 1024 * 1024,
  inspectorRecentEntries: 64,
  inspectorMaxStateBytes: 1024 * 1024,
  inspectorMaxListed: 1000,
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
