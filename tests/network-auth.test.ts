/**
 * Auth over the network: onAuth sees the intents of each request, runs before the actor
 * loads (a refused caller costs the actor nothing), maps Unauthorized/Forbidden to 401/403
 * and to error frames, reads params from a header (never the URL), and its result is
 * `c.conn.auth`.
 */
import { beforeEach, describe, expect, test } from "vitest";
import { actor, Forbidden, setup, Unauthorized } from "tandem";
import { memoryDriver } from "tandem/server";
import { rejection, useServers, waitFor, within } from "./seed-helpers.ts";
import { Kind } from "../shared/protocol/index.ts";
import { useNetwork } from "./support/raw-socket.ts";

interface AuthCall {
  intents: string[];
  params: unknown;
  url: string | undefined;
  paramsHeader: string | null;
  key: readonly string[];
}

const calls = { auth: [] as AuthCall[], createState: 0, onStart: 0 };

const vault = actor({
  createState: () => {
    calls.createState++;
    return { entries: [] as string[] };
  },
  onStart: () => {
    calls.onStart++;
  },
  onAuth: ({ params, intents, request, actor: target }) => {
    calls.auth.push({
      intents: [...intents].sort(),
      params,
      url: request?.url,
      paramsHeader: request?.headers.get("x-tandem-params") ?? null,
      key: target.key,
    });
    if (params.token === "forbidden") throw new Forbidden("Not you");
    if (!params.token) throw new Unauthorized("Who are you?");
    return { userId: params.token, role: params.role ?? "member", issuedAt: 42 };
  },
  actions: {
    add: (c, text: string) => {
      c.state.entries.push(`${c.conn.auth.userId}:${text}`);
      return c.state.entries.length;
    },
    whoami: (c) => c.conn.auth,
  },
});

const registry = setup({ use: { vault } });
type R = typeof registry;

const net = useNetwork();
const start = useServers();

beforeEach(() => {
  calls.auth.length = 0;
  calls.createState = 0;
  calls.onStart = 0;
});

const lastIntents = () => calls.auth.at(-1)?.intents;

describe("onAuth intents", () => {
  test("HTTP actions and resolve", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const params = { token: "ada" };
    await client.vault.getOrCreate("k", { params }).add("x");
    expect(lastIntents()).toEqual(["action", "create"]);
    await client.vault.get("k", { params }).add("y");
    expect(lastIntents()).toEqual(["action"]);
    const id = await client.vault.get("k", { params }).resolve();
    expect(lastIntents()).toEqual(["get"]);
    await client.vault.getOrCreate("k2", { params }).resolve();
    expect(lastIntents()).toEqual(["create", "get"]);
    await client.vault.create("k3", { params });
    expect(lastIntents()).toEqual(["create", "get"]);
    await client.vault.getForId(id, { params }).add("z");
    expect(lastIntents()).toEqual(["action"]);
    expect(calls.auth.map((c) => c.key)).toEqual([["k"], ["k"], ["k"], ["k2"], ["k3"], ["k"]]); // by id: the real key
  });

  test("connections: connect, plus create for getOrCreate", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const params = { token: "ada" };
    const created = client.vault.getOrCreate("k", { params }).connect();
    await created.whenSynced();
    expect(lastIntents()).toEqual(["connect", "create"]);
    const plain = client.vault.get("k", { params: { token: "bob" } }).connect();
    await plain.whenSynced();
    expect(lastIntents()).toEqual(["connect"]);
    const byId = client.vault.getForId(plain.actorId!, { params: { token: "cy" } }).connect();
    await byId.whenSynced();
    expect(lastIntents()).toEqual(["connect"]);
    const made = await client.vault.create("fresh", { params });
    const madeConn = made.connect();
    await madeConn.whenSynced();
    expect(lastIntents()).toEqual(["connect"]);
  });
});

describe("refused callers cost the actor nothing", () => {
  test("an Unauthorized caller never triggers createState or onStart (HTTP and WS)", async () => {
    const driver = memoryDriver();
    const server = await net.server(registry, { driver });
    const client = net.client<R>(server.url);
    expect(await rejection(client.vault.getOrCreate("k").add("x"))).toMatchObject({ code: "unauthorized" });
    expect(await rejection(client.vault.getOrCreate("k").resolve())).toMatchObject({ code: "unauthorized" });
    expect(await rejection(client.vault.create("k", { params: { token: "forbidden" } }))).toMatchObject({ code: "forbidden" });
    const conn = client.vault.getOrCreate("k").connect();
    expect(await rejection(within(conn.whenSynced(), 2000, "whenSynced"))).toMatchObject({ code: "unauthorized" });
    expect(calls.auth.length).toBe(4);
    expect(calls.createState).toBe(0);
    expect(calls.onStart).toBe(0);
    expect(driver.size).toBe(0);
  });

  test("a refused caller does not wake a stored actor", async () => {
    const driver = memoryDriver();
    const first = start(registry, { driver });
    await first.client.vault.getOrCreate("stored", { auth: { userId: "ada", role: "member", issuedAt: 0 } }).add("kept");
    await first.close();
    calls.onStart = 0;
    const server = await net.server(registry, { driver });
    const client = net.client<R>(server.url);
    expect(await rejection(client.vault.get("stored").add("x"))).toMatchObject({ code: "unauthorized" });
    const conn = client.vault.get("stored", { params: { token: "forbidden" } }).connect();
    expect(await rejection(within(conn.whenSynced(), 2000, "whenSynced"))).toMatchObject({ code: "forbidden" });
    expect(calls.onStart).toBe(0);
    expect(calls.createState).toBe(1); // only the trusted inline call created it
  });
});

describe("Unauthorized and Forbidden", () => {
  test("map to HTTP 401 and 403 with the error as JSON", async () => {
    const server = await net.server(registry);
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const unauthorized = await post("/actors/vault/actions/add", { key: "k", mode: "getOrCreate", args: ["x"] });
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ error: { code: "unauthorized", message: "Who are you?", group: "auth" } });
    const forbidden = await post("/actors/vault/resolve", { key: "k", mode: "getOrCreate" }, { "x-tandem-params": JSON.stringify({ token: "forbidden" }) });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: { code: "forbidden", message: "Not you", group: "auth" } });
    // Params in the body work as well as in the header.
    const ok = await post("/actors/vault/actions/whoami", { key: "k", mode: "getOrCreate", params: { token: "ada" } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ result: { userId: "ada", role: "member", issuedAt: 42 } });
  });

  test("reach a connection as whenSynced rejections and onError, and a raw socket as unsubscribed", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const errors: string[] = [];
    const unauthorized = client.vault.getOrCreate("k").connect();
    unauthorized.onError((error) => errors.push(error.code));
    const forbidden = client.vault.getOrCreate("k", { params: { token: "forbidden" } }).connect();
    forbidden.onError((error) => errors.push(error.code));
    const [u, f] = await Promise.all([rejection(within(unauthorized.whenSynced(), 2000)), rejection(within(forbidden.whenSynced(), 2000))]);
    expect(u).toBeInstanceOf(Unauthorized);
    expect(f).toBeInstanceOf(Forbidden);
    expect(errors.sort()).toEqual(["forbidden", "unauthorized"]);
    // A good connection on the same socket is not affected.
    const good = client.vault.getOrCreate("k", { params: { token: "ada" } }).connect();
    await good.whenSynced();
    expect(await good.add("hi")).toBe(1);

    const raw = await net.raw(server.url);
    await raw.hello();
    const refused = await rejection(raw.subscribe(1, "vault", "k", { params: {} }));
    expect(refused.wire).toMatchObject({ code: "unauthorized", group: "auth" });
    expect(raw.all(Kind.unsubscribed, 1)[0]?.retry).toBe(false);
    // The socket stays open and serves another channel.
    await raw.subscribe(2, "vault", "k", { params: { token: "raw" } });
    const ack = await raw.action(2, 1, "add", ["from raw"]);
    expect(ack).toMatchObject({ ok: true, result: 2 });
  });
});

describe("params and c.conn.auth", () => {
  test("params travel in the x-tandem-params header and subscribe frames, never in a URL", async () => {
    const urls: string[] = [];
    const server = await net.server(registry, {
      beforeListen: (s) =>
        s.app.addHook("onRequest", async (request) => {
          urls.push(request.url);
        }),
    });
    const client = net.client<R>(server.url);
    const secret = "s3cr3t-token";
    const params = { token: secret, role: "admin" };
    await client.vault.getOrCreate(["org", "k"], { params }).add("x");
    await client.vault.get(["org", "k"], { params }).resolve();
    const conn = client.vault.get(["org", "k"], { params }).connect();
    await conn.whenSynced();
    expect(urls.length).toBeGreaterThanOrEqual(3);
    expect(urls.some((url) => url.startsWith("/connect"))).toBe(true);
    for (const url of urls) {
      expect(url).not.toContain(secret);
      expect(url).not.toContain("admin");
      expect(url).not.toContain("?");
    }
    const http = calls.auth.filter((c) => !c.url?.startsWith("/connect"));
    expect(http.length).toBe(2);
    for (const call of http) expect(JSON.parse(call.paramsHeader!)).toEqual(params);
    expect(calls.auth.at(-1)).toMatchObject({ url: "/connect", params });
  });

  test("c.conn.auth in actions is what onAuth returned, over HTTP and WS", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url);
    const expected = { userId: "ada", role: "owner", issuedAt: 42 };
    expect(await client.vault.getOrCreate("k", { params: { token: "ada", role: "owner" } }).whoami()).toEqual(expected);
    const conn = client.vault.get("k", { params: { token: "ada", role: "owner" } }).connect();
    await conn.whenSynced();
    expect(await conn.whoami()).toEqual(expected);
    const other = client.vault.get("k", { params: { token: "bob" } }).connect();
    await other.whenSynced();
    expect(await other.add("mine")).toBe(1);
    await waitFor(() => conn.state?.entries.length === 1, { what: "the entry in the other replica" });
    expect(conn.state?.entries).toEqual(["bob:mine"]);
  });
});
