/**
 * One shape for calling actions, whatever the system: Tandem (`createClient`: handles call
 * over HTTP, `connect()` over the client's WebSocket) or RivetKit (`rivetkit/client`: the
 * same split). One ActionClient is one client, with its own WebSocket once connected; the
 * actors are bench/servers/<system>.ts's `counter` and `list`.
 */
import type { ServerHandle, System } from "./harness.ts";
import { anchor } from "./modules.ts";

export interface ActionConn {
  inc(by: number): Promise<number>;
  tick(i: number): Promise<number>;
  fill(from: number, count: number): Promise<number>;
  onTick(listener: (i: number) => void): void;
  /** Resolves once the connection is open and ready (Tandem: synced). */
  ready(): Promise<void>;
  dispose(): Promise<void>;
}

export interface ActionHandle {
  inc(by: number): Promise<number>;
  fill(from: number, count: number): Promise<number>;
  count(): Promise<number>;
}

export interface ActionClient {
  counter(key: string): ActionHandle;
  list(key: string): ActionHandle;
  connectCounter(key: string): ActionConn;
  connectList(key: string): ActionConn;
  dispose(): Promise<void>;
}

export type NewActionClient = () => ActionClient;

export async function actionClients(system: System, server: ServerHandle): Promise<NewActionClient> {
  switch (system) {
    case "tandem":
      return tandemClients(server);
    case "rivetkit":
      return rivetClients(server);
    default:
      throw new Error(`no action clients for ${system}`);
  }
}

type AnyFn = (...args: any[]) => Promise<any>;
interface Callable {
  [action: string]: AnyFn;
}

async function tandemClients(server: ServerHandle): Promise<NewActionClient> {
  const { createClient, memoryStorage } = await import("../../client/index.ts");
  type ActionsRegistry = import("../servers/tandem.ts").ActionsRegistry;
  return () => {
    const client = createClient<ActionsRegistry>(server.url, { storage: memoryStorage() });
    const wrap = (conn: { whenSynced(): Promise<void>; dispose(): void }): ActionConn => {
      const call = conn as unknown as Callable;
      return {
        inc: (by) => call.inc!(by),
        tick: (i) => call.tick!(i),
        fill: (from, count) => call.fill!(from, count),
        onTick: (listener) => void (conn as unknown as { on(name: string, l: (i: number) => void): void }).on("tick", listener),
        ready: () => conn.whenSynced(),
        dispose: async () => conn.dispose(),
      };
    };
    return {
      counter: (key) => client.counter.getOrCreate(key) as unknown as ActionHandle,
      list: (key) => client.list.getOrCreate(key) as unknown as ActionHandle,
      connectCounter: (key) => wrap(client.counter.getOrCreate(key).connect()),
      connectList: (key) => wrap(client.list.getOrCreate(key).connect()),
      dispose: async () => client.dispose(),
    };
  };
}

async function rivetClients(server: ServerHandle): Promise<NewActionClient> {
  const { createClient } = await anchor("rivetkit/client");
  return () => {
    const client = createClient({ endpoint: server.url });
    const handleOf = (name: string, key: string): Callable => client[name].getOrCreate([key]);
    const wrap = (conn: Callable & { on(name: string, l: (i: number) => void): void; dispose(): Promise<void> }): ActionConn => {
      let opened: Promise<void> | undefined;
      return {
        inc: (by) => conn.inc!(by),
        tick: (i) => conn.tick!(i),
        fill: (from, count) => conn.fill!(from, count),
        onTick: (listener) => void conn.on("tick", listener),
        // RivetKit opens a connection lazily and queues calls until it is open: the first
        // call's answer means the connection is up (`ping` changes nothing).
        ready: () => (opened ??= conn.ping!().then(() => undefined)),
        dispose: () => conn.dispose(),
      };
    };
    return {
      counter: (key) => handleOf("counter", key) as unknown as ActionHandle,
      list: (key) => handleOf("list", key) as unknown as ActionHandle,
      connectCounter: (key) => wrap(client.counter.getOrCreate([key]).connect()),
      connectList: (key) => wrap(client.list.getOrCreate([key]).connect()),
      dispose: () => client.dispose(),
    };
  };
}
