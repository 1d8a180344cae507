/**
 * The cluster layer over an in-process shared store (tests/support/memory-cluster.ts): two
 * server nodes, clients on either. A channel for an actor owned by the other node is relayed
 * to it (actions, state, events, presence, direct edits, re-auth, unsubscribe); HTTP calls
 * are forwarded; a lost link or a lost lease sends clients to the new owner; peers' headers
 * from a client are worthless.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, Unauthorized } from "tandem";
import type { TandemServer } from "tandem/server";
import type { InlineClient } from "../shared/client-types.ts";
import { sleep, waitFor, within } from "./seed-helpers.ts";
import { memoryCluster } from "./support/memory-cluster.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { upgradeStatus } from "./support/upgrade-request.ts";

const room = actor({
  state: { items: [] as string[], text: new Y.Text("") },
  onAuth: ({ params, request }) => {
    if (params.token !== "ok") throw new Unauthorized("bad token");
    return { userId: String(params.user ?? "anon"), ip: request?.ip ?? null, peerHeader: request?.headers.get("x-tandem-peer") ?? null };
  },
  canEdit: () => true,
  actions: {
    add: (c, item: string) => {
      c.state.items.push(item);
      c.broadcast("added", { item });
      return c.state.items.length;
    },
    whoAmI: (c) => c.conn.auth,
    items: (c) => [...c.state.items],
    bytes: (_c, n: number) => new Uint8Array([n, n + 1]),
  },
});

/** Calls another actor through c.client() (the call chain goes with it across nodes). */
const relay = actor({
  state: { calls: 0 },
  actions: {
    addTo: async (c, key: string, item: string) => {
      c.state.calls++;
      return (c.client() as Client).room.getOrCreate(key).add(item);
    },
    /** relay → other relay → back to this one: waits for itself, refused on any node. */
    bounce: async (c, other: string, back: string) => (c.client() as Client).relay.getOrCreate(other).callBack(back),
    callBack: async (c, back: string) => (c.client() as Client).relay.getOrCreate(back).ping(),
    ping: () => "pong",
  },
});

const registry = setup({ use: { room, relay } });
type Client = InlineClient<typeof registry>;
type R = typeof registry;
const params = { token: "ok", user: "ada" };

const net = useNetwork();

async function twoNodes(leaseMs = 1000) {
  const cluster = memoryCluster({ leaseMs });
  const a = await net.server(registry, { driver: cluster.node("A") });
  const b = await net.server(registry, { driver: cluster.node("B") });
  return { cluster, a, b };
}

async function ownedBy(server: TandemServer<R>, key: string) {
  await server.client.room.getOrCreate(key).items();
}

describe("relayed channels", () => {
  test("a client on B uses an actor owned by A: actions, state, events, edits, presence both ways", async () => {
    const { cluster, a, b } = await twoNodes();
    await ownedBy(a, "r1");
    const id = await a.client.room.get("r1").resolve();
    expect(cluster.ownerOf(id)).toBe("A");

    const onB = net.client<R>(b.url).room.get("r1", { params }).connect();
    const onA = net.client<R>(a.url).room.get("r1", { params: { token: "ok", user: "bob" } }).connect();
    await within(Promise.all([onB.whenSynced(), onA.whenSynced()]), 3000, "both synced");
    expect(b.runtime.loaded.has(id)).toBe(false); // served by A only

    const events: string[] = [];
    onA.on("added", (e) => events.push((e as { item: string }).item));
    expect(await onB.add("from-b")).toBe(1);
    expect(await onA.add("from-a")).toBe(2);
    await waitFor(() => onB.state?.items.length === 2 && events.length === 2, { what: "both see both" });
    expect(onB.state?.items).toEqual(["from-b", "from-a"]);
    expect(events).toEqual(["from-b", "from-a"]);

    // The owner ran onAuth with the client's own request: its address, never the peer's secret.
    const who = (await onB.whoAmI()) as { userId: string; ip: string; peerHeader: string | null };
    expect(who.userId).toBe("ada");
    expect(who.ip).toBe("127.0.0.1");
    expect(who.peerHeader).toBeNull();

    // Direct edits through the relay.
    (onB.doc.getMap("state").get("text") as Y.Text).insert(0, "hi");
    await waitFor(() => (onA.doc.getMap("state").get("text") as Y.Text).toString() === "hi", { what: "edit relayed" });

    // Presence both ways, stamped by the owner with the identity onAuth gave.
    onB.awareness.setLocalState({ cursor: 1 });
    onA.awareness.setLocalState({ cursor: 2 });
    const states = (conn: typeof onA, id: number) => conn.awareness.getStates().get(id) as { cursor?: number; user?: { userId: string } } | undefined;
    await waitFor(() => states(onA, onB.awareness.clientID)?.cursor === 1 && states(onB, onA.awareness.clientID)?.cursor === 2, { what: "presence both ways" });
    expect(states(onA, onB.awareness.clientID)?.user).toMatchObject({ userId: "ada" });
    expect(await a.client.room.get("r1").items()).toEqual(["from-b", "from-a"]);
  });

  test("onAuth refusals come back through the relay; an unknown actor too", async () => {
    const { a, b } = await twoNodes();
    await ownedBy(a, "r2");
    const bad = net.client<R>(b.url).room.get("r2", { params: { token: "no" } }).connect();
    await expect(within(bad.whenSynced(), 3000, "refused")).rejects.toMatchObject({ code: "unauthorized" });
    const missing = net.client<R>(b.url).room.get("nobody", { params }).connect();
    await expect(within(missing.whenSynced(), 3000, "missing")).rejects.toMatchObject({ code: "actor_not_found" });
  });

  test("the owner closing: relayed clients come back through B to the next owner, nothing acked lost", async () => {
    const { cluster, a, b } = await twoNodes(300);
    await ownedBy(a, "r3");
    const conn = net.client<R>(b.url).room.get("r3", { params }).connect();
    await within(conn.whenSynced(), 3000, "synced");
    expect(await conn.add("one")).toBe(1);
    await net.closeServer(a); // releases its leases on the way out
    expect(await within(conn.add("two"), 5000, "after the owner left")).toBe(2);
    const id = await b.client.room.get("r3").resolve();
    expect(cluster.ownerOf(id)).toBe("B");
    expect(conn.state?.items).toEqual(["one", "two"]);
  });

  test("HTTP calls on B are forwarded to the owner A (with onAuth on A, the client's address)", async () => {
    const { a, b } = await twoNodes();
    await ownedBy(a, "h1");
    const call = (base: string, action: string, args: unknown[]) =>
      fetch(`${base}/actors/room/actions/${action}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: ["h1"], params, args }) });
    const response = await call(b.url, "add", ["x"]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: 1 });
    const who = await (await call(b.url, "whoAmI", [])).json();
    expect(who.result).toMatchObject({ userId: "ada", ip: "127.0.0.1", peerHeader: null });
    const refused = await fetch(`${b.url}/actors/room/actions/add`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: ["h1"], params: { token: "no" }, args: ["y"] }) });
    expect(refused.status).toBe(401);
    expect(b.runtime.loaded.size).toBe(0);
    expect(await a.client.room.get("h1").items()).toEqual(["x"]);
  });

  test("a client's forged peer headers are ignored: it keeps its own address and is relayed as any client", async () => {
    const { a, b } = await twoNodes();
    await ownedBy(a, "f1");
    const response = await fetch(`${b.url}/actors/room/actions/whoAmI`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tandem-peer": "guess", "x-tandem-forwarded-for": "10.9.9.9" },
      body: JSON.stringify({ key: ["f1"], params, args: [] }),
    });
    expect((await response.json()).result).toMatchObject({ ip: "127.0.0.1", peerHeader: null });
  });
});

describe("links between nodes", () => {
  test("a link to the owner that goes silent (no close) is dropped by its heartbeat; once the path heals the action is applied once", async () => {
    const cluster = memoryCluster({ leaseMs: 1000 });
    const proxy = await net.proxy(1); // its target is set once A listens
    const a = await net.server(registry, { driver: cluster.node("A"), cluster: { advertiseUrl: proxy.url } });
    proxy.targetPort = a.port;
    const b = await net.server(registry, { driver: cluster.node("B"), limits: { heartbeatMs: 100, deadAfterMs: 300 } });
    await ownedBy(a, "silent");
    const conn = net.client<R>(b.url).room.get("silent", { params }).connect();
    await within(conn.whenSynced(), 3000, "synced through the link");
    expect(await conn.add("before")).toBe(1);

    proxy.blackhole(); // the path from B to A stops passing bytes, nothing closes
    const during = conn.add("during");
    await waitFor(() => conn.status !== "synced", { what: "the channel noticed the silent link", timeoutMs: 3000 });
    proxy.restore();
    expect(await within(during, 8000, "the action after the path healed")).toBe(2);
    expect(await a.client.room.get("silent").items()).toEqual(["before", "during"]);
  });

  test("a client's forged peer headers on its WebSocket are ignored: no origin bypass, its own address", async () => {
    const { a, b } = await twoNodes();
    await ownedBy(a, "forged");
    expect(await upgradeStatus(b.url, "/connect", { Origin: "http://evil.example", "x-tandem-peer": "memory-cluster-secrex", "x-tandem-forwarded-for": "10.1.1.1" })).toBe(403);
    const conn = net.client<R>(b.url).room.get("forged", { params }).connect();
    await within(conn.whenSynced(), 3000, "synced");
    expect(((await conn.whoAmI()) as { ip: string }).ip).toBe("127.0.0.1");
  });
});

describe("following the clients", () => {
  test("an actor whose clients are all on another node moves there; its clients keep going; clients on both nodes keep it put", async () => {
    const cluster = memoryCluster({ leaseMs: 1000 });
    const follow = { followClientsMs: 100 };
    const a = await net.server(registry, { driver: cluster.node("A"), cluster: follow });
    const b = await net.server(registry, { driver: cluster.node("B"), cluster: follow });
    await a.client.room.getOrCreate("follow").items();
    await a.client.room.getOrCreate("mixed").items();
    const id = await a.client.room.get("follow").resolve();
    const mixedId = await a.client.room.get("mixed").resolve();

    const onB = net.client<R>(b.url).room.get("follow", { params }).connect();
    const mixedOnB = net.client<R>(b.url).room.get("mixed", { params }).connect();
    const mixedOnA = net.client<R>(a.url).room.get("mixed", { params }).connect();
    await within(Promise.all([onB.whenSynced(), mixedOnB.whenSynced(), mixedOnA.whenSynced()]), 3000, "synced");
    expect(await onB.add("before")).toBe(1);

    await waitFor(() => cluster.ownerOf(id) === "B" && b.runtime.loaded.has(id), { what: "the actor moved to B", timeoutMs: 5000 });
    expect(await within(onB.add("after"), 5000, "an action after the move")).toBe(2);
    expect(onB.state?.items).toEqual(["before", "after"]);
    expect(a.runtime.loaded.has(id)).toBe(false);

    await sleep(500); // several checks
    expect(cluster.ownerOf(mixedId)).toBe("A");
    expect(await mixedOnB.add("x")).toBe(1);
  });
});

describe("inline calls (server.client, c.client()) across nodes", () => {
  test("server.client on B calls, resolves and creates actors owned by A; values keep their types", async () => {
    const { cluster, a, b } = await twoNodes();
    await ownedBy(a, "i1");
    expect(await b.client.room.get("i1").add("via-b")).toBe(1);
    expect(await b.client.room.get("i1").bytes(7)).toEqual(new Uint8Array([7, 8]));
    const id = await b.client.room.get("i1").resolve();
    expect(id).toBe(await a.client.room.get("i1").resolve());
    expect(cluster.ownerOf(id)).toBe("A");
    expect(b.runtime.loaded.has(id)).toBe(false);
    await expect((b.client.room.get("i1") as unknown as { nope(): Promise<unknown> }).nope()).rejects.toMatchObject({ code: "action_not_found" });
    // A connection over the network works from any node; an inline one only on the owner's.
    const live = b.client.room.get("i1").connect();
    await expect(live.whenSynced()).rejects.toMatchObject({ code: "actor_stopped" });
    await live.dispose();
  });

  test("c.client() in an actor on A reaches an actor on B; a call that would wait for itself is refused across nodes too", async () => {
    const { a, b } = await twoNodes();
    await b.client.room.getOrCreate("target").items(); // owned by B
    expect(await a.client.relay.getOrCreate("r").addTo("target", "x")).toBe(1);
    expect(await b.client.room.get("target").items()).toEqual(["x"]);
    await b.client.relay.getOrCreate("other").ping(); // "other" lives on B
    await expect(a.client.relay.getOrCreate("home").bounce("other", "home")).rejects.toMatchObject({ code: "internal_error" });
  });

  test("the peer endpoint answers nobody but a peer", async () => {
    const { a } = await twoNodes();
    const response = await fetch(`${a.url}/_tandem/peer/call`, { method: "POST", headers: { "content-type": "application/octet-stream", "x-tandem-peer": "guess" }, body: new Uint8Array([1]) });
    expect(response.status).toBe(404);
  });
});

describe("leases", () => {
  test("an actor whose lease moved stops at once; its clients follow it to the new owner", async () => {
    const { cluster, a, b } = await twoNodes(300);
    await ownedBy(a, "l1");
    const id = await a.client.room.get("l1").resolve();
    const conn = net.client<R>(a.url).room.get("l1", { params }).connect();
    await within(conn.whenSynced(), 3000, "synced");
    // B takes the actor over as if A had paused past its lease: A's next renewal finds it lost.
    const instance = a.runtime.loaded.get(id)!;
    (instance.lease as { token: number }).token = -1; // A's renewal now reports the lease lost
    await waitFor(() => !a.runtime.loaded.has(id), { what: "A stopped the actor", timeoutMs: 3000 });
    expect(await within(conn.add("after"), 5000, "served again")).toBe(1);
    expect(cluster.ownerOf(id)).not.toBeNull();
    void b;
  });
});
