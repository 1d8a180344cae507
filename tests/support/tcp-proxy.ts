/**
 * A TCP proxy on 127.0.0.1 (port 0) between a client and a server: how tests take a client
 * offline. `cut()` destroys every proxied connection and refuses new ones (they are
 * accepted and dropped at once, so the port stays ours); `restore()` lets them through
 * again. `blackhole()` is the silent failure instead: connections stay open but nothing
 * passes either way (bytes wait, as on a partitioned network), and new ones are accepted and
 * left hanging; `restore()` lets the held bytes through and connects the held connections.
 * The target port may change (a server restarted on another port).
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
  readonly isBlackholed: boolean;
  /** Drops every open connection (both sides) and refuses new ones until restore(). */
  cut(): void;
  /** Stops forwarding without closing anything (see above) until restore(). */
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function tcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  /** Accepted while blackholed: connected upstream on restore(). */
  const held = new Set<net.Socket>();
  /** Pairs whose forwarding is stopped by blackhole(). */
  const stopped = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let isCut = false;
  let isBlackholed = false;
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
    if (isBlackholed) {
      held.add(client);
      client.on("error", () => client.destroy());
      client.on("close", () => held.delete(client));
      return;
    }
    forward(client);
  });

  const forward = (client: net.Socket): void => {
    const upstream = net.connect(proxy.targetPort, targetHost);
    // No Nagle: small frames must pass at once, as they would on a direct connection.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      stopped.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      if (isBlackholed) {
        stopped.add(pair);
        return;
      }
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
  };

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
    get isBlackholed() {
      return isBlackholed;
    },
    blackhole() {
      isBlackholed = true;
      for (const pair of pairs) {
        if (stopped.has(pair)) continue;
        stopped.add(pair);
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
      }
    },
    cut() {
      isCut = true;
      for (const client of [...held]) client.resetAndDestroy();
      held.clear();
      for (const { client, upstream } of [...pairs]) {
        // A reset, not a FIN: the link is gone, nothing is flushed or acknowledged.
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    restore() {
      isCut = false;
      isBlackholed = false;
      for (const pair of [...stopped]) {
        stopped.delete(pair);
        if (pair.client.destroyed || pair.upstream.destroyed) continue;
        pair.client.pipe(pair.upstream);
        pair.upstream.pipe(pair.client);
        pair.client.resume();
        pair.upstream.resume();
      }
      for (const client of [...held]) {
        held.delete(client);
        if (!client.destroyed) forward(client);
      }
    },
    async close() {
      isCut = true;
      for (const client of [...held]) client.destroy();
      held.clear();
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
