/**
 * Issue 12, item 8 (sockets): a socket that never says hello is closed after `helloTimeoutMs`
 * (4400), and one remote address holds at most `maxSocketsPerAddress` sockets at once (one
 * more is closed with 4429 and a retry-after hint). Both leave every other socket serving.
 */
import { describe, expect, test } from "vitest";
import { actor, setup } from "tandem";
import { sleep, waitFor, within } from "./seed-helpers.ts";
import { CloseCode, Kind } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";

const counter = actor({
  state: { n: 0 },
  actions: { inc: (c) => ++c.state.n },
});

const registry = setup({ use: { counter } });
type R = typeof registry;

const net = useNetwork();

describe("hello timeout", () => {
  test("a socket that never sends hello is told why and closed with 4400; one that greets stays", async () => {
    const server = await net.server(registry, { limits: { helloTimeoutMs: 200 } });
    const silent = await net.raw(server.url);
    const greeted = await net.raw(server.url);
    await greeted.hello();
    const closed = await within(silent.closed, 3000, "the silent socket's close");
    expect(closed.code).toBe(CloseCode.protocolError);
    expect((await silent.nextError(0)).error).toMatchObject({ code: "malformed_frame", message: expect.stringContaining("hello") });
    await sleep(300); // past the timeout for the greeted socket too
    expect(greeted.isOpen).toBe(true);
    await greeted.subscribe(1, "counter", "c");
    expect((await greeted.action(1, 1, "inc", [])).ok).toBe(true);
  });

  test("a socket that neither greets nor answers the close is dropped after the close grace (5 s), not ws's 30 s", async () => {
    const server = await net.server(registry, { limits: { helloTimeoutMs: 100 } });
    const connections = () => new Promise<number>((resolve, reject) => server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    const deaf = await net.raw(server.url);
    deaf.ws.pause(); // reads nothing: never sees the close frame, never answers it
    await waitFor(async () => (await connections()) === 1, { what: "the socket counted" });
    await waitFor(() => server.network.sockets === 0, { timeoutMs: 8000, what: "the session gone" });
    await waitFor(async () => (await connections()) === 0, { timeoutMs: 8000, what: "the TCP connection dropped" });
  }, 15_000);

  test("the library client greets in time and is never affected", async () => {
    const server = await net.server(registry, { limits: { helloTimeoutMs: 200 } });
    const client = net.client<R>(server.url);
    const conn = client.counter.getOrCreate("c").connect();
    await conn.whenSynced();
    await sleep(400);
    expect(await conn.inc()).toBe(1);
    expect(conn.status).toBe("synced");
  });
});

describe("sockets per address", () => {
  test("one more socket than maxSocketsPerAddress is closed with 4429 and a retry-after; a closed one frees its place", async () => {
    const server = await net.server(registry, { limits: { maxSocketsPerAddress: 3 } });
    const admitted = await Promise.all([net.raw(server.url), net.raw(server.url), net.raw(server.url)]);
    for (const socket of admitted) await socket.hello();
    const extra = await net.raw(server.url);
    const closed = await within(extra.closed, 3000, "the extra socket's close");
    expect(closed.code).toBe(CloseCode.rateLimited);
    expect(closed.reason).toMatch(/retry-after=\d+/);
    expect((await extra.nextError(0)).error.code).toBe("rate_limited");
    // The admitted ones are untouched.
    await admitted[0]!.subscribe(1, "counter", "c");
    expect((await admitted[0]!.action(1, 1, "inc", [])).ok).toBe(true);
    expect(admitted.every((socket) => socket.isOpen)).toBe(true);
    // Closing one frees its place.
    await admitted[2]!.close();
    await waitFor(() => server.network.sockets === 2, { what: "the closed socket to be gone" });
    const again = await net.raw(server.url);
    const welcome = await again.hello();
    expect(welcome.kind).toBe(Kind.welcome);
    expect(again.isOpen).toBe(true);
  });

  test("refused sockets do not count: after many refusals the address still gets its places back", async () => {
    const server = await net.server(registry, { limits: { maxSocketsPerAddress: 2 } });
    const admitted = await Promise.all([net.raw(server.url), net.raw(server.url)]);
    for (let i = 0; i < 10; i++) {
      const extra = await net.raw(server.url);
      expect((await within(extra.closed, 3000, "a refusal")).code).toBe(CloseCode.rateLimited);
    }
    await Promise.all(admitted.map((socket) => socket.close()));
    await waitFor(() => server.network.sockets === 0, { what: "both sockets gone" });
    const sockets = await Promise.all([net.raw(server.url), net.raw(server.url)]);
    for (const socket of sockets) await socket.hello();
    expect(sockets.every((socket) => socket.isOpen)).toBe(true);
  });

  test("behind a trusted proxy the forwarded address is counted; an untrusted header changes nothing", async () => {
    const trusting = await net.server(registry, { limits: { maxSocketsPerAddress: 1 }, trustProxy: true });
    const ada = await net.raw(trusting.url, { "x-forwarded-for": "203.0.113.1" });
    const bob = await net.raw(trusting.url, { "x-forwarded-for": "203.0.113.2" });
    await Promise.all([ada.hello(), bob.hello()]);
    const adaAgain = await net.raw(trusting.url, { "x-forwarded-for": "203.0.113.1" });
    expect((await within(adaAgain.closed, 3000, "the refusal")).code).toBe(CloseCode.rateLimited);
    expect(ada.isOpen && bob.isOpen).toBe(true);
    // Without trustProxy the header is ignored: both come from 127.0.0.1.
    const plain = await net.server(registry, { limits: { maxSocketsPerAddress: 1 } });
    const first = await net.raw(plain.url, { "x-forwarded-for": "203.0.113.1" });
    await first.hello();
    const second = await net.raw(plain.url, { "x-forwarded-for": "203.0.113.2" });
    expect((await within(second.closed, 3000, "the refusal")).code).toBe(CloseCode.rateLimited);
  });
});
