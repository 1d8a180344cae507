/**
 * A relay link: the WebSocket one client socket's node keeps to the node that owns some of
 * the actors the client subscribed to. The client's frames for those channels go up it as
 * they came (same channel numbers: the link carries this one client only), and the owner's
 * frames come down it and go to the client as they are — the owner runs onAuth, the actor,
 * exactly-once and presence; this node only carries bytes. The link says hello with the
 * client's id, term and protocol version, and proves it comes from a peer with the cluster
 * secret (peer-request.ts), so the owner counts the client's own address.
 *
 * A link that closes, fails to connect, or goes silent (a WebSocket ping every heartbeat)
 * ends its channels with `unsubscribed` retry: the client subscribes again, and the new
 * subscribe is routed to whichever node owns the actor by then.
 */
import { WebSocket } from "ws";
import * as decoding from "lib0/decoding";
import { ActorStopped as ActorStoppedError, type ActorStopped } from "../../shared/errors.ts";
import { isBatch, unbatch } from "../../shared/protocol/batch.ts";
import { CloseCode, Kind, encodeUp } from "../../shared/protocol/index.ts";
import type { NodeAddress } from "../drivers/driver.ts";
import type { ServerLogger } from "../log.ts";
import { runGuarded } from "../network/guard.ts";
import { forwardedHeaders } from "./peer-request.ts";

/** What a link needs of the client's socket session. */
export interface LinkHost {
  readonly clientId: string;
  readonly epoch: number;
  readonly version: number;
  readonly log: ServerLogger;
  readonly bufferedAmount: number;
  sendFrame(frame: Uint8Array): void;
  onceDrained(listener: () => void): void;
  /** The owner refused the client as a stale leader tab: the client's socket goes the same way. */
  supersede(): void;
}

/** What a link needs of each channel it carries. */
export interface LinkedChannel {
  /** A frame of the owner's for this channel (`kind` already read). */
  down(kind: number, frame: Uint8Array): void;
  /** The link is gone: the channel ends (the client is told to subscribe again). */
  lost(error: ActorStopped): void;
}

export interface LinkOptions {
  readonly owner: NodeAddress;
  readonly secret: string;
  /** This node's id, so the owner knows where the channel's client is. */
  readonly nodeId: string;
  readonly clientAddress: string;
  readonly clientHeaders: Iterable<[string, string]>;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  /** Above this many bytes queued to the client, the link stops reading the owner until they drain. */
  readonly pauseAboveBytes: number;
  /** Called once the link is closed for good (its host drops it). */
  readonly closed: (link: RelayLink) => void;
  /** The owner could not be reached at all (no connection): other links should not try it for a while. */
  readonly unreachable: () => void;
}

/** How long connecting to an owner may take before the link counts as failed. */
const CONNECT_TIMEOUT_MS = 3_000;

export class RelayLink {
  readonly channels = new Map<number, LinkedChannel>();
  private readonly socket: WebSocket;
  private readonly waiting: Uint8Array[] = [];
  private open = false;
  private ended = false;
  private lastHeard = Date.now();
  private readonly ticker: NodeJS.Timeout | null;
  private readonly connectTimer: NodeJS.Timeout;
  private paused = false;

  constructor(
    private readonly host: LinkHost,
    readonly options: LinkOptions,
  ) {
    const url = `${options.owner.url.replace(/^http/, "ws").replace(/\/$/, "")}/connect`;
    this.socket = new WebSocket(url, { headers: forwardedHeaders(options.clientHeaders, options.secret, options.clientAddress, options.nodeId), perMessageDeflate: false });
    this.socket.binaryType = "nodebuffer";
    const fail = (error: unknown) => this.end(`relay link failed: ${error instanceof Error ? error.message : String(error)}`);
    this.socket.on("open", () => runGuarded(() => this.opened(), fail));
    this.socket.on("message", (data: Buffer, isBinary: boolean) => runGuarded(() => this.received(data, isBinary), fail));
    this.socket.on("pong", () => (this.lastHeard = Date.now()));
    this.socket.on("close", (code: number) => runGuarded(() => this.closedBy(code), fail));
    this.socket.on("error", (error) => {
      host.log.debug({ err: error, owner: options.owner.nodeId }, "relay link error");
      if (!this.open) options.unreachable();
      this.end("relay link error");
    });
    this.connectTimer = setTimeout(() => runGuarded(() => {
      if (this.open || this.ended) return;
      options.unreachable();
      this.end("the owner did not answer in time");
    }, fail), CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();
    const every = options.heartbeatMs > 0 ? Math.min(options.heartbeatMs, options.deadAfterMs) : 0;
    this.ticker = every > 0 ? setInterval(() => runGuarded(() => this.beat(), fail), every) : null;
    this.ticker?.unref();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Sends one of the client's frames up (queued until the link is open). */
  send(frame: Uint8Array): void {
    if (this.ended) return;
    if (!this.open) this.waiting.push(frame);
    else this.socket.send(frame);
  }

  /** A channel was closed by the client (after its unsubscribe went up) or by the owner. */
  drop(channel: number, which: LinkedChannel): void {
    if (this.channels.get(channel) === which) this.channels.delete(channel);
    if (this.channels.size === 0) this.end("no channels left", false);
  }

  /** Ends the link; its channels are told to subscribe again (unless `tellChannels` is false: the client is gone). */
  end(why: string, tellChannels = true): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.connectTimer);
    if (this.ticker !== null) clearInterval(this.ticker);
    this.waiting.length = 0;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(CloseCode.normal, "relay done");
    else this.socket.terminate();
    const channels = [...this.channels.values()];
    this.channels.clear();
    if (tellChannels) {
      const error = new ActorStoppedError(`The connection to the actor's node ended (${why}); subscribe again`);
      for (const channel of channels) channel.lost(error);
    }
    this.options.closed(this);
  }

  private opened(): void {
    if (this.ended) return;
    this.open = true;
    clearTimeout(this.connectTimer);
    this.lastHeard = Date.now();
    this.socket.send(encodeUp({ kind: Kind.hello, channel: 0, version: this.host.version, clientId: this.host.clientId, epoch: this.host.epoch }));
    for (const frame of this.waiting) this.socket.send(frame);
    this.waiting.length = 0;
  }

  private received(data: Buffer, isBinary: boolean): void {
    this.lastHeard = Date.now();
    if (this.ended || !isBinary) return;
    const frames = isBatch(data) ? unbatch(data) : [data];
    for (const frame of frames) this.route(frame);
    this.backpressure();
  }

  /** One frame of the owner's: the link's own (welcome, pong) stay here, the rest go to their channel. */
  private route(frame: Uint8Array): void {
    const decoder = decoding.createDecoder(frame);
    const kind = decoding.readVarUint(decoder);
    const channel = decoding.readVarUint(decoder);
    if (channel === 0) {
      if (kind === Kind.welcome || kind === Kind.pong) return;
      this.host.sendFrame(frame); // an error about one of the client's frames
      return;
    }
    this.channels.get(channel)?.down(kind, frame);
  }

  /** The client does not take what it is sent: stop reading the owner (TCP pushes back on it) until it does. */
  private backpressure(): void {
    if (this.paused || this.host.bufferedAmount <= this.options.pauseAboveBytes) return;
    this.paused = true;
    this.socket.pause();
    this.host.onceDrained(() => {
      this.paused = false;
      if (!this.ended) this.socket.resume();
    });
  }

  private closedBy(code: number): void {
    if (this.ended) return;
    if (code === CloseCode.superseded) {
      this.end("superseded", false);
      this.host.supersede();
      return;
    }
    this.end(`closed with ${code}`);
  }

  private beat(): void {
    if (this.ended || !this.open) return;
    if (Date.now() - this.lastHeard > this.options.deadAfterMs) return this.end("the owner went silent");
    this.socket.ping();
  }
}
