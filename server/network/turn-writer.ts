/**
 * A socket's outgoing frames, written once per event-loop turn. Frames sent during a turn
 * are queued; at the turn's end (turn-end.ts: after the I/O callbacks, their microtasks and
 * the fan-out) they are framed as WebSocket binary messages (RFC 6455, unmasked, one frame
 * each) into one buffer and written to the TCP socket in one call: one syscall per socket
 * per turn instead of one per frame, and none of ws's per-message work. The bytes on the
 * wire are what `ws.send` would have written, in the same order.
 *
 * To a client of protocol 2 or more (`batching`), a turn's small frames go as one message,
 * a `batch` frame (shared/protocol/batch.ts): the client's WebSocket parses one message
 * instead of one per frame.
 *
 * Only when the socket is plain: ws has negotiated no extension (no compression) and its
 * net.Socket is there; otherwise frames go through `ws.send` as they come. Frames are
 * written out before the socket is closed from this side (flush), so a close frame never
 * overtakes them; if ws closed the socket on its own meanwhile, the queued frames are
 * dropped, as ws drops sends after close.
 */
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { batchLength, writeBatch } from "../../shared/protocol/index.ts";
import { releaseAtTurnEnd } from "./turn-end.ts";

/** Payloads at least this large are written as they are (header, payload), not copied. */
const COPY_BELOW = 16 * 1024;
/** Queued bytes after which the queue is written at once (memory stays bounded in a big turn). */
const FLUSH_BYTES = 256 * 1024;
/**
 * A long turn (a window of actions run back to back) writes out every this many ms, so the
 * first answers reach the client while the rest are computed: the client keeps its pipeline
 * full instead of waiting for the whole turn.
 */
const MAX_DELAY_MS = 1;

const FIN_BINARY = 0x82;

function headerLength(length: number): number {
  return length < 126 ? 2 : length <= 0xffff ? 4 : 10;
}

function writeHeader(target: Uint8Array, at: number, length: number): number {
  target[at] = FIN_BINARY;
  if (length < 126) {
    target[at + 1] = length;
    return at + 2;
  }
  if (length <= 0xffff) {
    target[at + 1] = 126;
    target[at + 2] = length >>> 8;
    target[at + 3] = length & 0xff;
    return at + 4;
  }
  target[at + 1] = 127;
  new DataView(target.buffer, target.byteOffset + at + 2, 8).setBigUint64(0, BigInt(length));
  return at + 10;
}

/** Frames of several messages as one buffer. */
export function encodeMessages(payloads: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const payload of payloads) total += headerLength(payload.length) + payload.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const payload of payloads) {
    at = writeHeader(out, at, payload.length);
    out.set(payload, at);
    at += payload.length;
  }
  return out;
}

/** Several frames as one message: a batch frame. */
export function encodeBatchMessage(payloads: readonly Uint8Array[]): Buffer {
  const length = batchLength(payloads);
  const out = Buffer.allocUnsafe(headerLength(length) + length);
  writeBatch(out, writeHeader(out, 0, length), payloads);
  return out;
}

export class TurnWriter {
  /** The client reads batch frames (its hello said protocol 2 or more). */
  batching = false;
  /** The TCP socket, when frames may be written to it directly; null: through ws. */
  private readonly socket: Socket | null;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  /** ws's buffered amount when this turn's queue started (it only drains meanwhile). */
  private bufferedBefore = 0;
  private firstQueuedAt = 0;
  private scheduled = false;

  constructor(
    private readonly ws: WebSocket,
    /** What a write at the turn's end threw (the socket's owner logs it and terminates the socket). */
    private readonly onFailure: (error: unknown) => void = () => ws.terminate(),
  ) {
    // Extensions are settled by the handshake, which is over once the server has the ws.
    const socket = (ws as unknown as { _socket?: unknown })._socket;
    this.socket = isSocket(socket) && ws.extensions === "" ? socket : null;
  }

  /** Bytes not yet handed to the kernel: ws's count plus this turn's queue. */
  get bufferedAmount(): number {
    return this.queue.length === 0 ? this.ws.bufferedAmount : this.bufferedBefore + this.queuedBytes;
  }

  /** Calls `listener` once the TCP socket has written out what it holds ('drain'). */
  onceDrained(listener: () => void): void {
    const socket = this.socket ?? (this.ws as unknown as { _socket?: unknown })._socket;
    if (isSocket(socket)) socket.once("drain", listener);
  }

  send(frame: Uint8Array): void {
    if (this.socket === null) {
      this.ws.send(frame);
      return;
    }
    if (this.queue.length === 0) {
      this.bufferedBefore = this.ws.bufferedAmount;
      this.firstQueuedAt = performance.now();
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= FLUSH_BYTES || performance.now() - this.firstQueuedAt >= MAX_DELAY_MS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      releaseAtTurnEnd(this);
    }
  }

  /** At the turn's end. */
  release(): void {
    this.scheduled = false;
    this.flush();
  }

  /** What release threw: the queue is dropped, the owner hears of it. */
  fail(error: unknown): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.onFailure(error);
  }

  /** Writes what is queued now. */
  flush(): void {
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    const socket = this.socket!;
    if (this.ws.readyState !== this.ws.OPEN || socket.destroyed || !socket.writable) return;
    if (queue.every((payload) => payload.length < COPY_BELOW)) {
      socket.write(this.encodeSmall(queue));
      return;
    }
    // Large payloads are not copied: small frames around them are still merged.
    socket.cork();
    let small: Uint8Array[] = [];
    for (const payload of queue) {
      if (payload.length < COPY_BELOW) {
        small.push(payload);
        continue;
      }
      if (small.length > 0) socket.write(this.encodeSmall(small));
      small = [];
      const header = Buffer.allocUnsafe(headerLength(payload.length));
      writeHeader(header, 0, payload.length);
      socket.write(header);
      socket.write(payload);
    }
    if (small.length > 0) socket.write(this.encodeSmall(small));
    socket.uncork();
  }

  private encodeSmall(payloads: readonly Uint8Array[]): Buffer {
    return this.batching && payloads.length > 1 ? encodeBatchMessage(payloads) : encodeMessages(payloads);
  }
}

function isSocket(socket: unknown): socket is Socket {
  return typeof socket === "object" && socket !== null && typeof (socket as Socket).write === "function" && typeof (socket as Socket).cork === "function";
}
