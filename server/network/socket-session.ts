/**
 * One client WebSocket: the transport seam. Checks every inbound frame (size, rate,
 * decoding, handshake order, channel ownership) before anything acts on it, then hands it
 * to its channel. A bad frame gets an error frame and changes nothing; the socket keeps
 * serving its other channels.
 */
import type { WebSocket } from "ws";
import type { AuthRequest } from "../../shared/context.ts";
import { ActorStopped, ErrorCodes, MalformedFrame, RateLimited, Superseded, TandemError, UnknownChannel, toWireError } from "../../shared/errors.ts";
import { CloseCode, type DownMessage, Kind, type UpMessage, decodeUp, encodeDown, unexpectedCase, withRetryAfter } from "../../shared/protocol/index.ts";
import type { ServerLogger } from "../log.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { newConnId } from "../runtime/connection.ts";
import { ActorChannel } from "./actor-channel.ts";
import type { ChannelHost } from "./channel-host.ts";
import { type ChannelQuota, UNLIMITED_CHANNELS } from "./channels-per-address.ts";
import { Heartbeat } from "./heartbeat.ts";
import { closeFirmly } from "./close-firmly.ts";
import { guarded, runGuarded } from "./guard.ts";
import { Handshake, type HelloHost } from "./hello.ts";
import { type Limits, RateLimiter } from "./limits.ts";
import { HeldIdentities } from "./held-identities.ts";
import { LeaderTerms } from "./leader-terms.ts";
import { OUTPUT_RECHECK_MS, OutputRoom } from "./output-room.ts";
import { oversizedAnswer, refusedFrameAnswer } from "./oversized-frame.ts";
import { type BudgetedSocket, SendBudget } from "./send-budget.ts";
import { TurnWriter } from "./turn-writer.ts";
import type { ClusterNode } from "../cluster/cluster-node.ts";
import type { RelayedChannel } from "../cluster/relayed-channel.ts";
import { type RelaySessionHost, SessionRelays } from "../cluster/session-relays.ts";
import type { NodeAddress } from "../drivers/driver.ts";

/** Size on the wire of each action frame waiting or running (what its arguments hold in memory); one map for all sockets. */
const ACTION_BYTES = new WeakMap<UpMessage, number>();

/** Where the cluster routed each subscribe (read before it is dispatched): null here, else its owner. */
const ROUTES = new WeakMap<UpMessage, NodeAddress | null>();

/** Decoded frames waiting for the rate limit before the socket is closed as abusive. */
const MAX_INBOX = 10_000;

export class SocketSession implements ChannelHost, BudgetedSocket, HelloHost, RelaySessionHost {
  readonly socketId = newConnId("ws");
  clientId = "";
  /** The leader tab's term from the hello (0: no tabs). */
  epoch = 0;
  /** The protocol version of the client's hello. */
  version = 0;
  /** Set for a peer node's relay link (plugin.ts): that node's id. */
  peerNode: string | null = null;
  /** Channels of actors owned by other nodes go through these (cluster only; never on a peer's socket). */
  private readonly relays: SessionRelays | null;
  /** A subscribe's route is being looked up: frames after it wait, in order. */
  private routing = false;
  /** Identity digests this socket's open channels speak as (held-identities.ts). */
  private readonly identities = new HeldIdentities();
  private readonly channels = new Map<number, ActorChannel | RelayedChannel>();
  private readonly rate: RateLimiter;
  private closed = false;
  private readonly inbox: UpMessage[] = [];
  /** Bytes of this socket's action frames read and not yet answered. */
  pendingActionBytes = 0;
  private draining = false;
  private paused = false;
  private holdTimer: NodeJS.Timeout | null = null;
  /** Read backpressure (output-room.ts): what the peer has not yet taken. */
  private readonly output: OutputRoom;
  /** Reading is held because the peer does not take what it was sent (not for the server's own limits). */
  private heldForOutput = false;
  /** Bytes queued to the peer when the heartbeat last looked (a socket held for output that drains is alive). */
  private queuedAtLastBeat = 0;
  private readonly handshake: Handshake;
  private readonly writer: TurnWriter;
  private readonly heartbeat: Heartbeat;

  constructor(
    private readonly socket: WebSocket,
    readonly request: AuthRequest,
    readonly runtime: ActorRuntime,
    readonly limits: Limits,
    readonly log: ServerLogger,
    /** Fencing of leader tabs (one per server). */
    private readonly terms: LeaderTerms = new LeaderTerms(),
    /** Bytes queued to all sockets of the server (one per server). */
    private readonly budget: SendBudget = new SendBudget(limits.maxBufferedBytesTotal),
    /** Channels its address may still open (channels-per-address.ts). */
    private readonly channelQuota: ChannelQuota = UNLIMITED_CHANNELS,
    /** The cluster this node is part of, when the socket may relay (not a peer's relay link). */
    cluster: ClusterNode | null = null,
  ) {
    this.relays = cluster === null ? null : new SessionRelays(cluster, this, limits);
    this.rate = new RateLimiter(limits.framesPerSecond);
    this.writer = new TurnWriter(socket, (error) => this.fail(error));
    this.output = new OutputRoom(() => this.writer.bufferedAmount);
    this.handshake = new Handshake(this, limits.helloTimeoutMs);
    // A listener that threw here would throw out of ws's socket reader: the process would die.
    socket.on(
      "message",
      guarded(this.receive.bind(this), (error) => this.fail(error)),
    );
    socket.on("close", () => void this.shutdown("socket closed"));
    socket.on("error", (error) => this.log.debug({ err: error }, "socket error"));
    this.heartbeat = new Heartbeat(socket, limits, this);
  }

  identified(identity: string): void {
    if (this.closed) return;
    this.identities.add(identity);
    if (!this.terms.identified(this.clientId, this.epoch, this, identity)) this.supersede();
  }

  /** A channel no longer speaks as `identity` (it closed or re-authenticated as another). */
  released(identity: string): void {
    if (this.identities.remove(identity) && !this.closed) this.terms.leave(this, this.clientId, [identity]);
  }

  /** A newer leader tab of this client greeted: this (stale) one must stop sending. */
  supersede(): void {
    this.send({ kind: Kind.error, channel: 0, error: new Superseded("A newer leader tab of this browser holds the connection").toWire() });
    this.close(CloseCode.superseded, "superseded");
  }

  get channelCount(): number {
    return this.channels.size;
  }

  // ---------------------------------------------------------------------------------------
  // Inbound

  private receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.heartbeat.heard();
    if (this.closed) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const counters = this.runtime.observer?.network;
    if (counters !== undefined) {
      counters.bytesIn += bytes.byteLength;
      counters.framesIn++;
    }
    if (bytes.byteLength > this.limits.maxFrameBytes) {
      this.runtime.observer?.refused(ErrorCodes.messageTooLarge);
      return this.send(oversizedAnswer(bytes, this.limits.maxFrameBytes));
    }
    if (!isBinary) return this.refuse(0, new MalformedFrame("Frames are binary"));
    let messages: readonly UpMessage[];
    try {
      messages = this.fromPeer(bytes);
    } catch (error) {
      return this.refuseUndecodable(bytes, error);
    }
    for (const message of messages) {
      if (this.inbox.length >= MAX_INBOX) {
        this.send({ kind: Kind.error, channel: 0, error: new RateLimited("Too many frames waiting: slow down").toWire() });
        this.close(CloseCode.rateLimited, withRetryAfter("rate limited", 5000));
        return;
      }
      if (message.kind === Kind.action) ACTION_BYTES.set(message, bytes.byteLength);
      this.inbox.push(message);
    }
    this.drain();
  }

  /**
   * A frame that does not decode: its caller is answered from its header (an action's ack,
   * an edit's result, a subscribe's unsubscribed …: oversized-frame.ts), so nobody waits for
   * ever for a frame the server threw away. A dialect answers its own way.
   */
  protected refuseUndecodable(bytes: Uint8Array, error: unknown): void {
    if (!(error instanceof TandemError)) this.log.error({ err: error }, "decoding a frame failed");
    const wire = toWireError(error);
    this.runtime.observer?.refused(wire.code);
    this.send(refusedFrameAnswer(bytes, wire));
  }

  /** The frames a peer's message stands for (a dialect of the protocol translates here: yjs/yjs-session.ts). */
  protected fromPeer(bytes: Uint8Array): readonly UpMessage[] {
    return [decodeUp(bytes)];
  }

  /** What the peer is sent for a frame (null: nothing; a dialect translates here). */
  protected toPeer(frame: Uint8Array): Uint8Array | null {
    return frame;
  }

  /**
   * Handles waiting frames in order while the frame rate and the channel's pending-action
   * limit allow. Over a limit it stops reading the socket (TCP pushes back on the client)
   * instead of refusing frames: a refused action would break the order of a client's seqs.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.inbox.length > 0 && !this.closed) {
        if (this.output.full) return this.holdForOutput();
        this.heldForOutput = false;
        if (this.routing) return this.hold();
        const message = this.inbox[0]!;
        if (message.kind === Kind.subscribe && this.relays !== null && !ROUTES.has(message) && this.handshake.isDone) {
          this.route(message);
          return this.hold();
        }
        if (message.kind === Kind.action) {
          const channel = this.channels.get(message.channel);
          if (channel !== undefined && channel.pendingCount >= this.limits.maxPendingActionsPerChannel) return this.hold();
          // By bytes too (a slow action must not pin hundreds of large argument lists); one action always may go.
          const bytes = ACTION_BYTES.get(message) ?? 0;
          if (this.pendingActionBytes > 0 && this.pendingActionBytes + bytes > this.limits.maxPendingActionBytesPerSocket) return this.hold();
        }
        const wait = this.rate.take();
        if (wait > 0) return this.hold(wait);
        this.inbox.shift();
        try {
          this.dispatch(message);
        } catch (error) {
          this.refuse(message.channel, error);
        }
      }
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
    } finally {
      this.draining = false;
    }
  }

  /** Looks up where a subscribe's actor lives (cluster), then reads on. */
  private route(message: UpMessage & { kind: typeof Kind.subscribe }): void {
    this.routing = true;
    void this.relays!.route(message).then((owner) =>
      runGuarded(() => {
        ROUTES.set(message, owner);
        this.routing = false;
        this.drain();
      }, (error) => this.fail(error)),
    );
  }

  /** Stops reading; resumes after `ms`, or when an action of a full channel is answered. */
  private hold(ms?: number): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (ms !== undefined && this.holdTimer === null) {
      this.holdTimer = setTimeout(
        () =>
          runGuarded(() => {
            this.holdTimer = null;
            this.drain();
          }, (error) => this.fail(error)),
        Math.ceil(ms),
      );
    }
  }

  /** The peer does not take what it was sent: read nothing more until it does (polled: a write the kernel took whole fires no drain). */
  private holdForOutput(): void {
    this.heldForOutput = true;
    this.hold(OUTPUT_RECHECK_MS);
  }

  /** Resolves when the peer has room for a whole document (output-room.ts). */
  outputRoom(): Promise<void> {
    return this.output.room();
  }

  /** The heartbeat terminated this socket for silence. */
  heartbeatDead(): void {
    this.log.info({ socket: this.socketId }, "terminating a silent socket (heartbeat)");
  }

  /**
   * For the heartbeat: whether silence now says the peer is gone. Not while the server holds
   * reading for its own limits (pongs wait unread); while it holds for the peer's output,
   * only if that output did not move since the last beat.
   */
  silenceCounts(): boolean {
    if (!this.paused) return true;
    if (!this.heldForOutput) return false;
    const queued = this.writer.bufferedAmount;
    const drained = queued < this.queuedAtLastBeat;
    this.queuedAtLastBeat = queued;
    return !drained;
  }

  /** Counts an action's frame bytes until it is answered, then lets held frames go. */
  private actionRunning(work: Promise<unknown>, bytes: number): void {
    this.pendingActionBytes += bytes;
    const done = (): void => {
      this.pendingActionBytes -= bytes;
      if (this.inbox.length > 0) runGuarded(() => this.drain(), (error) => this.fail(error));
    };
    work.then(done, done);
  }

  /** A channel answered an action: a held frame may go now. */
  actionSettled(): void {
    if (this.inbox.length > 0) queueMicrotask(() => runGuarded(() => this.drain(), (error) => this.fail(error)));
  }

  private dispatch(message: UpMessage): void {
    this.handshake.admit(message.kind);
    switch (message.kind) {
      case Kind.hello:
        return this.handshake.hello(message.version, message.clientId, message.epoch ?? 0);
      case Kind.subscribe: {
        if (message.channel === 0) throw new MalformedFrame("Channel 0 is the socket itself");
        if (this.channels.has(message.channel)) throw new MalformedFrame(`Channel ${message.channel} is already open`);
        if (this.channels.size >= this.limits.maxChannelsPerSocket) {
          const error = new RateLimited(`A socket may open at most ${this.limits.maxChannelsPerSocket} channels`).toWire();
          this.send({ kind: Kind.unsubscribed, channel: message.channel, error, retry: false });
          return;
        }
        if (!this.channelQuota.admit()) {
          const error = new RateLimited(`An address may open at most ${this.limits.maxChannelsPerAddress} channels`).toWire();
          this.send({ kind: Kind.unsubscribed, channel: message.channel, error, retry: false });
          return;
        }
        const owner = ROUTES.get(message) ?? null;
        if (owner === null) {
          this.channels.set(message.channel, new ActorChannel(this, message.channel, message));
          return;
        }
        const relayed = this.relays!.open(message, owner);
        if (relayed === null) {
          this.channelQuota.release();
          const error = new ActorStopped("The actor's node cannot be reached now; subscribe again").toWire();
          this.send({ kind: Kind.unsubscribed, channel: message.channel, error, retry: true });
          return;
        }
        this.channels.set(message.channel, relayed);
        return;
      }
      case Kind.unsubscribe: {
        const channel = this.channel(message.channel);
        this.channels.delete(message.channel);
        this.channelQuota.release();
        this.settle(message.channel, channel.close("unsubscribed"));
        return;
      }
      case Kind.sync:
        if (message.step !== "step1") throw new MalformedFrame("Clients send document changes as edit frames");
        this.settle(message.channel, this.channel(message.channel).step1(message.data));
        return;
      case Kind.action: {
        const work = this.channel(message.channel).action(message);
        this.settle(message.channel, work);
        this.actionRunning(work, ACTION_BYTES.get(message) ?? 0);
        return;
      }
      case Kind.edit:
        this.settle(message.channel, this.channel(message.channel).edit(message));
        return;
      case Kind.awareness:
        this.settle(message.channel, this.channel(message.channel).awareness(message.update));
        return;
      case Kind.ping:
        this.send({ kind: Kind.pong, channel: 0 });
        return;
      case Kind.auth:
        this.settle(message.channel, this.channel(message.channel).reauth(message));
        return;
      default:
        return unexpectedCase(message);
    }
  }

  /** A channel's work runs on: what it rejects with is answered on its channel, never left unhandled. */
  private settle(channel: number, work: Promise<unknown>): void {
    work.catch((error: unknown) =>
      runGuarded(
        () => this.refuse(channel, error),
        (failure) => this.fail(failure),
      ),
    );
  }

  /** The hello was accepted (hello.ts). */
  greeted(clientId: string, epoch: number, batching: boolean, version: number): void {
    this.clientId = clientId;
    this.epoch = epoch;
    this.version = version;
    this.writer.batching = batching;
  }

  /** The client's address (what per-address limits count; a peer's relay link carries its client's). */
  get clientAddress(): string {
    return this.request.ip ?? "";
  }

  get clientHeaders(): Iterable<[string, string]> {
    return this.request.headers;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  protected channel(id: number): ActorChannel | RelayedChannel {
    const channel = this.channels.get(id);
    if (channel === undefined) throw new UnknownChannel(`Channel ${id} is not open`);
    return channel;
  }

  /** A socket-level refusal (channel 0) of a frame that could not be read. */
  protected refuseFrame(error: unknown): void {
    this.refuse(0, error);
  }

  private refuse(channel: number, error: unknown): void {
    if (!(error instanceof TandemError)) this.log.error({ err: error }, "frame handling failed");
    const wire = toWireError(error);
    this.runtime.observer?.refused(wire.code);
    this.send({ kind: Kind.error, channel, error: wire });
  }

  // ---------------------------------------------------------------------------------------
  // Outbound

  send(message: DownMessage): void {
    this.sendFrame(encodeDown(message));
  }

  sendFrame(frame: Uint8Array): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.writer.bufferedAmount > this.limits.maxBufferedBytes) return this.terminate("it does not keep up");
    const out = this.toPeer(frame);
    if (out === null) return;
    this.writer.send(out);
    const counters = this.runtime.observer?.network;
    if (counters !== undefined) {
      counters.bytesOut += out.byteLength;
      counters.framesOut++;
    }
    this.budget.note(this);
  }

  get bufferedAmount(): number {
    return this.writer.bufferedAmount;
  }

  onceDrained(listener: () => void): void {
    this.writer.onceDrained(listener);
  }

  /** Drops the socket at once (no close handshake): what is queued to it is freed now. */
  terminate(reason: string): void {
    if (this.closed) return;
    this.log.warn({ socket: this.socketId, queued: this.writer.bufferedAmount }, `terminating a socket: ${reason}`);
    this.socket.terminate();
    void this.shutdown(reason);
  }

  /** Work of this socket failed where no caller waits (a write at a turn's end, a timer): logged, socket dropped. */
  fail(error: unknown): void {
    this.log.error({ err: error, socket: this.socketId }, "a socket failed");
    this.terminate("it failed");
  }

  /** Closes this socket's channels that `match` selects with `error` (server.revoke); how many. */
  revoke(match: (channel: ActorChannel) => boolean, error: TandemError): number {
    let closed = 0;
    for (const channel of [...this.channels.values()]) {
      if (!(channel instanceof ActorChannel)) continue; // its owner's node revokes it
      channel.revokeWhileDeciding(match, error); // onAuth deciding now: its outcome is checked too
      if (match(channel) && channel.revoke(error)) closed++;
    }
    return closed;
  }

  forget(channel: number, which: ActorChannel): void {
    if (this.channels.get(channel) !== which) return;
    this.channels.delete(channel);
    this.channelQuota.release();
  }

  close(code: number, reason: string): void {
    this.writer.flush(); // what was sent before the close goes before the close frame
    closeFirmly(this.socket, code, reason);
    void this.shutdown(reason);
  }

  /** Disconnects every channel (onDisconnect runs for each). */
  async shutdown(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat.stop();
    if (this.clientId !== "") this.terms.leave(this, this.clientId, this.identities.keys());
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.handshake.stop();
    this.output.close();
    this.budget.forget(this);
    this.inbox.length = 0;
    if (this.paused) {
      this.paused = false;
      this.socket.resume(); // so the close handshake can be read
    }
    const channels = [...this.channels.values()];
    this.channels.clear();
    this.relays?.close();
    for (let i = 0; i < channels.length; i++) this.channelQuota.release();
    const closed = await Promise.allSettled(channels.map((channel) => channel.close(reason)));
    for (const result of closed) if (result.status === "rejected") this.log.error({ err: result.reason, socket: this.socketId }, "closing a channel failed");
  }
}
