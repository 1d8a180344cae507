/**
 * A TCP proxy on 127.0.0.1 (port 0) between a client and a server: how tests take a client
 * offline. `cut()` destroys every proxied connection and refuses new ones (they are
 * accepted and dropped at once, so the port stays ours); `restore()` lets them through
 * again. The target port may change (a server restarted on another port).
 */
import * as net from "node:net";

export interface TcpProxy {
  /** http://127.0.0.1:<proxy port> */
  readonly url: string;
  readonly port: number;
  /** Where connections go; change it to follow a restarted server. */
  targetPort: number;
  /** Connections accepted and forwarded so far. */
  readonly accepted: number;
  /** When each forwarded connection was accepted (Date.now()). */
  readonly acceptedAt: readonly number[];
  /** Connections refused while cut. */
  readonly refused: number;
  /** Proxied connections open now. */
  readonly open: number;
  readonly isCut: boolean;
  /** Drops every open connection (both sides) and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function tcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let isCut = false;
  let accepted = 0;
  const acceptedAt: number[] = [];
  let refused = 0;

  const server = net.createServer((client) => {
    if (isCut) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    accepted++;
    acceptedAt.push(Date.now());
    client.pause();
    const upstream = net.connect(proxy.targetPort, targetHost);
    // No Nagle: small frames must pass at once, as they would on a direct connection.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    client.on("error", drop);
    upstream.on("error", () => {
      if (connected) return drop();
      // Nothing listens upstream (the server is down): answer like a gateway. Closing the
      // accepted socket instead leaves a fresh fetch (undici) pending for ever.
      pairs.delete(pair);
      upstream.destroy();
      client.resume();
      client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    });
    client.on("close", drop);
    upstream.on("close", () => {
      if (connected) drop();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;

  const proxy: TcpProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    targetPort,
    get accepted() {
      return accepted;
    },
    acceptedAt,
    get refused() {
      return refused;
    },
    get open() {
      return pairs.size;
    },
    get isCut() {
      return isCut;
    },
    cut() {
      isCut = true;
      for (const { client, upstream } of [...pairs]) {
        // A reset, not a FIN: the link is gone, nothing is flushed or acknowledged.
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    restore() {
      isCut = false;
    },
    async close() {
      isCut = true;
      for (const { client, upstream } of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
