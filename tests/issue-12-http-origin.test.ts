/**
 * Issue 12 (item 8): stateless HTTP actions refuse cross-site requests. A present Origin must
 * be allowed (same origin by default, `allowedOrigins` widens it: the WebSocket's rule), and
 * the body must be declared JSON, so that a "simple" cross-site request (a form, text/plain,
 * no body at all — none of them preflighted) runs nothing.
 */
import { describe, expect, test } from "vitest";
import { actor, setup } from "tandem";
import { useNetwork } from "./support/raw-socket.ts";

const counter = actor({
  state: { n: 0 },
  actions: {
    inc: (c) => ++c.state.n,
    read: (c) => c.state.n,
  },
});
const registry = setup({ use: { counter } });
type R = typeof registry;

const net = useNetwork();

async function post(url: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: { error?: { code: string }; result?: unknown; id?: string } }> {
  const response = await fetch(`${url}${path}`, { method: "POST", headers, body });
  return { status: response.status, body: (await response.json()) as never };
}

const json = { "content-type": "application/json" };
const call = JSON.stringify({ key: ["k"], mode: "getOrCreate", args: [] });

/** What the actor holds, read by a trusted caller (the inline client). */
async function count(server: { client: unknown }): Promise<number> {
  return (server.client as { counter: { getOrCreate(key: string): { read(): Promise<number> } } }).counter.getOrCreate("k").read();
}

describe("HTTP actions and cross-site requests", () => {
  test("a foreign Origin gets 403 on every route and runs nothing; same origin and no Origin pass", async () => {
    const server = await net.server(registry);
    const host = new URL(server.url).host;
    for (const path of ["/actors/counter/actions/inc", "/actors/counter/resolve"]) {
      const refused = await post(server.url, path, { ...json, origin: "http://evil.example" }, call);
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe("forbidden");
    }
    expect(await count(server)).toBe(0);
    expect((await post(server.url, "/actors/counter/actions/inc", { ...json, origin: `http://${host}` }, call)).body.result).toBe(1);
    expect((await post(server.url, "/actors/counter/actions/inc", json, call)).body.result).toBe(2);
  });

  test("a body-less POST, a form and text/plain are refused (400) and run nothing", async () => {
    const server = await net.server(registry);
    const cases: [Record<string, string>, string | undefined][] = [
      [{}, undefined],
      [{ "content-type": "application/x-www-form-urlencoded" }, "key=k&mode=getOrCreate"],
      [{ "content-type": "text/plain" }, call],
      [{ "content-type": "multipart/form-data; boundary=x" }, "--x--"],
    ];
    for (const [headers, body] of cases) {
      const refused = await post(server.url, "/actors/counter/actions/inc", headers, body);
      expect(refused.status, JSON.stringify(headers)).toBe(400);
      expect(refused.body.error?.code).toBe("invalid_arguments");
    }
    expect(await count(server)).toBe(0);
    expect((await post(server.url, "/actors/counter/actions/inc", { "content-type": "application/json; charset=utf-8" }, call)).body.result).toBe(1);
  });

  test("allowedOrigins admits the origins it lists, for HTTP as for WebSocket; the client's own calls pass", async () => {
    const server = await net.server(registry, { allowedOrigins: ["https://app.example"] });
    expect((await post(server.url, "/actors/counter/actions/inc", { ...json, origin: "https://app.example" }, call)).body.result).toBe(1);
    expect((await post(server.url, "/actors/counter/actions/inc", { ...json, origin: "https://other.example" }, call)).status).toBe(403);
    const client = net.client<R>(server.url);
    expect(await client.counter.getOrCreate("k").inc()).toBe(2);
  });
});
