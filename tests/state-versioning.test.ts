/**
 * Issue 15, state versioning: `actor({ version, migrate })`. An actor stored by an older
 * version is migrated as it loads (once, before onStart, atomically with its new version);
 * one stored by a newer version is not loaded. A client that expects a version never shows
 * or sends a replica stored by another; without that option, the stored replica merges the
 * server's migration when it syncs and its unanswered edits on the old shape are discarded.
 * Stored actors and replicas "written by an older version" are written here by a server and
 * a client running the version-1 definition, over the same data directory and storage.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, stateVersionsOf, type TandemError } from "tandem";
import { createClient, memoryStorage, type ClientStorage, type DiscardedEdits } from "tandem/client";
import { createServer, fileDriver, type TandemServer } from "tandem/server";
import { rejection, waitFor } from "./seed-helpers.ts";
import { FAST_BACKOFF } from "./support/raw-socket.ts";

/** Every migrate and onStart call, in order, of the running test. */
const calls: string[] = [];

const boardV1 = actor({
  state: { todos: [] as string[] },
  canEdit: () => true,
  actions: {
    add: (c, text: string) => {
      c.state.todos.push(text);
    },
    read: (c) => c.state,
  },
});

interface Item {
  text: string;
  done: boolean;
}

const boardV2 = actor({
  version: 2,
  state: { items: [] as Item[] },
  canEdit: () => true,
  migrate: (c, fromVersion) => {
    calls.push(`migrate from ${fromVersion}`);
    const todos = (c.state.todos ?? []) as string[];
    c.state.items = todos.map((text) => ({ text, done: false }));
    delete c.state.todos;
  },
  onStart: (c) => {
    calls.push(`onStart ${JSON.stringify(c.state)}`);
  },
  actions: {
    add: (c, text: string) => {
      c.state.items.push({ text, done: false });
    },
    read: (c) => c.state,
  },
});

const boardV3 = actor({
  version: 3,
  state: { items: [] as Item[], title: "" },
  migrate: (c, fromVersion) => {
    calls.push(`migrate from ${fromVersion}`);
    if (fromVersion < 2) {
      c.state.items = ((c.state.todos ?? []) as string[]).map((text) => ({ text, done: false }));
      delete c.state.todos;
    }
    c.state.title = "untitled";
  },
  actions: { read: (c) => c.state },
});

const brokenV2 = actor({
  version: 2,
  state: { items: [] as Item[] },
  migrate: (c) => {
    c.state.items = [{ text: "half", done: false }];
    throw new Error("migration bug");
  },
  actions: { read: (c) => c.state },
});

const v1 = setup({ use: { board: boardV1 } });
const v2 = setup({ use: { board: boardV2 } });
const v3 = setup({ use: { board: boardV3 } });
const broken = setup({ use: { board: brokenV2 } });

const quiet = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {} };
let dirs: string[] = [];
let servers: TandemServer<unknown>[] = [];
let clients: { dispose(): void }[] = [];

afterEach(async () => {
  calls.length = 0;
  for (const client of clients.splice(0)) client.dispose();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-versions-"));
  dirs.push(dir);
  return dir;
}

/** A server over `dir` (port 0 unless given), listening. */
async function serve<R extends { kind: "tandem.registry" }>(registry: R, dir: string, port = 0): Promise<TandemServer<R>> {
  const server = createServer(registry as never, { driver: fileDriver({ dir, log: quiet as never }), logger: false }) as TandemServer<R>;
  servers.push(server as TandemServer<unknown>);
  await server.listen({ port });
  return server;
}

async function stop(server: TandemServer<unknown>): Promise<void> {
  servers = servers.filter((s) => s !== server);
  await server.close();
}

function client<R>(url: string, storage: ClientStorage, stateVersions?: Record<string, number>) {
  const made = createClient<R>(url, { storage, backoff: FAST_BACKOFF, multiTab: false, ...(stateVersions ? { stateVersions } : {}) });
  clients.push(made);
  return made;
}

describe("the server migrates stored actors", () => {
  test("an actor stored by version 1 is migrated when version 2 loads it: once, before onStart, with its version", async () => {
    const dir = await dataDir();
    const old = await serve(v1, dir);
    await old.client.board.getOrCreate("b").add("milk");
    await old.client.board.getOrCreate("b").add("eggs");
    await stop(old);

    const current = await serve(v2, dir);
    expect(await current.client.board.get("b").read()).toEqual({ items: [{ text: "milk", done: false }, { text: "eggs", done: false }] });
    expect(calls).toEqual(["migrate from 1", `onStart {"items":[{"text":"milk","done":false},{"text":"eggs","done":false}]}`]);
    await current.client.board.get("b").add("bread");
    await stop(current);

    calls.length = 0;
    const again = await serve(v2, dir);
    expect((await again.client.board.get("b").read()).items.map((item: Item) => item.text)).toEqual(["milk", "eggs", "bread"]);
    expect(calls.filter((call) => call.startsWith("migrate"))).toEqual([]);
  });

  test("migrate gets the version the actor was stored by (1 → 3 in one step)", async () => {
    const dir = await dataDir();
    const old = await serve(v1, dir);
    await old.client.board.getOrCreate("b").add("milk");
    await stop(old);
    const current = await serve(v3, dir);
    expect(await current.client.board.get("b").read()).toEqual({ items: [{ text: "milk", done: false }], title: "untitled" });
    expect(calls).toEqual(["migrate from 1"]);
  });

  test("an actor created by the current version is stamped with it and never migrated", async () => {
    const dir = await dataDir();
    const first = await serve(v2, dir);
    await first.client.board.getOrCreate("b").add("milk");
    await stop(first);
    calls.length = 0;
    const second = await serve(v2, dir);
    expect((await second.client.board.get("b").read()).items).toEqual([{ text: "milk", done: false }]);
    expect(calls.filter((call) => call.startsWith("migrate"))).toEqual([]);
  });

  test("a migrate that throws loads nothing and changes nothing: the stored actor stays as it was", async () => {
    const dir = await dataDir();
    const old = await serve(v1, dir);
    await old.client.board.getOrCreate("b").add("milk");
    await stop(old);
    const bad = await serve(broken, dir);
    const error = await rejection(bad.client.board.get("b").read());
    expect(error.code).toBe("internal_error");
    await stop(bad);
    const back = await serve(v1, dir);
    expect(await back.client.board.get("b").read()).toEqual({ todos: ["milk"] });
  });

  test("an actor stored by a newer version is refused (invalid_state), not served to code that does not know its shape", async () => {
    const dir = await dataDir();
    const newer = await serve(v2, dir);
    await newer.client.board.getOrCreate("b").add("milk");
    await stop(newer);
    const older = await serve(v1, dir);
    const error = await rejection(older.client.board.get("b").read());
    expect(error.code).toBe("invalid_state");
    expect(error.message).toContain("state version 2");
    await stop(older);
    const again = await serve(v2, dir);
    expect((await again.client.board.get("b").read()).items).toEqual([{ text: "milk", done: false }]);
  });

  test("a client cannot forge the version: a direct edit of the version entry is refused and changes nothing", async () => {
    const dir = await dataDir();
    const server = await serve(v2, dir);
    const app = client<typeof v2>(server.url, memoryStorage());
    const conn = app.board.getOrCreate("b", {}).connect();
    await conn.whenSynced();
    const discarded: DiscardedEdits[] = [];
    conn.onDoc((event) => discarded.push(event.discarded));
    conn.doc.getMap("tandem").set("stateVersion", 1);
    await waitFor(() => discarded.length === 1, { what: "the forged version refused" });
    expect((discarded[0]!.error as TandemError).code).toBe("invalid_arguments");
    expect(conn.doc.getMap("tandem").get("stateVersion")).toBe(2);
    await stop(server);
    calls.length = 0;
    const again = await serve(v2, dir);
    await again.client.board.get("b").read();
    expect(calls.filter((call) => call.startsWith("migrate"))).toEqual([]);
  });

  test("actor() refuses a version that is not an integer from 1", () => {
    for (const version of [0, -1, 1.5, Number.NaN, "2"]) {
      expect(() => actor({ version: version as number, actions: {} }), String(version)).toThrow(/integer from 1/);
    }
    expect(() => actor({ version: 2, migrate: "no" as never, actions: {} })).toThrow(/"migrate" must be a function/);
    expect(stateVersionsOf(v2)).toEqual({ board: 2 });
    expect(stateVersionsOf(v1)).toEqual({ board: 1 });
  });
});

/** Waits until the replica's document (and an unanswered edit, if one is expected) is in storage. */
async function stored(storage: ClientStorage, edit: boolean): Promise<void> {
  await waitFor(
    async () => {
      const keys = (await storage.list("r:")).map(([key]) => key);
      return keys.some((key) => /:(u:|s$)/.test(key)) && (!edit || keys.some((key) => key.includes(":e:")));
    },
    { what: "the replica in storage" },
  );
}

describe("clients with replicas stored by an older version", () => {
  /** A v1 replica in `storage`: synced from a v1 server, then (optionally) an edit made offline and stored unanswered. */
  async function oldReplica(dir: string, storage: ClientStorage, offlineEdit: string | null): Promise<number> {
    const old = await serve(v1, dir);
    await old.client.board.getOrCreate("b").add("milk");
    const app = client<typeof v1>(old.url, storage);
    const conn = app.board.getOrCreate("b", {}).connect();
    await conn.whenSynced();
    expect(conn.state?.todos).toEqual(["milk"]);
    const port = old.port;
    await stop(old);
    if (offlineEdit !== null) {
      await waitFor(() => conn.status === "offline" || conn.status === "connecting", { what: "the client offline" });
      (conn.doc.getMap("state").get("todos") as Y.Array<string>).push([offlineEdit]);
      await waitFor(() => (conn.state?.todos as string[]).includes(offlineEdit), { what: "the offline edit" });
    }
    app.dispose();
    await stored(storage, offlineEdit !== null);
    return port;
  }

  test("with stateVersions, a replica stored by version 1 is never shown to a version-2 app: dropped, then synced anew", async () => {
    const dir = await dataDir();
    const storage = memoryStorage();
    const port = await oldReplica(dir, storage, "typed offline");
    // The app, now built with version 2, opens while the server is still down.
    const app = client<typeof v2>(`http://127.0.0.1:${port}`, storage, stateVersionsOf(v2));
    const conn = app.board.getOrCreate("b", {}).connect();
    const discarded: DiscardedEdits[] = [];
    conn.onDoc((event) => discarded.push(event.discarded));
    await conn.whenLoaded();
    expect(conn.state).toBeUndefined();
    expect(discarded.map((d) => [(d.error as TandemError).code, d.updates.length])).toEqual([["invalid_state", 1]]);
    const server = await serve(v2, dir, port);
    await conn.whenSynced();
    expect(conn.state).toEqual({ items: [{ text: "milk", done: false }] });
    expect((await server.client.board.get("b").read()).items).toEqual([{ text: "milk", done: false }]);
    expect(conn.doc.getMap("state").has("todos")).toBe(false);
  });

  test("without stateVersions, the stored replica merges the server's migration when it syncs; its unanswered edit on the old shape is discarded, never sent", async () => {
    const dir = await dataDir();
    const storage = memoryStorage();
    const port = await oldReplica(dir, storage, "typed offline");
    const app = client<typeof v2>(`http://127.0.0.1:${port}`, storage);
    const conn = app.board.getOrCreate("b", {}).connect();
    const discarded: DiscardedEdits[] = [];
    conn.onDoc((event) => discarded.push(event.discarded));
    await conn.whenLoaded();
    // Offline, it shows what it stored (it cannot know better without stateVersions).
    expect((conn.state as unknown as { todos: string[] }).todos).toEqual(["milk", "typed offline"]);
    const server = await serve(v2, dir, port);
    await conn.whenSynced();
    expect(conn.state).toEqual({ items: [{ text: "milk", done: false }] });
    expect(discarded.map((d) => [(d.error as TandemError).code, d.updates.length])).toEqual([["invalid_state", 1]]);
    // Nothing of the old shape reached the actor.
    const stored = await server.client.board.get("b").read();
    expect(stored).toEqual({ items: [{ text: "milk", done: false }] });
    // And the client goes on on the new shape.
    await conn.add("bread");
    expect(conn.state?.items.map((item) => item.text)).toEqual(["milk", "bread"]);
  });

  test("a replica already at the expected version is kept and shown offline", async () => {
    const dir = await dataDir();
    const storage = memoryStorage();
    const first = await serve(v2, dir);
    const app = client<typeof v2>(first.url, storage, stateVersionsOf(v2));
    const conn = app.board.getOrCreate("b", {}).connect();
    await conn.whenSynced();
    await conn.add("milk");
    const port = first.port;
    await stop(first);
    app.dispose();
    await stored(storage, false);
    const again = client<typeof v2>(`http://127.0.0.1:${port}`, storage, stateVersionsOf(v2));
    const reopened = again.board.getOrCreate("b", {}).connect();
    await reopened.whenLoaded();
    expect(reopened.state).toEqual({ items: [{ text: "milk", done: false }] });
  });
});
