/**
 * One WebSocket per client, multiplexing every actor channel. Opens on demand (the first
 * subscription), greets the server (hello, and the subscribes right after it: the server
 * answers welcome, then each subscribe, in order), re-subscribes every channel after a
 * reconnect, and reconnects with backoff and full jitter while channels remain.
 */
import { errorFromWire, type TandemError } from "../shared/errors.ts";
import { CloseCode, type DownMessage, HEARTBEAT_PROTOCOL_VERSION, Kind, PROTOCOL_VERSION, type UpMessage, decodeDownMessages, encodeUp, retryAfterFromReason } from "../shared/protocol/index.ts";
import { Backoff, type BackoffOptions } from "./transport/backoff.ts";
import { Heartbeat, type HeartbeatOptions } from "./transport/heartbeat.ts";
import { OPEN, type SocketFactory, type SocketLike, defaultSocketFactory, socketUrl } from "./transport/websocket.ts";

/** What the session needs of a channel (an actor subscription). */
export interface SessionChannel {
  /** The socket is open and greeted: send subscribe (and whatever is queued). */
  online(): void;
  /** The socket is gone: wait for the next one. */
  offline(): void;
  receive(message: DownMessage): void;
  /** The server refused the whole socket (e.g. upgrade_required). */
  fail(error: TandemError): void;
}

export interface SessionOptions {
  /** Read when the socket greets the server (the id comes from storage). */
  clientId: () => string;
  /** Read when the socket greets the server: the leader tab's term (0 without tabs). */
  epoch?: () => number;
  socketFactory?: SocketFactory;
  backoff?: BackoffOptions;
  /** How a silently dead link is noticed (transport/heartbeat.ts). */
  heartbeat?: HeartbeatOptions;
  onError?: (error: TandemError) => void;
}

/** RFC 6455's code for a connection lost without a close frame (never sent: reported locally). */
const ABNORMAL_CLOSURE = 1006;

type SocketState = "idle" | "connecting" | "open" | "closed";

/** Least wait before a socket closed as superseded tries again. */
const SUPERSEDED_RETRY_MS = 1_000;

export class ClientSession {
  private socket: SocketLike | null = null;
  private state: SocketState = "idle";
  /** hello is sent on the open socket: frames may follow it. */
  private greeted = false;
  private readonly channels = new Map<number, SessionChannel>();
  private nextChannel = 1;
  private readonly backoff: Backoff;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private fatal: TandemError | null = null;
  private readonly url: string;
  /** The current socket's heartbeat (null without a socket). */
  private heartbeat: Heartbeat | null = null;

  constructor(
    baseUrl: string,
    private readonly options: SessionOptions,
  ) {
    this.url = socketUrl(baseUrl);
    this.backoff = new Backoff(options.backoff);
    // The browser says the network is back: try now rather than at the end of the backoff.
    (globalThis as { addEventListener?: (type: string, listener: () => void) => void }).addEventListener?.("online", this.onOnline);
    // The browser says the network is gone: the socket is dead, whatever it says (a socket
    // may stay "open" for minutes over a link that is down). Reconnects follow the backoff,
    // and start at once on "online".
    (globalThis as { addEventListener?: (type: string, listener: () => void) => void }).addEventListener?.("offline", this.onOffline);
  }

  private readonly onOffline = (): void => {
    if (this.socket !== null) this.linkDead(this.socket);
  };

  private readonly onOnline = (): void => {
    if (this.state !== "idle" || this.channels.size === 0) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.backoff.reset();
    this.connect();
  };

  /** The protocol version of the server, from its welcome (0 before the first). */
  serverVersion = 0;

  get isOnline(): boolean {
    return this.greeted;
  }

  /** Adds a channel; returns its number. The socket opens if it is not open yet. */
  attach(channel: SessionChannel): number {
    const id = this.nextChannel++;
    this.channels.set(id, channel);
    if (this.fatal !== null) {
      const error = this.fatal;
      queueMicrotask(() => channel.fail(error));
    } else if (this.greeted) queueMicrotask(() => channel.online());
    else this.connect();
    return id;
  }

  detach(id: number): void {
    if (!this.channels.delete(id)) return;
    if (this.greeted) this.send({ kind: Kind.unsubscribe, channel: id });
    if (this.channels.size === 0) this.closeSocket();
  }

  send(message: UpMessage): boolean {
    if (this.socket === null || !this.greeted || this.socket.readyState !== OPEN) return false;
    this.socket.send(encodeUp(message));
    return true;
  }

  dispose(): void {
    (globalThis as { removeEventListener?: (type: string, listener: () => void) => void }).removeEventListener?.("online", this.onOnline);
    (globalThis as { removeEventListener?: (type: string, listener: () => void) => void }).removeEventListener?.("offline", this.onOffline);
    this.state = "closed";
    if (this.timer !== null) clearTimeout(this.timer);
    this.channels.clear();
    this.closeSocket();
  }

  private connect(): void {
    if (this.state !== "idle" || this.fatal !== null) return;
    this.state = "connecting";
    void defaultFactoryOr(this.options.socketFactory).then((factory) => {
      if (this.state !== "connecting") return;
      let socket: SocketLike;
      try {
        socket = factory(this.url);
      } catch {
        this.scheduleReconnect();
        return;
      }
      this.socket = socket;
      this.heartbeat = new Heartbeat(
        this.options.heartbeat,
        () => this.send({ kind: Kind.ping, channel: 0 }),
        () => this.linkDead(socket),
      );
      if (socket.binaryType !== "nodebuffer") socket.binaryType = "arraybuffer"; // ws: Buffers are Uint8Arrays already
      socket.onopen = () => {
        this.state = "open";
        this.send0({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: this.options.clientId(), epoch: this.options.epoch?.() ?? 0 });
        // Pipelined: the server handles a socket's frames in order, so the subscribes (and
        // what is queued) follow the hello at once instead of a round trip later; a refused
        // hello closes the socket before any of them is handled.
        this.greeted = true;
        for (const channel of this.channels.values()) channel.online();
      };
      socket.onmessage = (event) => this.receive(socket, event.data);
      socket.onerror = () => {};
      socket.onclose = (event) => this.closed(socket, event.code, event.reason);
    });
  }

  private send0(message: UpMessage): void {
    this.socket?.send(encodeUp(message));
  }

  private receive(socket: SocketLike, data: unknown): void {
    if (this.socket === socket) this.heartbeat?.heard();
    if (!(data instanceof ArrayBuffer) && !(data instanceof Uint8Array)) return;
    let messages: DownMessage[];
    try {
      messages = decodeDownMessages(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    } catch (error) {
      this.options.onError?.(error as TandemError);
      return;
    }
    // A batch holds a turn's frames: stop if one of them ends this socket.
    for (let i = 0; i < messages.length && this.socket === socket; i++) this.handle(messages[i]!);
  }

  private handle(message: DownMessage): void {
    if (message.channel === 0) {
      if (message.kind === Kind.welcome) {
        this.backoff.reset();
        this.serverVersion = message.version;
        this.heartbeat?.welcome(message.version >= HEARTBEAT_PROTOCOL_VERSION);
      } else if (message.kind === Kind.error) {
        const error = errorFromWire(message.error);
        if (error.code === "upgrade_required") {
          this.fatal = error;
          for (const channel of this.channels.values()) channel.fail(error);
        }
        const retryAfter = (message.error.metadata as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
        if (typeof retryAfter === "number") this.backoff.retryAfter(retryAfter);
        this.options.onError?.(error);
      }
      return;
    }
    this.channels.get(message.channel)?.receive(message);
  }

  private closed(socket: SocketLike, code: number, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.greeted = false;
    this.stopHeartbeat();
    const retryAfter = retryAfterFromReason(reason ?? "");
    if (retryAfter !== null) this.backoff.retryAfter(retryAfter);
    // Also when this attempt never got through: the app should see "offline", not "connecting".
    for (const channel of this.channels.values()) channel.offline();
    if (this.state === "closed") return;
    this.state = "idle";
    if (code === CloseCode.upgradeRequired || this.fatal !== null) return;
    // Superseded (a newer leader tab of this browser took over): not for good. If this tab
    // really lost the lead, its coordinator moves its channels to the new leader and nothing
    // is left to reconnect; if not, it comes back later (with its own term, or re-elected).
    if (code === CloseCode.superseded) this.backoff.retryAfter(SUPERSEDED_RETRY_MS);
    if (this.channels.size > 0) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.state = "idle";
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.channels.size > 0) this.connect();
    }, this.backoff.next());
  }

  /**
   * The link is dead but the socket does not know it (heartbeat unanswered, the browser
   * went offline): the socket is closed as if the server had closed it — channels go
   * offline and a reconnect is scheduled — and then dropped without waiting for a close
   * handshake that cannot complete.
   */
  private linkDead(socket: SocketLike): void {
    if (this.socket !== socket) return;
    this.closed(socket, ABNORMAL_CLOSURE, "link dead");
    socket.onclose = null;
    socket.onmessage = null;
    socket.onopen = null;
    try {
      if (socket.terminate) socket.terminate();
      else socket.close(CloseCode.normal, "link dead");
    } catch {
      // closing already
    }
  }

  private stopHeartbeat(): void {
    this.heartbeat?.stop();
    this.heartbeat = null;
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.greeted = false;
    this.stopHeartbeat();
    if (this.state !== "closed") this.state = "idle";
    if (socket !== null) {
      socket.onclose = null;
      socket.onmessage = null;
      try {
        socket.close(CloseCode.normal, "client closed");
      } catch {
        // already closing
      }
    }
  }
}

function defaultFactoryOr(factory: SocketFactory | undefined): Promise<SocketFactory> {
  return factory ? Promise.resolve(factory) : defaultSocketFactory();
}
