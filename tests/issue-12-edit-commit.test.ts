/**
 * Issue 12, item 12: a direct edit commits like an action — through the same steps (draft,
 * transaction, commit, persist, publish, events). What `onEdit` does besides validating
 * (`c.broadcast`, `c.privateState`) is part of the edit's commit: events reach connections
 * after the update they announce, privateState is stored with the edit's update, and an
 * `onEdit` that throws leaves nothing (no event, no privateState change, no state change).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, event, setup, UserError } from "tandem";
import { fileDriver, memoryDriver } from "tandem/server";
import type { DiscardedEdits } from "tandem/client";
import { sleep, waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const journal = actor({
  state: { notes: new Y.Text("") },
  privateState: { edits: 0, seen: [] as string[] },
  events: { edited: event<string>() },
  canEdit: () => true,
  onEdit: (c) => {
    const text = c.state.notes.toString();
    c.privateState.edits += 1;
    c.privateState.seen.push(text);
    c.broadcast("edited", text);
    if (text.includes("boom")) throw new UserError("No booms", { code: "boom" });
  },
  actions: {
    secret: (c) => ({ edits: c.privateState.edits, seen: [...c.privateState.seen] }),
    read: (c) => c.state.notes.toString(),
  },
});

const registry = setup({ use: { journal } });
type R = typeof registry;

const net = useNetwork();
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const textOf = (doc: Y.Doc) => doc.getMap("state").get("notes") as Y.Text;

test("an event broadcast by onEdit arrives, after the update it announces", async () => {
  const server = await net.server(registry, { driver: memoryDriver() });
  const editor = net.client<R>(server.url).journal.getOrCreate("j").connect();
  const watcher = net.client<R>(server.url).journal.getOrCreate("j").connect();
  await Promise.all([editor.whenSynced(), watcher.whenSynced()]);
  const events: { payload: string; replica: string }[] = [];
  watcher.on("edited", (payload) => events.push({ payload, replica: textOf(watcher.doc).toString() }));
  textOf(editor.doc).insert(0, "hello");
  await waitFor(() => events.length === 1, { what: "the edited event" });
  expect(events).toEqual([{ payload: "hello", replica: "hello" }]);
  await waitFor(() => editor.pending === 0, { what: "the edit to be accepted" });
});

test("privateState written by onEdit is stored with the edit: it survives a restart with no later action", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tandem-edit-commit-"));
  dirs.push(dir);
  const server = await net.server(registry, { driver: fileDriver({ dir }) });
  const editor = net.client<R>(server.url).journal.getOrCreate("j").connect();
  await editor.whenSynced();
  textOf(editor.doc).insert(0, "abc");
  await waitFor(() => editor.pending === 0, { what: "the edit to be accepted" });
  await net.closeServer(server);
  const again = await net.server(registry, { driver: fileDriver({ dir }) });
  expect(await again.client.journal.get("j").read()).toBe("abc");
  expect(await again.client.journal.get("j").secret()).toEqual({ edits: 1, seen: ["abc"] });
});

test("an onEdit that throws after broadcasting and writing privateState leaves nothing", async () => {
  const server = await net.server(registry, { driver: memoryDriver() });
  const editor = net.client<R>(server.url).journal.getOrCreate("j").connect();
  const watcher = net.client<R>(server.url).journal.getOrCreate("j").connect();
  await Promise.all([editor.whenSynced(), watcher.whenSynced()]);
  const events: string[] = [];
  watcher.on("edited", (payload) => events.push(payload));
  const discarded: DiscardedEdits[] = [];
  editor.onDoc(({ discarded: d }) => discarded.push(d));
  textOf(editor.doc).insert(0, "ok ");
  await waitFor(() => events.length === 1 && editor.pending === 0, { what: "the good edit" });
  textOf(editor.doc).insert(3, "boom");
  await waitFor(() => discarded.length === 1, { what: "the refused edit" });
  expect(discarded[0]!.error.code).toBe("boom");
  // A barrier: an action after the refused edit, on the watcher's socket.
  expect(await watcher.read()).toBe("ok ");
  await sleep(20);
  expect(events).toEqual(["ok "]);
  expect(await server.client.journal.get("j").secret()).toEqual({ edits: 1, seen: ["ok "] });
  expect(textOf(watcher.doc).toString()).toBe("ok ");
  expect(textOf(editor.doc).toString()).toBe("ok ");
});
