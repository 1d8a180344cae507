/**
 * Speaking the binary protocol by hand (`encodeUp` / `decodeDown`) on a raw `ws` socket,
 * for tests that send what no well-behaved client would; and `useNetwork()`, which
 * registers one afterEach closing everything a network test opened (clients first, then
 * raw sockets, proxies and servers), so no reconnect timer outlives its test.
 */
import type { FastifyInstance } from "fastify";
import { afterEach } from "vitest";
import WebSocket from "ws";
import type { ActorDefinitions, Registry } from "tandem";
import { createClient, type Client, type ClientOptions } from "tandem/client";
import { createServer, type ServerOptions, type TandemServer } from "tandem/server";
import { Kind, PROTOCOL_VERSION, decodeDownMessages, encodeUp, type DownMessage, type SubscribeTarget, type UpMessage } from "../../shared/protocol/index.ts";
import { tcpProxy, type TcpProxy } from "./tcp-proxy.ts";

type Of<K extends number> = Extract<DownMessage, { kind: K }>;

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** The ws:// URL of a server's (or proxy's) /connect endpoint. */
export function connectUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, "ws").replace(/\/$/, "")}/connect`;
}

/** A raw client socket: frames in as UpMessages or bytes, frames out decoded and kept. */
export class RawSocket {
  /** Every frame received, decoded, in order. */
  readonly received: DownMessage[] = [];
  /** The batch messages received (protocol 2: one message, several frames), decoded. */
  readonly batches: DownMessage[][] = [];
  /** Frames that did not decode as server frames (should stay empty). */
  readonly undecodable: Uint8Array[] = [];
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | null = null;
  private readonly taken = new Set<DownMessage>();
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.on("message", (data: ArrayBuffer | Buffer) => {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data);
      try {
        const messages = decodeDownMessages(bytes);
        this.received.push(...messages);
        if (bytes[0] === Kind.batch) this.batches.push(messages);
      } catch {
        this.undecodable.push(bytes);
      }
      this.wake();
    });
    ws.on("error", () => {});
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.wake();
        resolve(this.closeInfo);
      });
    });
  }

  /** Opens a socket to `baseUrl`/connect; rejects with the HTTP status if the upgrade is refused. */
  static open(baseUrl: string, headers: Record<string, string> = {}): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(connectUrl(baseUrl), { headers });
      const socket = new RawSocket(ws);
      ws.once("open", () => resolve(socket));
      ws.once("unexpected-response", (_request, response) => {
        reject(Object.assign(new Error(`upgrade refused with ${response.statusCode}`), { status: response.statusCode }));
        ws.terminate();
      });
      ws.once("error", (error) => reject(error));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(message: UpMessage): void {
    this.ws.send(encodeUp(message));
  }

  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  /** Frames of one kind received so far (taken or not). */
  all<K extends number>(kind: K, channel?: number): Of<K>[] {
    return this.received.filter((m): m is Of<K> => m.kind === kind && (channel === undefined || m.channel === channel));
  }

  /**
   * The first received frame (already here or still to come) that matches and was not
   * returned by an earlier call. Fails after `timeoutMs` with a summary of what arrived.
   */
  async nextMatch(match: (m: DownMessage) => boolean, timeoutMs = 2000, what = "a matching frame"): Promise<DownMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((m) => !this.taken.has(m) && match(m));
      if (found !== undefined) {
        this.taken.add(found);
        return found;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closeInfo !== null) {
        throw new Error(`No ${what} within ${timeoutMs} ms (received: [${this.summary()}]${this.closeInfo ? `, closed ${this.closeInfo.code}` : ""})`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 100));
        this.waiters.add(wake);
      });
    }
  }

  /** The next frame of `kind` that matches (see nextMatch). */
  async next<K extends number>(kind: K, match: (m: Of<K>) => boolean = () => true, timeoutMs = 2000): Promise<Of<K>> {
    return (await this.nextMatch((m) => m.kind === kind && match(m as Of<K>), timeoutMs, `frame of kind ${kind}`)) as Of<K>;
  }

  /** kind@channel[:code] of every frame received, for failure messages. */
  summary(): string {
    return this.received.map((m) => `${m.kind}@${m.channel}${m.kind === Kind.error || m.kind === Kind.unsubscribed ? `:${m.error.code}` : ""}`).join(", ");
  }

  /** The next error frame (on `channel`, if given). */
  nextError(channel?: number, timeoutMs?: number): Promise<Of<typeof Kind.error>> {
    return this.next(Kind.error, (m) => channel === undefined || m.channel === channel, timeoutMs);
  }

  /** hello → welcome. */
  async hello(clientId = `raw-${Math.random().toString(36).slice(2)}`, version = PROTOCOL_VERSION): Promise<Of<typeof Kind.welcome>> {
    this.send({ kind: Kind.hello, channel: 0, version, clientId });
    return this.next(Kind.welcome);
  }

  /** subscribe → subscribed (and the sync step 2 after it), or throws with the unsubscribed error. */
  async subscribe(
    channel: number,
    name: string,
    key: string | readonly string[] = [],
    options: { mode?: "get" | "getOrCreate" | "create"; params?: unknown; input?: unknown; target?: SubscribeTarget } = {},
  ): Promise<{ subscribed: Of<typeof Kind.subscribed>; step2: Of<typeof Kind.sync> }> {
    const target: SubscribeTarget = options.target ?? { by: "key", mode: options.mode ?? "getOrCreate", key: typeof key === "string" ? [key] : key, input: options.input };
    this.send({ kind: Kind.subscribe, channel, name, target, params: options.params, stateVector: new Uint8Array() });
    const answer = (await this.nextMatch((m) => m.channel === channel && (m.kind === Kind.subscribed || m.kind === Kind.unsubscribed), 2000, "subscribed/unsubscribed")) as
      | Of<typeof Kind.subscribed>
      | Of<typeof Kind.unsubscribed>;
    if (answer.kind === Kind.unsubscribed) throw Object.assign(new Error(`subscribe refused: ${answer.error.code}`), { wire: answer.error });
    const step2 = await this.next(Kind.sync, (m) => m.channel === channel && m.step === "step2");
    return { subscribed: answer, step2 };
  }

  /** action → ack. */
  async action(channel: number, id: number, name: string, args: readonly unknown[], seq = 0): Promise<Of<typeof Kind.ack>> {
    this.send({ kind: Kind.action, channel, id, name, args, seq });
    return this.next(Kind.ack, (m) => m.channel === channel && m.id === id);
  }

  /** edit → editResult. */
  async edit(channel: number, id: number, update: Uint8Array): Promise<Of<typeof Kind.editResult>> {
    this.send({ kind: Kind.edit, channel, id, update });
    return this.next(Kind.editResult, (m) => m.channel === channel && m.id === id);
  }

  /** Closes (or, if the server does not answer within 500 ms, terminates) the socket. */
  async close(): Promise<CloseInfo> {
    if (this.closeInfo !== null) return this.closeInfo;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, "test done");
    else this.ws.terminate();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CloseInfo>((resolve) => {
      timer = setTimeout(() => {
        this.ws.terminate();
        resolve({ code: 1006, reason: "terminated" });
      }, 500);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Tries an upgrade with these headers: the HTTP status if refused, 101 if it opened. */
export async function upgradeStatus(baseUrl: string, headers: Record<string, string>): Promise<number> {
  try {
    const socket = await RawSocket.open(baseUrl, headers);
    await socket.close();
    return 101;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === undefined) throw error;
    return status;
  }
}

/** Server options, plus a hook to run before listen (fastify hooks must be added then). */
export type NetworkServerOptions = ServerOptions & { beforeListen?: (server: { readonly app: FastifyInstance }) => void };

export interface Network {
  /** createServer(registry, { logger: false, ...options }), listening on 127.0.0.1:0. */
  server<A extends ActorDefinitions>(registry: Registry<A>, options?: NetworkServerOptions): Promise<TandemServer<Registry<A>>>;
  /** A client with fast reconnects, disposed after the test. */
  client<R>(url: string, options?: ClientOptions): Client<R>;
  raw(url: string, headers?: Record<string, string>): Promise<RawSocket>;
  proxy(targetPort: number): Promise<TcpProxy>;
  /** Closes a server now (it is not closed twice). */
  closeServer(server: { close(): Promise<void> }): Promise<void>;
}

export const FAST_BACKOFF = { baseMs: 20, maxMs: 200 } as const;

/** Registers the afterEach that tears down what the test opened, in a safe order. */
export function useNetwork(): Network {
  const clients: { dispose(): void }[] = [];
  const raws: RawSocket[] = [];
  const proxies: TcpProxy[] = [];
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.dispose();
    await Promise.all(raws.splice(0).map((socket) => socket.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return {
    async server(registry, options = {}) {
      const { beforeListen, ...rest } = options;
      const server = createServer(registry, { logger: false, ...rest });
      servers.push(server);
      beforeListen?.(server);
      await server.listen();
      return server;
    },
    client<R>(url: string, options: ClientOptions = {}) {
      const client = createClient<R>(url, { backoff: FAST_BACKOFF, ...options });
      clients.push(client);
      return client;
    },
    async raw(url, headers) {
      const socket = await RawSocket.open(url, headers);
      raws.push(socket);
      return socket;
    },
    async proxy(targetPort) {
      const proxy = await tcpProxy(targetPort);
      proxies.push(proxy);
      return proxy;
    },
    async closeServer(server) {
      const index = servers.indexOf(server);
      if (index >= 0) servers.splice(index, 1);
      await server.close();
    },
  };
}
