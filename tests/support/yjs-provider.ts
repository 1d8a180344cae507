/**
 * Stock y-websocket providers against a test server (`/yjs/<actorName>/<key>`), and raw
 * sockets to the same endpoint for tests that send what no provider would. Everything
 * opened here is closed by the afterEach `useYjsProviders()` registers.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { afterEach } from "vitest";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export interface TestProvider {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  /** Resolves when the provider synced for the first time. */
  readonly synced: Promise<void>;
  /** Resolves when the server closed it for good (a 44xx close: the provider stops reconnecting). */
  readonly closed: Promise<Closed>;
}

/** The ws:// base a provider is built with for an actor kind. */
export function yjsBase(serverUrl: string, actorName: string): string {
  return `${serverUrl.replace(/^http/, "ws").replace(/\/$/, "")}/yjs/${actorName}`;
}

/** A raw socket to the y-websocket endpoint: messages kept, the close recorded. */
export class RawYjsSocket {
  readonly messages: Uint8Array[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.on("message", (data: ArrayBuffer) => this.messages.push(new Uint8Array(data)));
    ws.on("error", () => {});
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_request, response) => {
        reject(Object.assign(new Error(`upgrade refused with ${response.statusCode}`), { status: response.statusCode }));
        ws.terminate();
      });
    });
  }
}

export function useYjsProviders(): {
  provider(serverUrl: string, actorName: string, room: string, params?: Record<string, string>, doc?: Y.Doc): TestProvider;
  raw(url: string): RawYjsSocket;
} {
  const providers: WebsocketProvider[] = [];
  const raws: WebSocket[] = [];
  afterEach(() => {
    for (const provider of providers.splice(0)) provider.destroy();
    for (const ws of raws.splice(0)) ws.terminate();
  });
  return {
    provider(serverUrl, actorName, room, params = {}, doc = new Y.Doc()) {
      const provider = new WebsocketProvider(yjsBase(serverUrl, actorName), room, doc, {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        params,
        disableBc: true,
        maxBackoffTime: 200,
      });
      providers.push(provider);
      const synced = new Promise<void>((resolve) => {
        if (provider.synced) resolve();
        else provider.once("sync", (state: boolean) => state && resolve());
      });
      const closed = new Promise<Closed>((resolve) => provider.once("closed", (event: Closed) => resolve(event)));
      return { doc, provider, synced, closed };
    },
    raw(url) {
      const ws = new WebSocket(url);
      raws.push(ws);
      return new RawYjsSocket(ws);
    },
  };
}

/** A y-websocket sync message by hand: step 0 (step 1, a state vector), 1 (step 2) or 2 (update), then its data. */
export function yjsSync(step: 0 | 1 | 2, data: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, step);
  encoding.writeVarUint8Array(encoder, data);
  return encoding.toUint8Array(encoder);
}

/** A y-websocket awareness message by hand, around an awareness update. */
export function yjsAwareness(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** A y-websocket sync message's step and data (null: not a sync message). */
export function readYjsSync(message: Uint8Array): { step: number; data: Uint8Array } | null {
  const decoder = decoding.createDecoder(message);
  if (decoding.readVarUint(decoder) !== 0) return null;
  const step = decoding.readVarUint(decoder);
  return { step, data: decoding.readVarUint8Array(decoder) };
}

/** Records the reasons of y-protocols "permission denied" messages a provider gets (instead of its console.warn). */
export function deniedReasons(provider: WebsocketProvider): string[] {
  const reasons: string[] = [];
  provider.messageHandlers[2] = (_encoder, decoder) => {
    decoding.readVarUint(decoder); // permission denied
    reasons.push(decoding.readVarString(decoder));
  };
  return reasons;
}
