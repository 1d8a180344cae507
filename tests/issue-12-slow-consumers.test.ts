/**
 * Issue 12, item 7: readers that stop reading must not pin the server's memory. Each slow
 * reader here is a real WebSocket whose TCP socket is paused (the kernel buffers fill, then
 * the server's queue grows). What it asks for itself is held back (read backpressure:
 * output-room.ts — forty subscribes to a ~900 KB document queue about one document, not
 * forty); what others write still reaches it through the fan-out. Past its own cap
 * (`maxBufferedBytes`) a socket is terminated at once — no close handshake that the paused
 * peer would never answer — and past the server-wide budget (`maxBufferedBytesTotal`) the
 * sockets with the most queued are terminated first. Well-behaved clients keep working, and
 * the server's count of queued bytes (`server.network.queuedBytes`) goes back down.
 */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup } from "tandem";
import type { TandemServer } from "tandem/server";
import { waitFor } from "./seed-helpers.ts";
import { Kind } from "../shared/protocol/index.ts";
import { useNetwork, type NetworkServerOptions, type RawSocket } from "./support/raw-socket.ts";

const doc = actor({
  state: { text: new Y.Text(""), count: 0 },
  actions: {
    fill: (c, kb: number) => {
      c.state.text.insert(0, "x".repeat(kb * 1024));
      return c.state.text.length;
    },
    bump: (c) => ++c.state.count,
  },
});

const registry = setup({ use: { doc } });
type R = typeof registry;

const net = useNetwork();
const DOC_KB = 900;
const MB = 1024 * 1024;

async function bigDocServer(options: NetworkServerOptions) {
  const server = await net.server(registry, options);
  await server.client.doc.getOrCreate("big").fill(DOC_KB);
  return server;
}

/** TCP connections the server holds now (counted by node's http server). */
function connections(server: TandemServer<R>): Promise<number> {
  return new Promise((resolve, reject) => server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/** A socket that says hello, then stops reading and subscribes `channels` times to the big document. */
async function slowReader(server: TandemServer<R>, name: string, channels: number, stateVector: Uint8Array = new Uint8Array(), key = "big"): Promise<RawSocket> {
  const raw = await net.raw(server.url);
  await raw.hello(name);
  raw.ws.pause(); // reads nothing more: the kernel buffers fill, then the server's queue
  for (let channel = 1; channel <= channels; channel++) {
    raw.send({ kind: Kind.subscribe, channel, name: "doc", target: { by: "key", mode: "getOrCreate", key: [key] }, params: undefined, stateVector });
  }
  return raw;
}

/** Others write `chunks` × 512 KB into `key`: the fan-out sends it to every subscriber, readers or not. */
async function writeMuch(server: TandemServer<R>, chunks: number, key = "big"): Promise<void> {
  for (let i = 0; i < chunks; i++) {
    await server.client.doc.getOrCreate(key).fill(512);
    await new Promise((resolve) => setTimeout(resolve, 5)); // a turn between writes: the fan-out sends each on its own
  }
}

/** Well-behaved clients: a library client acting, and a raw reader that gets the whole document. */
async function wellBehaved(server: TandemServer<R>) {
  const client = net.client<R>(server.url);
  const conn = client.doc.getOrCreate("big").connect();
  await conn.whenSynced();
  let count = await server.client.doc.getOrCreate("big").bump();
  return {
    async works() {
      count++;
      expect(await conn.bump()).toBe(count);
      await waitFor(() => conn.state?.count === count, { what: "the client's replica" });
      expect(conn.status).toBe("synced");
      const reader = await net.raw(server.url);
      await reader.hello();
      const { step2 } = await reader.subscribe(1, "doc", "big", { mode: "get" });
      expect(step2.data.length).toBeGreaterThan(DOC_KB * 1024);
      await reader.close();
    },
  };
}

describe("slow consumers", () => {
  test("a socket past maxBufferedBytes is terminated at once, not left to a close handshake", async () => {
    const server = await bigDocServer({ limits: { maxBufferedBytes: 2 * MB, maxBufferedBytesTotal: 1024 * MB } });
    const good = await wellBehaved(server);
    const baseline = await connections(server);
    // The slow readers watch another document, which grows past what a well-behaved reader could take under this cap.
    const slow = await Promise.all(Array.from({ length: 5 }, (_, i) => slowReader(server, `slow-${i}`, 1, new Uint8Array(), "flood")));
    expect(slow).toHaveLength(5);
    // ~12 MB of updates fanned out to sockets that read nothing (the kernel's buffers take a few MB).
    await writeMuch(server, 24, "flood");
    // Terminated: the TCP connections go now (a graceful close would hold them, and their
    // queues, until ws's 30 s close timeout, since the paused peer never answers).
    await waitFor(async () => (await connections(server)) === baseline, { timeoutMs: 5000, what: "the slow readers' connections to be dropped" });
    await waitFor(() => server.network.queuedBytes === 0, { timeoutMs: 5000, what: "the queued bytes to be freed" });
    await good.works();
  });

  test("over maxBufferedBytesTotal the stalled sockets with the most queued are terminated; the accounting goes back down", async () => {
    const budget = 16 * MB;
    const server = await bigDocServer({ limits: { maxBufferedBytes: 256 * MB, maxBufferedBytesTotal: budget } });
    const good = await wellBehaved(server);
    const baseline = await connections(server);
    // Six readers of ~7 MB each: over the budget together, under the per-socket cap each.
    const slow = await Promise.all(Array.from({ length: 6 }, (_, i) => slowReader(server, `slow-${i}`, 1)));
    await writeMuch(server, 12);
    await waitFor(async () => (await connections(server)) < baseline + slow.length, { timeoutMs: 5000, what: "some slow readers to be terminated" });
    await waitFor(() => server.network.queuedBytes <= budget, { timeoutMs: 5000, what: "the queued bytes back under the budget" });
    expect(server.network.queuedBytes).toBeLessThanOrEqual(budget);
    await good.works();
    // The readers left under the budget hold their queue until they go; then it is freed.
    await Promise.all(slow.map((raw) => raw.close()));
    await waitFor(() => server.network.queuedBytes === 0, { timeoutMs: 5000, what: "the queued bytes to be freed" });
    await waitFor(async () => (await connections(server)) === baseline, { timeoutMs: 5000, what: "every slow connection gone" });
    await good.works();
  });

  test("what a socket that stops reading asks for is held back: forty subscribes queue about one document, and the socket is read no further", async () => {
    const server = await bigDocServer({ limits: { maxBufferedBytes: 256 * MB, maxBufferedBytesTotal: 1024 * MB } });
    const good = await wellBehaved(server);
    // With and without a state vector (a diff built per subscribe, or the shared full state).
    const readers = [await slowReader(server, "slow-sv", 40, Y.encodeStateVector(new Y.Doc())), await slowReader(server, "slow-full", 40)];
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Before read backpressure each reader had ~36 MB queued (forty documents).
    expect(server.network.queuedBytes).toBeLessThan(readers.length * 3 * DOC_KB * 1024);
    await good.works();
    // The held sockets still hold their channels' subscribes unread; once they read, all are answered.
    for (const raw of readers) raw.ws.resume();
    for (const raw of readers) {
      await waitFor(() => raw.received.filter((message) => message.kind === Kind.subscribed).length === 40, { timeoutMs: 10_000, what: "all forty subscribes answered once the reader reads" });
    }
    await waitFor(() => server.network.queuedBytes === 0, { timeoutMs: 5000, what: "the queued bytes to be freed" });
    await good.works();
  });

  test("a socket held for its output that drains nothing is still dropped by the heartbeat; one that drains is not", async () => {
    const server = await bigDocServer({ limits: { maxBufferedBytes: 256 * MB, maxBufferedBytesTotal: 1024 * MB, heartbeatMs: 100, deadAfterMs: 400 } });
    const baseline = await connections(server);
    await slowReader(server, "stuck", 40);
    await waitFor(async () => (await connections(server)) === baseline, { timeoutMs: 5000, what: "the stuck reader to be dropped by the heartbeat" });
    const good = await wellBehaved(server);
    await good.works();
  });
});
