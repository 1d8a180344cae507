/**
 * Issue 12, item 13: after `await conn.resetLocalData()`, `whenSynced()` waits for the real
 * resync (state there again), whether the client is leader of several tabs or alone; and
 * `onChange` fires when a direct edit is confirmed (the pending count goes down), so an app
 * needs no polling to show "n changes not yet saved".
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup } from "tandem";
import { type ClientStorage, memoryStorage } from "tandem/client";
import { useNetwork } from "./support/raw-socket.ts";
import { FakeLocks, FakeTab } from "./support/tabs.ts";
import { waitFor, within } from "./seed-helpers.ts";

const board = actor({
  state: { items: [] as string[], notes: new Y.Text("") },
  canEdit: () => true,
  actions: {
    add: (c, item: string) => {
      c.state.items.push(item);
      return c.state.items.length;
    },
  },
});
const registry = setup({ use: { board } });
type R = typeof registry;

const net = useNetwork();

describe("resetLocalData then whenSynced", () => {
  test("whenSynced waits for the resync: the state is there when it resolves", async () => {
    const server = await net.server(registry);
    await server.client.board.getOrCreate("r").add("on the server");
    const client = net.client<R>(server.url, { storage: memoryStorage() });
    const conn = client.board.getOrCreate("r").connect();
    await conn.whenSynced();
    expect(conn.state?.items).toEqual(["on the server"]);
    const statuses: string[] = [];
    conn.onStatus((status) => statuses.push(status));

    await conn.resetLocalData();
    expect(conn.status).not.toBe("synced");
    await within(conn.whenSynced(), 3000, "the resync");
    expect(conn.state?.items).toEqual(["on the server"]);
    expect(statuses.at(-1)).toBe("synced");
    expect(statuses).toContain("syncing");
  });

  test("called during resetLocalData (before it resolves), whenSynced waits too", async () => {
    const server = await net.server(registry);
    await server.client.board.getOrCreate("r2").add("x");
    const client = net.client<R>(server.url, { storage: memoryStorage() });
    const conn = client.board.getOrCreate("r2").connect();
    await conn.whenSynced();
    const reset = conn.resetLocalData();
    await Promise.resolve();
    const synced = conn.whenSynced().then(() => conn.state?.items);
    await reset;
    expect(await within(synced, 3000, "the resync")).toEqual(["x"]);
  });
});

describe("resetLocalData in a follower tab", () => {
  test("whenSynced waits until the leader has resynced", async () => {
    const server = await net.server(registry);
    await server.client.board.getOrCreate("t").add("x");
    const storage: ClientStorage = { ...memoryStorage(), shared: `notifications-${process.pid}` };
    const locks = new FakeLocks();
    const tabs = [];
    for (const name of ["first", "second"]) {
      const tab = new FakeTab(name, locks);
      const client = net.client<R>(server.url, { storage, multiTab: tab.multiTab, socketFactory: tab.socketFactory });
      await client.ready;
      tabs.push(client.board.getOrCreate("t").connect());
    }
    const [, follower] = tabs;
    await Promise.all(tabs.map((conn) => conn.whenSynced()));
    await follower!.resetLocalData();
    expect(follower!.status).not.toBe("synced");
    await within(follower!.whenSynced(), 3000, "the resync");
    expect(follower!.state?.items).toEqual(["x"]);
  });
});

describe("onChange and direct edits", () => {
  test("onChange fires when a direct edit is made and when it is confirmed", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url, { storage: memoryStorage() });
    const conn = client.board.getOrCreate("e").connect();
    await conn.whenSynced();
    const pendingAtChange: number[] = [];
    conn.onChange(() => pendingAtChange.push(conn.pending));

    (conn.doc.getMap("state").get("notes") as Y.Text).insert(0, "hello");
    expect(conn.pending).toBe(1);
    await waitFor(() => conn.pending === 0, { what: "the edit confirmed" });
    expect(pendingAtChange[0]).toBe(1); // the edit itself
    expect(pendingAtChange.at(-1)).toBe(0); // its confirmation
  });
});
