/**
 * Storage faults and version skew: quota errors, unusable storage and corrupted records are
 * surfaced as events (never swallowed); the client carries on in memory or refetches; an
 * intact outbox is kept. A client too old for the server hears `upgrade_required`.
 * Also: the IndexedDB storage (fake-indexeddb here; real IndexedDB in e2e) survives a reload.
 */
import "fake-indexeddb/auto";
import { describe, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { actor, setup } from "tandem";
import { type ClientStorage, createClient, indexedDbStorage, memoryStorage } from "tandem/client";
import { Kind, decodeUp, encodeDown } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { waitFor } from "./seed-helpers.ts";

const notes = actor({
  state: { lines: [] as string[] },
  actions: {
    write: (c, line: string) => {
      c.state.lines.push(line);
      return c.state.lines.length;
    },
  },
});
const registry = setup({ use: { notes } });
type R = typeof registry;

/** A storage that starts failing writes (quota) or every operation (unusable). */
function faulty(inner: ClientStorage, mode: { failWritesAfter?: number; failAll?: boolean }): ClientStorage {
  let writes = 0;
  const quota = () => Object.assign(new Error("The quota has been exceeded."), { name: "QuotaExceededError" });
  const broken = () => Object.assign(new Error("IndexedDB is not available in private mode"), { name: "InvalidStateError" });
  return {
    kind: "faulty",
    get: (key) => (mode.failAll ? Promise.reject(broken()) : inner.get(key)),
    list: (prefix) => (mode.failAll ? Promise.reject(broken()) : inner.list(prefix)),
    batch: (puts, deletes) => {
      if (mode.failAll) return Promise.reject(broken());
      if (mode.failWritesAfter !== undefined && writes++ >= mode.failWritesAfter) return Promise.reject(quota());
      return inner.batch(puts, deletes);
    },
    clear: (prefix) => (mode.failAll ? Promise.reject(broken()) : inner.clear(prefix)),
  };
}

describe("storage faults", () => {
  const net = useNetwork();

  test("quota exceeded: an event says so, the client carries on in memory, what was stored stays", async () => {
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const inner = memoryStorage();
    const client = net.client<R>(proxy.url, { storage: faulty(inner, { failWritesAfter: 4 }) });
    const conn = client.notes.getOrCreate("q").connect();
    const errors: { code: string; quota?: boolean }[] = [];
    conn.onError((error) => errors.push({ code: error.code, quota: (error.metadata as { quota?: boolean } | undefined)?.quota }));
    await conn.whenSynced();
    proxy.cut();
    await waitFor(() => conn.status === "offline", { what: "offline" });
    const calls = Array.from({ length: 5 }, (_, i) => conn.write(`line ${i}`));
    await waitFor(() => errors.length > 0, { what: "the storage error event" });
    expect(errors[0]).toEqual({ code: "storage_error", quota: true });
    const stored = (await inner.list("r:")).filter(([key]) => key.includes(":o:"));
    expect(stored.length).toBeGreaterThan(0); // the outbox written before the fault is intact
    proxy.restore();
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4, 5]);
    expect(conn.state?.lines).toHaveLength(5);
  });

  test("storage unusable (private mode): events, and everything works in memory", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url, { storage: faulty(memoryStorage(), { failAll: true }) });
    const conn = client.notes.getOrCreate("private").connect();
    const codes: string[] = [];
    conn.onError((error) => codes.push(error.code));
    await conn.whenSynced();
    expect(await conn.write("hello")).toBe(1);
    expect(conn.state?.lines).toEqual(["hello"]);
    expect(codes).toContain("storage_error");
  });

  test("a corrupted record: reported, the replica is refetched, the outbox is kept", async () => {
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const storage = memoryStorage();
    const first = createClient<R>(proxy.url, { storage, backoff: { baseMs: 10, maxMs: 50 } });
    const conn = first.notes.getOrCreate("corrupt").connect();
    await conn.whenSynced();
    await conn.write("before");
    proxy.cut();
    await waitFor(() => conn.status === "offline", { what: "offline" });
    void conn.write("queued while offline").catch(() => undefined);
    await waitFor(async () => (await storage.list("r:")).some(([key]) => key.includes(":o:")), { what: "the outbox write" });
    conn.dispose();
    first.dispose();
    // corrupt one stored update of the document
    const [key] = (await storage.list("r:")).find(([k]) => k.includes(":u:"))!;
    await storage.batch([[key, { not: "an update" }]]);

    const second = net.client<R>(proxy.url, { storage });
    const again = second.notes.getOrCreate("corrupt").connect();
    const codes: string[] = [];
    again.onError((error) => codes.push(error.code));
    await again.whenLoaded();
    expect(codes).toContain("storage_error");
    expect(again.outbox.map((entry) => entry.args[0])).toEqual(["queued while offline"]);
    proxy.restore();
    await again.whenSynced();
    expect(again.state?.lines).toEqual(["before", "queued while offline"]);
  });
});

describe("IndexedDB storage across a reload", () => {
  const net = useNetwork();

  test("offline actions stored in IndexedDB are sent by the next client", async () => {
    const server = await net.server(registry);
    const proxy = await net.proxy(server.port);
    const name = `tandem-reload-${Date.now()}`;
    const first = createClient<R>(proxy.url, { storage: indexedDbStorage(name), backoff: { baseMs: 10, maxMs: 50 } });
    const conn = first.notes.getOrCreate("idb").connect();
    await conn.whenSynced();
    proxy.cut();
    await waitFor(() => conn.status === "offline", { what: "offline" });
    void conn.write("from the first tab").catch(() => undefined);
    await waitFor(() => conn.outbox[0]?.seq !== undefined && conn.outbox[0].seq > 0, { what: "stored" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    conn.dispose();
    first.dispose();
    proxy.restore();
    const second = net.client<R>(proxy.url, { storage: indexedDbStorage(name) });
    const again = second.notes.getOrCreate("idb").connect();
    await again.whenSynced();
    expect(again.state?.lines).toEqual(["from the first tab"]);
    await second.ready;
    expect(second.clientId).toBe(first.clientId);
  });
});

describe("version skew", () => {
  test("a client too old for the server is told upgrade_required", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss.on("connection", (socket) => {
      socket.on("message", (data) => {
        const message = decodeUp(new Uint8Array(data as Buffer));
        if (message.kind !== Kind.hello) return;
        socket.send(
          encodeDown({ kind: Kind.error, channel: 0, error: { code: "upgrade_required", message: "Protocol 1 is too old; this server needs 2 or newer", group: "client" } }),
        );
        socket.close(4426, "upgrade required");
      });
    });
    await new Promise((resolve) => wss.once("listening", resolve));
    const port = (wss.address() as { port: number }).port;
    const client = createClient<R>(`http://127.0.0.1:${port}`, { storage: memoryStorage() });
    try {
      const conn = client.notes.getOrCreate("x").connect();
      const codes: string[] = [];
      conn.onError((error) => codes.push(error.code));
      await expect(conn.whenSynced()).rejects.toMatchObject({ code: "upgrade_required" });
      await expect(conn.write("x")).rejects.toMatchObject({ code: "upgrade_required" });
      expect(codes).toContain("upgrade_required");
    } finally {
      client.dispose();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});
