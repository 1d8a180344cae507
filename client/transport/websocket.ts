/**
 * The WebSocket class to use: the platform's (browsers, Node ≥ 22), else the `ws` package
 * (Node 20), loaded lazily so that browser bundles never include it. A `ws` socket is used
 * through its own events (no DOM-style event object per message) and hands out its bytes
 * as they arrived (no copy into an ArrayBuffer: decoding copies the frame once anyway).
 */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a close handshake (Node's `ws`; browsers have none). */
  terminate?(): void;
}

export type SocketFactory = (url: string) => SocketLike;

let nodeFactory: Promise<SocketFactory> | null = null;

export async function defaultSocketFactory(): Promise<SocketFactory> {
  const Platform = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Platform !== undefined) return (url) => new Platform(url);
  nodeFactory ??= (async () => {
    const name = "ws";
    const mod = (await import(/* @vite-ignore */ name)) as { default: new (url: string) => NodeWebSocket };
    return (url: string) => new NodeSocket(new mod.default(url));
  })();
  return nodeFactory;
}

/** What the client uses of a `ws` WebSocket (an EventEmitter). */
interface NodeWebSocket {
  readonly readyState: number;
  binaryType: string;
  on(event: "open", listener: () => void): void;
  on(event: "message", listener: (data: unknown, isBinary: boolean) => void): void;
  on(event: "close", listener: (code: number, reason: { toString(): string }) => void): void;
  on(event: "error", listener: (error: unknown) => void): void;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  /** The TCP socket under it (ws's own field; null before it opens). */
  readonly _socket?: { cork(): void; uncork(): void } | null;
}

class NodeSocket implements SocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;

  constructor(private readonly ws: NodeWebSocket) {
    ws.binaryType = "nodebuffer";
    ws.on("open", () => this.onopen?.({}));
    ws.on("message", (data, isBinary) => this.onmessage?.({ data: isBinary ? data : String(data) }));
    ws.on("close", (code, reason) => this.onclose?.({ code, reason: reason.toString() }));
    ws.on("error", (error) => this.onerror?.({ error })); // always listened to: an unheard error would throw
  }

  /** Always the bytes as `ws` has them (a Uint8Array); what the session asks for is ignored. */
  get binaryType(): string {
    return "nodebuffer";
  }

  set binaryType(_type: string) {}

  get readyState(): number {
    return this.ws.readyState;
  }

  send(data: Uint8Array): void {
    const tcp = this.ws._socket;
    if (this.corked === null && tcp) {
      tcp.cork();
      this.corked = tcp;
      process.nextTick(this.uncork); // after this turn's microtasks too
    }
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.uncork();
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.uncork();
    this.ws.terminate();
  }

  private corked: { uncork(): void } | null = null;

  private readonly uncork = (): void => {
    const tcp = this.corked;
    this.corked = null;
    tcp?.uncork();
  };
}

export const OPEN = 1;

/** http(s)://host/prefix → ws(s)://host/prefix/connect */
export function socketUrl(base: string): string {
  const url = new URL(base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}/connect`;
  url.search = "";
  return url.toString();
}
