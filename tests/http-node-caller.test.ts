/**
 * Stateless calls from Node without a `fetch` option go through `node:http` on a keep-alive
 * agent (client/transport/http-node.ts), not the global fetch: one TCP connection serves a
 * caller's calls in sequence, and results and errors are the same as through fetch.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test, vi } from "vitest";
import { actor, setup, Unauthorized } from "tandem";
import { rejection } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const seen: { authHeader: string | null; contentType: string | null; spread: string[] } = { authHeader: null, contentType: null, spread: [] };

const counter = actor({
  state: { n: 0 },
  onAuth: ({ params, request }) => {
    seen.authHeader = request?.headers.get("x-tandem-params") ?? null;
    seen.contentType = request?.headers.get("content-type") ?? null;
    seen.spread = Object.keys({ ...request });
    if ((params as { token?: string }).token === "nope") throw new Unauthorized("Who are you?");
    return {};
  },
  actions: {
    inc: (c, by: number) => (c.state.n += by),
    echo: (_c, value: unknown) => value,
  },
});
const registry = setup({ use: { counter } });
type R = typeof registry;

const net = useNetwork();

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A plain HTTP server answering every request with `status` and `body`. */
async function plainServer(status: number, body: string): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((_request, response) => {
    response.writeHead(status, { "content-type": "text/plain" });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("the default HTTP caller in Node", () => {
  test("does not use the global fetch, and reuses one connection for calls in sequence", async () => {
    const fetchSpy = vi.fn(() => Promise.reject(new Error("the global fetch was used")));
    vi.stubGlobal("fetch", fetchSpy);
    const server = await net.server(registry);
    let connections = 0;
    server.app.server.on("connection", () => connections++);
    const client = net.client<R>(server.url);
    const handle = client.counter.getOrCreate("seq");
    for (let i = 1; i <= 20; i++) expect(await handle.inc(1)).toBe(i);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(connections).toBe(1);
  });

  test("results round-trip as JSON, unicode included; params travel in their header", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const value = { text: "héllo — 世界 🎉", list: [1, null, true], nested: { deep: "x".repeat(100_000) } };
    expect(await client.counter.getOrCreate("json", { params: { token: "ada" } }).echo(value)).toEqual(value);
    expect(seen.authHeader).toBe(JSON.stringify({ token: "ada" }));
  });

  test("onAuth sees the request's headers (built when read, still spreadable)", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    await client.counter.getOrCreate("h").inc(1);
    expect(seen.contentType).toBe("application/json");
    expect(seen.spread.sort()).toEqual(["headers", "ip", "method", "url"]);
  });

  test("errors are the server's: unknown action, wrong arguments, refused caller", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const unknown = await rejection((client.counter.getOrCreate("e") as unknown as { nope(): Promise<unknown> }).nope());
    expect(unknown).toMatchObject({ code: "action_not_found" });
    const missing = await rejection(client.counter.get("never-created").inc(1));
    expect(missing).toMatchObject({ code: "actor_not_found" });
    const refused = await rejection(client.counter.getOrCreate("e", { params: { token: "nope" } }).inc(1));
    expect(refused).toMatchObject({ code: "unauthorized", message: "Who are you?" });
  });

  test("an answer that is not JSON is an internal error naming the status", async () => {
    const plain = await plainServer(502, "<html>bad gateway</html>");
    try {
      const client = net.client<R>(plain.url);
      const error = await rejection(client.counter.getOrCreate("x").inc(1));
      expect(error).toMatchObject({ code: "internal_error" });
      expect(String((error as Error).message)).toContain("502");
    } finally {
      plain.server.closeAllConnections();
      await new Promise((resolve) => plain.server.close(resolve));
    }
  });

  test("a server that is not there rejects the call at once, with the socket error", async () => {
    const plain = await plainServer(200, "{}");
    const url = plain.url;
    await new Promise((resolve) => plain.server.close(resolve));
    const client = net.client<R>(url);
    const error = await rejection(client.counter.getOrCreate("x").inc(1));
    expect((error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  test("a fetch passed in the options is still the one used", async () => {
    const server = await net.server(registry);
    const calls: string[] = [];
    const client = net.client<R>(server.url, {
      fetch: (url, init) => {
        calls.push(url);
        return fetch(url, init);
      },
    });
    expect(await client.counter.getOrCreate("own").inc(5)).toBe(5);
    expect(calls).toEqual([`${server.url}/actors/counter/actions/inc`]);
  });
});
