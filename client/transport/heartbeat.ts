/**
 * The client's side of the heartbeat, per socket: a link that dies silently (a proxy that
 * stops forwarding but keeps the TCP connection open) sends no close, so the client would
 * stay "synced" with actions "sent" for as long as the OS keeps the connection. After
 * `intervalMs` without a frame from the server the client sends a `ping` frame (browsers
 * cannot send WebSocket pings); a ping unanswered — nothing at all heard — for `timeoutMs`
 * means the link is dead. A socket not greeted (no welcome) within `intervalMs + timeoutMs`
 * of its creation is dead too: a handshake through such a proxy never completes.
 *
 * Pings go only to servers whose welcome says they answer them (protocol 3); with an older
 * server the watch stops at the welcome, as before heartbeats existed. Silence is measured
 * from the last unanswered ping, not the last frame: a background tab whose timers the
 * browser throttles to once a minute sends a ping late, and is not declared dead for it.
 */
export interface HeartbeatOptions {
  /** Silence from the server, in ms, after which the client pings it. Default 5,000; 0 turns the heartbeat off. */
  intervalMs?: number;
  /** How long a ping may go unanswered, in ms, before the link counts as dead. Default 5,000. */
  timeoutMs?: number;
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 5000;

export class Heartbeat {
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private lastHeard = Date.now();
  private readonly openedAt = Date.now();
  /** When the oldest unanswered ping was sent (null: none is out). */
  private pingAt: number | null = null;
  private welcomed = false;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    options: HeartbeatOptions | undefined,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {
    this.intervalMs = positive(options?.intervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS);
    this.timeoutMs = positive(options?.timeoutMs, DEFAULT_HEARTBEAT_TIMEOUT_MS);
    if (options?.intervalMs === 0) return;
    this.timer = setInterval(this.tick, Math.max(5, Math.min(this.intervalMs, this.timeoutMs) / 2));
  }

  /** A frame came from the server. */
  heard(): void {
    this.lastHeard = Date.now();
    this.pingAt = null;
  }

  /** The server greeted: from now on it is pinged if it answers pings, else no longer watched. */
  welcome(answersPings: boolean): void {
    this.heard();
    this.welcomed = true;
    if (!answersPings) this.stop();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private readonly tick = (): void => {
    try {
      const now = Date.now();
      if (!this.welcomed) {
        if (now - this.openedAt >= this.intervalMs + this.timeoutMs) this.die();
        return;
      }
      if (this.pingAt !== null) {
        if (now - this.pingAt >= this.timeoutMs) this.die();
        return;
      }
      if (now - this.lastHeard >= this.intervalMs) {
        this.pingAt = now;
        this.ping();
      }
    } catch {
      // a socket that fails to send is closing: its close event takes it from here
    }
  };

  private die(): void {
    this.stop();
    this.dead();
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}
