/**
 * Issue 12 (item 4): a hello carries no credentials, so leader-tab fencing is per identity.
 * A forged hello with a browser's client id and a high epoch — unauthenticated, or
 * authenticated as someone else — neither disconnects that browser nor locks it out; and a
 * browser superseded by a socket of its own identity recovers once that socket is gone.
 */
import { describe, expect, test } from "vitest";
import { actor, setup } from "tandem";
import { type ClientStorage, memoryStorage } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { CloseCode, Kind, PROTOCOL_VERSION } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { FakeLocks, FakeTab } from "./support/tabs.ts";

const board = actor({
  state: { n: 0 },
  onAuth: ({ params }) => ({ userId: String((params as { user?: unknown }).user ?? "anon") }),
  actions: { inc: (c) => ++c.state.n },
});
const registry = setup({ use: { board } });
type R = typeof registry;

const net = useNetwork();
let stores = 0;
const sharedStorage = (): ClientStorage => ({ ...memoryStorage(), shared: `leader-fencing-${process.pid}-${++stores}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function victim(url: string) {
  const tab = new FakeTab("victim", new FakeLocks());
  const client = net.client<R>(url, { storage: sharedStorage(), multiTab: tab.multiTab, socketFactory: tab.socketFactory });
  await client.ready;
  const conn = client.board.getOrCreate("b", { params: { user: "vic" } }).connect();
  await conn.whenSynced();
  const closes: number[] = [];
  conn.onStatus((status) => {
    if (status !== "synced") closes.push(Date.now());
  });
  return { client, conn, closes };
}

async function forged(url: string, clientId: string, epoch: number, user?: string) {
  const socket = await net.raw(url);
  socket.send({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId, epoch });
  await socket.next(Kind.welcome);
  if (user !== undefined) {
    socket.send({ kind: Kind.subscribe, channel: 1, name: "board", target: { by: "key", mode: "get", key: ["b"] }, params: { user }, stateVector: new Uint8Array() });
    await socket.next(Kind.subscribed);
  }
  return socket;
}

describe("leader fencing is per identity", () => {
  test("a forged hello with a high epoch, unauthenticated or as another user, does not disconnect the browser", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const { client, conn, closes } = await victim(server.url);
    const bare = await forged(server.url, client.clientId, 1_000_000);
    const other = await forged(server.url, client.clientId, 2_000_000, "mallory");
    await sleep(200);
    expect(closes).toEqual([]);
    expect(conn.status).toBe("synced");
    expect(await conn.inc()).toBe(1);
    expect(bare.closeInfo).toBeNull();
    expect(other.closeInfo).toBeNull(); // another identity under the same client id is not fenced either
  });

  test("a browser superseded by a socket of its own identity keeps trying and recovers once that socket is gone", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const { client, conn, closes } = await victim(server.url);
    const newer = await forged(server.url, client.clientId, 1_000_000, "vic");
    await sleep(100);
    expect(closes.length).toBeGreaterThan(0); // superseded: fenced like a stale leader tab
    expect(conn.status).not.toBe("synced");
    const pending = conn.inc();
    await newer.close();
    expect(await pending).toBe(1);
    await conn.whenSynced();
    expect(newer.closeInfo?.code).not.toBe(CloseCode.superseded);
  });
});
