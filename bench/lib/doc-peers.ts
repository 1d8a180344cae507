/**
 * One shape for a replica of a shared text, whatever the system: a Tandem connection editing
 * `conn.doc` directly, a HocuspocusProvider, or a y-websocket WebsocketProvider. Each peer is
 * its own client with its own WebSocket, as separate browsers would be; every system runs
 * with its defaults (presence/awareness included).
 */
import type * as Y from "yjs";
import type { ServerHandle, System } from "./harness.ts";
import { anchor } from "./modules.ts";

export interface DocPeer {
  length(): number;
  toString(): string;
  insert(index: number, text: string): void;
  /**
   * Called after every transaction of the replica (local or remote). Through
   * "afterTransaction", not "update": an "update" listener makes Yjs encode every
   * transaction, a cost the bench would add to a system that does not pay it itself.
   */
  onUpdate(listener: () => void): void;
  whenSynced(): Promise<void>;
  /** Every local edit acknowledged by the server (systems without acks: always true). */
  settled(): boolean;
  destroy(): void;
}

export type ConnectPeer = (docName: string) => DocPeer;

export async function docPeers(system: System, server: ServerHandle): Promise<ConnectPeer> {
  switch (system) {
    case "tandem":
      return tandemPeers(server);
    case "hocuspocus":
      return hocuspocusPeers(server);
    case "y-websocket":
      return yWebsocketPeers(server);
    default:
      throw new Error(`no document peers for ${system}`);
  }
}

async function tandemPeers(server: ServerHandle): Promise<ConnectPeer> {
  const { createClient, memoryStorage } = await import("../../client/index.ts");
  type DocRegistry = import("../servers/tandem.ts").DocRegistry;
  return (docName) => {
    const client = createClient<DocRegistry>(server.url, { storage: memoryStorage() });
    const conn = client.pad.getOrCreate(docName).connect();
    const text = () => conn.doc.getMap("state").get("text") as Y.Text | undefined;
    return {
      length: () => text()?.length ?? 0,
      toString: () => text()?.toString() ?? "",
      insert: (index, value) => text()!.insert(index, value),
      onUpdate(listener) {
        conn.doc.on("afterTransaction", listener);
        conn.onDoc(({ doc }) => doc.on("afterTransaction", listener));
      },
      whenSynced: () => conn.whenSynced(),
      settled: () => conn.pending === 0,
      destroy() {
        conn.dispose();
        client.dispose();
      },
    };
  };
}

async function hocuspocusPeers(server: ServerHandle): Promise<ConnectPeer> {
  const { HocuspocusProvider } = await anchor("@hocuspocus/provider");
  const Yjs = await anchor<typeof Y>("yjs");
  const { WebSocket } = await anchor("ws");
  return (docName) => {
    const doc = new Yjs.Doc();
    const provider = new HocuspocusProvider({ url: server.wsUrl, name: docName, document: doc, WebSocketPolyfill: WebSocket });
    const text = doc.getText("text");
    return {
      length: () => text.length,
      toString: () => text.toString(),
      insert: (index, value) => text.insert(index, value),
      onUpdate: (listener) => doc.on("afterTransaction", listener),
      whenSynced: () => new Promise<void>((resolve) => (provider.isSynced ? resolve() : provider.on("synced", () => resolve()))),
      settled: () => !provider.hasUnsyncedChanges,
      destroy: () => provider.destroy(),
    };
  };
}

async function yWebsocketPeers(server: ServerHandle): Promise<ConnectPeer> {
  const { WebsocketProvider } = await anchor("y-websocket");
  const Yjs = await anchor<typeof Y>("yjs");
  const { WebSocket } = await anchor("ws");
  return (docName) => {
    const doc = new Yjs.Doc();
    // disableBc: Node has BroadcastChannel, and providers of one process would otherwise
    // sync with each other around the server.
    const provider = new WebsocketProvider(server.wsUrl, docName, doc, { WebSocketPolyfill: WebSocket, disableBc: true });
    const text = doc.getText("text");
    return {
      length: () => text.length,
      toString: () => text.toString(),
      insert: (index, value) => text.insert(index, value),
      onUpdate: (listener) => doc.on("afterTransaction", listener),
      whenSynced: () =>
        new Promise<void>((resolve) => {
          if (provider.synced) return resolve();
          const onSync = (synced: boolean) => {
            if (!synced) return;
            provider.off("sync", onSync);
            resolve();
          };
          provider.on("sync", onSync);
        }),
      settled: () => true,
      destroy: () => provider.destroy(),
    };
  };
}
