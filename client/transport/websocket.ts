/**
 * The WebSocket class to use: the platform's (browsers, Node ≥ 22), else the `ws` package
 * (Node 20), loaded lazily so that browser bundles never include it.
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
}

export type SocketFactory = (url: string) => SocketLike;

let nodeFactory: Promise<SocketFactory> | null = null;

export async function defaultSocketFactory(): Promise<SocketFactory> {
  const Platform = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Platform !== undefined) return (url) => new Platform(url);
  nodeFactory ??= (async () => {
    const name = "ws";
    const mod = (await import(/* @vite-ignore */ name)) as { default: new (url: string) => SocketLike };
    return (url: string) => new mod.default(url);
  })();
  return nodeFactory;
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
