/**
 * The server's side of the heartbeat: every `heartbeatMs` it sends a socket a WebSocket
 * ping (browsers and `ws` answer with a pong on their own), and a socket from which nothing
 * came — no pong, no frame — for `deadAfterMs` is terminated. A link that died silently (a
 * proxy that stops forwarding but keeps the TCP connection open, a laptop that slept) would
 * otherwise hold its socket, channels and queued frames for ever. Terminated, not closed: a
 * close handshake would wait for a peer that is gone.
 *
 * One timer per interval for all sockets (a ticker), not one per socket: an idle socket
 * holds only its Heartbeat and one pong listener.
 */
import type { WebSocket } from "ws";

export interface HeartbeatLimits {
  /** How often the server pings an idle socket, in ms; 0 turns the heartbeat off. */
  readonly heartbeatMs: number;
  /** Silence after which a socket is terminated, in ms (not a positive number: three heartbeats). */
  readonly deadAfterMs: number;
}

/** What a heartbeat watches: its socket, and whether silence now counts (see `reading` below). */
export interface HeartbeatOwner {
  /**
   * Whether the server reads the socket now: while it holds reading for its own limits
   * (rate limit, a full channel), pongs wait unread, and that silence is the server's own.
   */
  silenceCounts(): boolean;
  /** The socket was terminated for silence. */
  heartbeatDead(): void;
}

const tickers = new Map<number, Set<Heartbeat>>();
const timers = new Map<number, NodeJS.Timeout>();

export class Heartbeat {
  private lastHeard = Date.now();
  private readonly deadAfterMs: number;
  private readonly every: number;
  private readonly onPong: () => void;

  constructor(
    private readonly socket: WebSocket,
    limits: HeartbeatLimits,
    private readonly owner: HeartbeatOwner,
  ) {
    this.deadAfterMs = limits.deadAfterMs > 0 ? limits.deadAfterMs : 3 * limits.heartbeatMs;
    this.every = limits.heartbeatMs > 0 ? Math.min(limits.heartbeatMs, this.deadAfterMs) : 0;
    this.onPong = () => this.heard();
    if (this.every === 0) return;
    socket.on("pong", this.onPong);
    join(this);
  }

  /** Something came from the peer (a frame, a pong). */
  heard(): void {
    this.lastHeard = Date.now();
  }

  stop(): void {
    if (this.every === 0) return;
    this.socket.off("pong", this.onPong);
    leave(this);
  }

  /** One beat of the ticker: terminate a socket silent too long, else ping it. */
  beat(now: number): void {
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (!this.owner.silenceCounts()) {
      this.lastHeard = now;
      return;
    }
    if (now - this.lastHeard >= this.deadAfterMs) {
      this.stop();
      socket.terminate();
      this.owner.heartbeatDead();
      return;
    }
    socket.ping();
  }

  /** @internal The ticker's interval. */
  get interval(): number {
    return this.every;
  }
}

function join(heartbeat: Heartbeat): void {
  const every = heartbeat.interval;
  let set = tickers.get(every);
  if (set === undefined) {
    tickers.set(every, (set = new Set()));
    const ticker = set;
    const timer = setInterval(() => {
      const now = Date.now();
      for (const watched of [...ticker]) {
        try {
          watched.beat(now);
        } catch {
          // a socket that fails here is closing already: its close event ends the session
        }
      }
    }, every);
    timer.unref();
    timers.set(every, timer);
  }
  set.add(heartbeat);
}

function leave(heartbeat: Heartbeat): void {
  const every = heartbeat.interval;
  const set = tickers.get(every);
  if (set === undefined || !set.delete(heartbeat) || set.size > 0) return;
  tickers.delete(every);
  clearInterval(timers.get(every));
  timers.delete(every);
}
