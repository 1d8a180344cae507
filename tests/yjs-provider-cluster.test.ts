/**
 * Issue 15 with issue 14: a stock y-websocket provider on a node that does not own the actor.
 * Its channel is relayed to the owner as Tandem frames (the y-websocket dialect stays at the
 * edge): edits both ways, presence both ways (the provider's echoes dropped at the edge, so
 * the owner's presence never sees them), read-only refusal, onAuth on the owner.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, Unauthorized } from "tandem";
import { waitFor } from "./seed-helpers.ts";
import { memoryCluster } from "./support/memory-cluster.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { useYjsProviders } from "./support/yjs-provider.ts";

const pad = actor({
  state: { notes: new Y.Text("") },
  onAuth: ({ params }) => {
    if (params.token !== "ok") throw new Unauthorized("bad token");
    return { userId: String(params.user) };
  },
  canEdit: (c) => c.conn.auth.userId !== "viewer",
  actions: { read: (c) => c.state.notes.toString() },
});

const registry = setup({ use: { pad } });
type R = typeof registry;
type States = Map<number, Record<string, unknown>>;

const net = useNetwork();
const yjs = useYjsProviders();

describe("a provider on a node that does not own the actor", () => {
  test("is relayed to the owner: edits and presence both ways with a Tandem client on the owner; a viewer is refused 4403; a bad token 4401", async () => {
    const cluster = memoryCluster({ leaseMs: 1000 });
    const a = await net.server(registry, { driver: cluster.node("A") });
    const b = await net.server(registry, { driver: cluster.node("B") });
    await a.client.pad.getOrCreate("p").read();
    const id = await a.client.pad.get("p").resolve();
    expect(cluster.ownerOf(id)).toBe("A");

    const conn = net.client<R>(a.url).pad.get("p", { params: { token: "ok", user: "bob" } }).connect();
    await conn.whenSynced();
    const p = yjs.provider(b.url, "pad", "p", { token: "ok", user: "ada" });
    await p.synced;
    expect(b.runtime.loaded.has(id)).toBe(false); // served by A only

    const notes = p.doc.getMap("state").get("notes") as Y.Text;
    notes.insert(0, "from the provider");
    await waitFor(() => conn.state?.notes.toString() === "from the provider", { what: "the provider's edit at the client" });
    (conn.doc.getMap("state").get("notes") as Y.Text).insert(0, "> ");
    await waitFor(() => notes.toString() === "> from the provider", { what: "the client's edit at the provider" });

    p.provider.awareness.setLocalState({ cursor: 4 });
    await waitFor(() => (conn.awareness.getStates() as States).get(p.doc.clientID)?.cursor === 4, { what: "the provider's cursor" });
    expect((conn.awareness.getStates() as States).get(p.doc.clientID)?.user).toEqual({ userId: "ada" });
    conn.awareness.setLocalState({ cursor: 8 });
    await waitFor(() => (p.provider.awareness.getStates() as States).get(conn.awareness.clientID)?.cursor === 8, { what: "the client's cursor" });
    // The provider echoed the client's state back through the relay: dropped at the edge, so it is still open and counted once.
    conn.awareness.setLocalStateField("cursor", 9);
    await waitFor(() => (p.provider.awareness.getStates() as States).get(conn.awareness.clientID)?.cursor === 9, { what: "the moved cursor" });
    expect(p.provider.wsconnected).toBe(true);

    const viewer = yjs.provider(b.url, "pad", "p", { token: "ok", user: "viewer" });
    await viewer.synced;
    (viewer.doc.getMap("state").get("notes") as Y.Text).insert(0, "x");
    expect((await viewer.closed).code).toBe(4403);
    const bad = yjs.provider(b.url, "pad", "p", { token: "no", user: "eve" });
    expect((await bad.closed).code).toBe(4401);
    expect(await a.client.pad.get("p").read()).toBe("> from the provider");
  });
});
