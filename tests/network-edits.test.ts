/**
 * Direct edits of `conn.doc` (editor bindings): refused without `canEdit` (the replica goes
 * back, the app hears what was discarded, nobody else sees it); accepted with `canEdit`,
 * reaching other clients and storage; rejected when `onEdit` throws.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, Unauthorized, UserError, type TandemError } from "tandem";
import { memoryDriver } from "tandem/server";
import type { DiscardedEdits } from "tandem/client";
import { sleep, useServers, waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const locked = actor({
  state: { notes: new Y.Text("server"), count: 0 },
  actions: {
    read: (c) => ({ notes: c.state.notes.toString(), count: c.state.count }),
    increment: (c) => ++c.state.count,
  },
});

const pad = actor({
  state: { notes: new Y.Text(""), title: "untitled" },
  onAuth: ({ params }) => {
    if (!params.user) throw new Unauthorized();
    return { userId: params.user };
  },
  canEdit: (c) => c.conn.auth.userId !== "viewer",
  onEdit: (c) => {
    const text = c.state.notes.toString();
    if (text.includes("forbidden")) throw new UserError("No forbidden words", { code: "bad_word" });
    if (text.includes("crash")) throw new Error("an onEdit bug");
    if (c.state.title.length > 20) throw new UserError("Title too long", { code: "too_long" });
  },
  actions: {
    read: (c) => ({ notes: c.state.notes.toString(), title: c.state.title }),
  },
});

const registry = setup({ use: { locked, pad } });
type R = typeof registry;

const net = useNetwork();
const start = useServers();

const notesOf = (doc: Y.Doc) => (doc.getMap("state").get("notes") as Y.Text).toString();
const textOf = (doc: Y.Doc) => doc.getMap("state").get("notes") as Y.Text;

/** Records onDoc and onError of a connection. */
function watch(conn: { onDoc(l: (e: { doc: Y.Doc; discarded: DiscardedEdits }) => void): () => void; onError(l: (e: TandemError) => void): () => void }) {
  const docs: { doc: Y.Doc; discarded: DiscardedEdits }[] = [];
  const errors: TandemError[] = [];
  conn.onDoc((event) => docs.push(event));
  conn.onError((error) => errors.push(error));
  return { docs, errors };
}

describe("without canEdit", () => {
  test("an edit of conn.doc is refused: the replica goes back, onDoc and onError say why", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.locked.getOrCreate("l").connect();
    const cb = b.locked.getOrCreate("l").connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    expect(ca.canEdit).toBe(false);
    const seen = watch(ca);
    const before = ca.doc;
    textOf(before).insert(0, "local ");
    before.getMap("state").set("count", 99);
    await waitFor(() => seen.docs.length >= 1, { what: "onDoc" });
    const { doc, discarded } = seen.docs.at(-1)!;
    expect(doc).toBe(ca.doc);
    expect(doc).not.toBe(before);
    expect(discarded.error.code).toBe("forbidden");
    expect(discarded.updates.length).toBeGreaterThanOrEqual(1);
    expect(seen.errors.map((e) => e.code)).toContain("forbidden");
    // The replica is the server's state again.
    expect(notesOf(ca.doc)).toBe("server");
    expect(ca.state?.count).toBe(0);
    expect(ca.pending).toBe(0);
    // Nobody else saw it, and the server has nothing of it.
    expect(await a.locked.get("l").read()).toEqual({ notes: "server", count: 0 });
    await cb.increment(); // a barrier: anything the server relayed would have arrived by now
    await waitFor(() => ca.state?.count === 1, { what: "the replica to follow the server" });
    expect(notesOf(cb.doc)).toBe("server");
    expect(notesOf(ca.doc)).toBe("server");
    expect(cb.state?.count).toBe(1);
  });
});

describe("with canEdit", () => {
  test("edits of a Y.Text reach the other client and persist", async () => {
    const driver = memoryDriver();
    const server = await net.server(registry, { driver });
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.pad.getOrCreate("p", { params: { user: "ada" } }).connect();
    const cb = b.pad.getOrCreate("p", { params: { user: "bob" } }).connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    expect(ca.canEdit).toBe(true);
    const seen = watch(ca);
    textOf(ca.doc).insert(0, "hello");
    expect(ca.pending).toBe(1);
    await waitFor(() => notesOf(cb.doc) === "hello", { what: "the edit at the other client" });
    await waitFor(() => ca.pending === 0, { what: "the edit to be accepted" });
    // Both edit at once: they converge.
    textOf(ca.doc).insert(5, " world");
    textOf(cb.doc).insert(0, ">> ");
    cb.doc.getMap("state").set("title", "notes");
    await waitFor(() => notesOf(ca.doc) === notesOf(cb.doc) && notesOf(ca.doc).length === 14, { what: "convergence" });
    expect(notesOf(ca.doc)).toBe(">> hello world");
    await waitFor(() => ca.pending === 0 && cb.pending === 0, { what: "every edit answered" });
    expect(ca.state?.title).toBe("notes");
    expect(seen.docs).toEqual([]);
    expect(seen.errors).toEqual([]);
    expect(await a.pad.get("p", { params: { user: "ada" } }).read()).toEqual({ notes: ">> hello world", title: "notes" });

    // A second server over the same driver has them.
    await net.closeServer(server);
    const second = start(registry, { driver });
    expect(await second.client.pad.get("p").read()).toEqual({ notes: ">> hello world", title: "notes" });
  });

  test("canEdit decides per connection: a viewer's edits are refused", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const editor = client.pad.getOrCreate("p", { params: { user: "ada" } }).connect();
    const viewer = client.pad.getOrCreate("p", { params: { user: "viewer" } }).connect();
    await Promise.all([editor.whenSynced(), viewer.whenSynced()]);
    expect(editor.canEdit).toBe(true);
    expect(viewer.canEdit).toBe(false);
    const seen = watch(viewer);
    textOf(viewer.doc).insert(0, "sneaky");
    await waitFor(() => seen.docs.length === 1, { what: "onDoc" });
    expect(seen.docs[0]!.discarded.error.code).toBe("forbidden");
    expect(notesOf(viewer.doc)).toBe("");
    textOf(editor.doc).insert(0, "fine");
    await waitFor(() => notesOf(viewer.doc) === "fine", { what: "the editor's edit at the viewer" });
    expect(await client.pad.get("p", { params: { user: "x" } }).read()).toMatchObject({ notes: "fine" });
  });

  test("an onEdit hook that throws rejects the edit: the editor hears it, nothing changes", async () => {
    const server = await net.server(registry);
    const a = net.client<R>(server.url);
    const b = net.client<R>(server.url);
    const ca = a.pad.getOrCreate("p", { params: { user: "ada" } }).connect();
    const cb = b.pad.getOrCreate("p", { params: { user: "bob" } }).connect();
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);
    textOf(ca.doc).insert(0, "ok.");
    await waitFor(() => notesOf(cb.doc) === "ok." && ca.pending === 0, { what: "the first edit" });
    const seen = watch(ca);
    const rejected = ca.doc;
    textOf(rejected).insert(3, " forbidden");
    // A later edit depends on the rejected one: it is discarded with it.
    textOf(rejected).insert(0, "later ");
    await waitFor(() => seen.docs.length === 1, { what: "onDoc after the rejection" });
    const { doc, discarded } = seen.docs[0]!;
    expect(discarded.error).toMatchObject({ code: "bad_word", message: "No forbidden words" });
    expect(discarded.updates).toHaveLength(2);
    expect(seen.errors.map((e) => e.code)).toEqual(["bad_word"]);
    expect(doc).toBe(ca.doc);
    expect(notesOf(ca.doc)).toBe("ok.");
    await waitFor(() => ca.pending === 0, { what: "nothing pending" });
    // The new doc is live: editing it works.
    textOf(ca.doc).insert(3, " again");
    await waitFor(() => notesOf(cb.doc) === "ok. again", { what: "the edit on the new doc" });
    expect(await a.pad.get("p", { params: { user: "ada" } }).read()).toMatchObject({ notes: "ok. again" });
    await sleep(20);
    expect(notesOf(cb.doc)).toBe("ok. again"); // the rejected text never reached b
    expect(seen.docs).toHaveLength(1);
  });

  test("an onEdit hook with a bug rejects the edit as internal_error", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const conn = client.pad.getOrCreate("p", { params: { user: "ada" } }).connect();
    await conn.whenSynced();
    const seen = watch(conn);
    textOf(conn.doc).insert(0, "crash");
    await waitFor(() => seen.docs.length === 1, { what: "onDoc" });
    expect(seen.docs[0]!.discarded.error.code).toBe("internal_error");
    expect(seen.docs[0]!.discarded.error.message).not.toContain("onEdit bug");
    expect(notesOf(conn.doc)).toBe("");
    expect(await client.pad.get("p", { params: { user: "ada" } }).read()).toMatchObject({ notes: "" });
  });
});
