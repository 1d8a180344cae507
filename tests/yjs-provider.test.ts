/**
 * Issue 15, stock Yjs providers: an unmodified y-websocket `WebsocketProvider` syncs an
 * actor's document (`doc.getMap("state")`) and its presence through `/yjs/<actor>/<key>`,
 * beside Tandem clients on the same actor, through the same authority: onAuth (params in
 * the query string), canEdit/onEdit and the edit checks, presence stamping and limits.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, Unauthorized, UserError } from "tandem";
import { waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { deniedReasons, readYjsSync, useYjsProviders, yjsBase, yjsSync } from "./support/yjs-provider.ts";

const pad = actor({
  state: { notes: new Y.Text(""), title: "untitled" },
  onAuth: ({ params }) => {
    if (params?.token !== "secret" || !params.user) throw new Unauthorized("bad token");
    return { userId: params.user, name: params.user.toUpperCase(), token: params.token };
  },
  canEdit: (c) => c.conn.auth.userId !== "viewer",
  onEdit: (c) => {
    if (c.state.notes.toString().includes("forbidden")) throw new UserError("No forbidden words", { code: "bad_word" });
  },
  actions: {
    read: (c) => ({ notes: c.state.notes.toString(), title: c.state.title }),
    setTitle: (c, title: string) => {
      c.state.title = title;
    },
  },
});

/** No canEdit: read-only for every connection. */
const board = actor({
  state: { notes: new Y.Text("posted"), count: 0 },
  actions: {
    read: (c) => ({ notes: c.state.notes.toString(), count: c.state.count }),
    increment: (c) => ++c.state.count,
  },
});

const registry = setup({ use: { pad, board } });
type R = typeof registry;

const net = useNetwork();
const yjs = useYjsProviders();

const GOOD = { token: "secret", user: "ada" } as const;
const stateOf = (doc: Y.Doc) => doc.getMap("state");
const notesOf = (doc: Y.Doc) => stateOf(doc).get("notes") as Y.Text | undefined;
type States = Map<number, Record<string, unknown>>;

describe("a stock y-websocket provider and a Tandem client on one actor", () => {
  test("edits go both ways: the provider's text edits, the client's actions and direct edits", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.pad.getOrCreate("p1", { params: { token: "secret", user: "bob" } }).connect();
    await conn.whenSynced();
    const p = yjs.provider(server.url, "pad", "p1", GOOD);
    await p.synced;
    expect(notesOf(p.doc)?.toString()).toBe("");
    expect(stateOf(p.doc).get("title")).toBe("untitled");

    // Provider → server → Tandem client.
    notesOf(p.doc)!.insert(0, "hello from yjs");
    await waitFor(() => conn.state?.notes.toString() === "hello from yjs", { what: "the provider's edit at the client" });
    expect(await client.pad.get("p1", { params: { token: "secret", user: "bob" } }).read()).toEqual({ notes: "hello from yjs", title: "untitled" });

    // Tandem action → provider.
    await conn.setTitle("agenda");
    await waitFor(() => stateOf(p.doc).get("title") === "agenda", { what: "the action's write at the provider" });

    // Tandem direct edit → provider.
    (conn.doc.getMap("state").get("notes") as Y.Text).insert(0, "> ");
    await waitFor(() => notesOf(p.doc)?.toString() === "> hello from yjs", { what: "the client's direct edit at the provider" });
  });

  test("changes a provider made before it connected reach the actor (it is asked with sync step 1)", async () => {
    const server = await net.server(registry);
    const doc = new Y.Doc();
    // A provider's document that already holds the actor's shape plus its own offline writes.
    const first = yjs.provider(server.url, "pad", "p2", GOOD, doc);
    await first.synced;
    first.provider.disconnect();
    notesOf(doc)!.insert(0, "written offline");
    first.provider.connect();
    await waitFor(async () => (await server.client.pad.get("p2").read()).notes === "written offline", { what: "the offline edit on the server" });
  });

  test("onEdit and the edit checks judge a provider's writes: a refused write closes it with the reason", async () => {
    const server = await net.server(registry);
    const p = yjs.provider(server.url, "pad", "p3", GOOD);
    await p.synced;
    notesOf(p.doc)!.insert(0, "forbidden");
    const closed = await p.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toContain("bad_word");
    expect((await server.client.pad.get("p3").read()).notes).toBe("");

    // Writing outside the state root is refused by the edit check.
    const q = yjs.provider(server.url, "pad", "p3", GOOD);
    await q.synced;
    q.doc.getText("elsewhere").insert(0, "x");
    expect((await q.closed).code).toBe(4400);
  });

  test("presence goes both ways, stamped with the identity from onAuth (a claimed user is overwritten)", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.pad.getOrCreate("p4", { params: { token: "secret", user: "bob" } }).connect();
    await conn.whenSynced();
    const p = yjs.provider(server.url, "pad", "p4", GOOD);
    await p.synced;

    p.provider.awareness.setLocalState({ cursor: 3, user: { name: "admin" } });
    const yjsId = p.doc.clientID;
    await waitFor(() => (conn.awareness.getStates() as States).get(yjsId)?.cursor === 3, { what: "the provider's cursor at the client" });
    expect((conn.awareness.getStates() as States).get(yjsId)).toEqual({ cursor: 3, user: { userId: "ada", name: "ADA" } });

    conn.awareness.setLocalState({ cursor: 9 });
    const tandemId = conn.awareness.clientID;
    await waitFor(() => (p.provider.awareness.getStates() as States).get(tandemId)?.cursor === 9, { what: "the client's cursor at the provider" });
    expect((p.provider.awareness.getStates() as States).get(tandemId)?.user).toEqual({ userId: "bob", name: "BOB" });

    // A provider that leaves is removed from the others' presence; one that comes back as the same user gets its id back.
    p.provider.disconnect();
    await waitFor(() => !(conn.awareness.getStates() as States).has(yjsId), { what: "the provider's state removed" });
    p.provider.connect();
    await waitFor(() => (conn.awareness.getStates() as States).get(yjsId)?.cursor === 3, { what: "the provider's state back after a reconnect" });
  });

  test("a read-only actor refuses a provider's writes: the provider syncs, then is closed 4403 on its first write", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.board.getOrCreate("b1").connect();
    await conn.whenSynced();
    const p = yjs.provider(server.url, "board", "b1");
    const denied = deniedReasons(p.provider);
    await p.synced;
    expect(notesOf(p.doc)?.toString()).toBe("posted");
    // Reading goes on: the actor's changes reach it.
    await conn.increment();
    await waitFor(() => stateOf(p.doc).get("count") === 1, { what: "the action's write at the read-only provider" });

    notesOf(p.doc)!.insert(0, "vandal ");
    const closed = await p.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toContain("forbidden");
    expect(denied).toHaveLength(1);
    expect(denied[0]).toContain("forbidden");
    expect(p.provider.shouldConnect).toBe(false);
    expect((await server.client.board.get("b1").read()).notes).toBe("posted");
    expect(conn.state?.notes.toString()).toBe("posted");
  });

  test("onAuth refuses a bad token: closed 4401, nothing synced; canEdit false (a viewer) is refused 4403 on write", async () => {
    const server = await net.server(registry);
    await server.client.pad.getOrCreate("p5").setTitle("private");
    const bad = yjs.provider(server.url, "pad", "p5", { token: "wrong", user: "eve" });
    const closed = await bad.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toContain("bad token");
    expect(stateOf(bad.doc).get("title")).toBeUndefined();

    const viewer = yjs.provider(server.url, "pad", "p5", { token: "secret", user: "viewer" });
    await viewer.synced;
    expect(stateOf(viewer.doc).get("title")).toBe("private");
    notesOf(viewer.doc)!.insert(0, "x");
    expect((await viewer.closed).code).toBe(4403);
    expect((await server.client.pad.get("p5").read()).notes).toBe("");
  });

  test("server.revoke closes a provider's socket like a Tandem channel", async () => {
    const server = await net.server(registry);
    const p = yjs.provider(server.url, "pad", "p6", GOOD);
    await p.synced;
    expect(server.revoke({ actor: "pad", where: (auth) => (auth as { userId: string }).userId === "ada" })).toBe(1);
    expect((await p.closed).code).toBe(4401);
  });

  test("an update that depends on changes still on their way (another tab's) waits for the provider's step 2; content refused again in step 2 closes", async () => {
    const server = await net.server(registry);
    await server.client.pad.getOrCreate("p7").setTitle("t");
    const socket = yjs.raw(`${yjsBase(server.url, "pad")}/p7?token=secret&user=ada`);
    await socket.opened;
    const syncs = (step: number, from = 0) => socket.messages.slice(from).map(readYjsSync).filter((m) => m !== null && m.step === step);
    socket.ws.send(yjsSync(0, new Uint8Array([0])));
    // The server sends its state (step 2) and asks for what it lacks (step 1).
    await waitFor(() => syncs(0).length > 0 && syncs(1).length > 0, { what: "the server's step 1 and step 2" });
    const doc = new Y.Doc();
    Y.applyUpdate(doc, syncs(1)[0]!.data);
    const notes = doc.getMap("state").get("notes") as Y.Text;
    const serverVector = syncs(0)[0]!.data;
    // Another tab's change, shared with this one (a BroadcastChannel) but not at the server yet...
    const tab = new Y.Doc();
    Y.applyUpdate(tab, Y.encodeStateAsUpdate(doc));
    (tab.getMap("state").get("notes") as Y.Text).insert(0, "first ");
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(tab, Y.encodeStateVector(doc)));
    const middle = Y.encodeStateVector(doc);
    // ...and this tab's change right after it: sent alone, it refers to an item the actor lacks.
    notes.insert(6, "second");
    socket.ws.send(yjsSync(2, Y.encodeStateAsUpdate(doc, middle)));
    // The answer to the server's step 1: all it lacks.
    socket.ws.send(yjsSync(1, Y.encodeStateAsUpdate(doc, serverVector)));
    await waitFor(async () => (await server.client.pad.get("p7").read()).notes === "first second", { what: "both changes on the server" });

    // Writing outside the state: refused, asked again with step 1, refused again in step 2: closed.
    const asked = socket.messages.length;
    const beforeBad = Y.encodeStateVector(doc);
    doc.getText("elsewhere").insert(0, "x");
    socket.ws.send(yjsSync(2, Y.encodeStateAsUpdate(doc, beforeBad)));
    await waitFor(() => syncs(0, asked).length > 0, { what: "step 1 asked again" });
    socket.ws.send(yjsSync(1, Y.encodeStateAsUpdate(doc, syncs(0, asked)[0]!.data)));
    const closed = await socket.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toContain("outside the state");
    expect((await server.client.pad.get("p7").read()).notes).toBe("first second");
  });

  test("keys: the room is the key, its parts URI-encoded and joined by /", async () => {
    const server = await net.server(registry);
    const p = yjs.provider(server.url, "pad", `${encodeURIComponent("org/1")}/${encodeURIComponent("lobby")}`, GOOD);
    await p.synced;
    notesOf(p.doc)!.insert(0, "compound");
    await waitFor(async () => (await server.client.pad.get(["org/1", "lobby"]).read()).notes === "compound", { what: "the write under the compound key" });
  });
});
