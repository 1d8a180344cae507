/**
 * A plain TCP load balancer on 127.0.0.1 (port 0), as users put in front of several nodes:
 * each new connection goes to the next target in turn (round robin); a target that refuses
 * the connection is skipped for that connection (passive health check), so clients keep
 * connecting while a node is down. It knows nothing of Tandem. `cut(port)` drops every
 * connection to one target (a link cut between the balancer and a node).
 */
import * as net from "node:net";

export interface TcpBalancer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** The nodes' ports; change it as nodes restart on new ports. */
  targets: number[];
  /** Connections forwarded to each target port so far. */
  readonly forwarded: ReadonlyMap<number, number>;
  /** Drops every open connection to `port` (both sides). */
  cut(port: number): void;
  close(): Promise<void>;
}

export async function tcpBalancer(targets: number[]): Promise<TcpBalancer> {
  const open = new Map<number, Set<{ client: net.Socket; upstream: net.Socket }>>();
  const forwarded = new Map<number, number>();
  let next = 0;

  const connect = (client: net.Socket, tried: number): void => {
    const list = balancer.targets;
    if (tried >= list.length || list.length === 0) {
      client.destroy();
      return;
    }
    const port = list[next++ % list.length]!;
    const upstream = net.connect(port, "127.0.0.1");
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      forwarded.set(port, (forwarded.get(port) ?? 0) + 1);
      const pair = { client, upstream };
      let set = open.get(port);
      if (set === undefined) open.set(port, (set = new Set()));
      set.add(pair);
      const drop = () => {
        set!.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("close", drop);
      upstream.on("close", drop);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on("error", () => {
      if (!connected) connect(client, tried + 1); // refused: try the next node
    });
  };

  const server = net.createServer((client) => {
    client.pause();
    client.on("error", () => client.destroy());
    connect(client, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;

  const balancer: TcpBalancer = {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    targets: [...targets],
    forwarded,
    cut(port) {
      for (const pair of [...(open.get(port) ?? [])]) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
    },
    async close() {
      for (const set of open.values()) for (const pair of set) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return balancer;
}
