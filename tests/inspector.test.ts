/**
 * The server inspector and /metrics (issue 16): off by default, refused without the token
 * on every route, what it shows of live actors (state, connections, recent activity bounded
 * per actor, schedules, exactly-once records), its admin actions, and hostile input.
 * Real server on port 0, real HTTP and WebSocket clients.
 */
import { afterEach, expect, test } from "vitest";
import { actor, setup } from "tandem";
import { createClient } from "tandem/client";
import { createServer, type TandemServer } from "tandem/server";

const TOKEN = "inspector-test-token-0123456789";

const counter = actor({
  state: { n: 0, label: "start" },
  actions: {
    inc: (c, by: number) => (c.state.n += by),
    fail: () => {
      throw new Error("nope");
    },
    later: (c, ms: number) => c.schedule.after(ms, "inc", 1),
    shout: (c, text: string) => {
      c.broadcast("shout", text);
      return text;
    },
    fill: (c, size: number) => {
      c.state.label = "x".repeat(size);
    },
  },
});
const other = actor({ state: { v: 1 }, actions: { get: (c) => c.state.v } });
const registry = setup({ use: { counter, other } });
type R = typeof registry;

const servers: TandemServer<R>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: Parameters<typeof createServer>[1] = {}): Promise<TandemServer<R>> {
  const server = createServer(registry, { logger: false, inspector: { token: TOKEN }, ...options });
  servers.push(server);
  await server.listen();
  return server;
}

const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

async function get(server: TandemServer<R>, path: string, headers: Record<string, string> = auth()) {
  const response = await fetch(`${server.url}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, any> };
}

async function post(server: TandemServer<R>, path: string, body: unknown = {}, headers: Record<string, string> = auth()) {
  const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: () => JSON.parse(text) as Record<string, any> };
}

test("without the inspector option no inspector route and no /metrics exist (404)", async () => {
  const server = createServer(registry, { logger: false });
  servers.push(server);
  await server.listen();
  const id = await server.client.counter.getOrCreate("a").resolve();
  for (const path of ["/inspector", "/inspector/api/actors", `/inspector/api/actors/counter/${id}`, "/metrics"]) {
    expect((await get(server, path)).status, path).toBe(404);
  }
  expect((await post(server, `/inspector/api/actors/counter/${id}/sleep`)).status).toBe(404);
});

test("a weak or malformed token refuses to start the server", () => {
  for (const token of ["", "short", "has spaces in it, sixteen+", "x".repeat(513), 42 as unknown as string, "tab\there-0123456789"]) {
    expect(() => createServer(registry, { logger: false, inspector: { token } }), JSON.stringify(token)).toThrow(/inspector.token/);
  }
});

test("bad inspector limits refuse to start the server (rather than fail every actor load)", () => {
  for (const [name, value] of [["inspectorRecentEntries", -1], ["inspectorRecentEntries", 1.5], ["inspectorRecentEntries", 1e9], ["inspectorMaxStateBytes", Number.NaN], ["inspectorMaxListed", -5]] as const) {
    expect(() => createServer(registry, { logger: false, inspector: { token: TOKEN }, limits: { [name]: value } }), `${name}=${value}`).toThrow(new RegExp(`limits.${name}`));
  }
});

test("every API route and /metrics: no token 401, not a bearer 401, a wrong, huge or near token 403; the page loads without one and holds no data", async () => {
  const server = await start();
  await server.client.counter.getOrCreate(["secret-key"]).inc(1);
  const id = await server.client.counter.getOrCreate(["secret-key"]).resolve();
  const routes: [string, string][] = [
    ["GET", "/inspector/api/actors"],
    ["GET", `/inspector/api/actors/counter/${id}`],
    ["POST", `/inspector/api/actors/counter/${id}/wake`],
    ["POST", `/inspector/api/actors/counter/${id}/sleep`],
    ["POST", `/inspector/api/actors/counter/${id}/reset-client`],
    ["GET", "/metrics"],
  ];
  const refusals: [Record<string, string>, number][] = [
    [{}, 401],
    [{ authorization: "" }, 401],
    [{ authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString("base64")}` }, 401],
    [{ authorization: TOKEN }, 401],
    [{ authorization: "Bearer" }, 401],
    [auth("wrong-token-0123456789abcdef"), 403],
    [auth(TOKEN.slice(0, -1)), 403],
    [auth(`${TOKEN}x`), 403],
    [auth(TOKEN.toUpperCase()), 403],
    [auth("x".repeat(12_000)), 403],
    [{ authorization: `Bearer ${TOKEN} ${TOKEN}` }, 401],
  ];
  for (const [method, path] of routes) {
    for (const [headers, status] of refusals) {
      const response = method === "GET" ? await get(server, path, headers) : await post(server, path, { clientId: "c" }, headers);
      expect(response.status, `${method} ${path} ${JSON.stringify(headers).slice(0, 60)}`).toBe(status);
      expect(response.json().error.code).toBe(status === 401 ? "unauthorized" : "forbidden");
    }
  }
  // Refused calls changed nothing: the actor is still loaded (sleep was refused).
  expect(server.runtime.loaded.has(id)).toBe(true);
  const page = await get(server, "/inspector", {});
  expect(page.status).toBe(200);
  expect(page.text).toContain("Tandem inspector");
  expect(page.text).not.toContain("secret-key");
  expect(page.text).not.toContain(TOKEN);
  // With the token: answered.
  expect((await get(server, "/inspector/api/actors")).status).toBe(200);
  expect((await get(server, "/metrics")).status).toBe(200);
  expect((await get(server, "/metrics", { authorization: `bearer   ${TOKEN}` })).status).toBe(200);
});

test("/metrics: Prometheus text with per-kind actions, outcomes, latency histograms, commits, append times, errors, events, connections and the network", async () => {
  const server = await start();
  const client = createClient<R>(server.url);
  try {
    const conn = client.counter.getOrCreate(["m"]).connect();
    await conn.whenSynced();
    await conn.inc(1);
    await conn.inc(2);
    await expect(conn.shout("hi")).resolves.toBe("hi");
    await expect(conn.fail()).rejects.toThrow();
    // An inline call counts as an action too (its latency lands in the same histogram).
    await server.client.counter.getOrCreate(["m"]).inc(0);
    const metrics = await get(server, "/metrics");
    expect(metrics.status).toBe(200);
    const text = metrics.text;
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(text).toContain("# TYPE tandem_actions_total counter");
    expect(value('tandem_actions_total{actor="counter",outcome="ok"}')).toBe(4);
    expect(value('tandem_actions_total{actor="counter",outcome="internal_error"}')).toBe(1);
    expect(value('tandem_errors_total{actor="counter",code="internal_error"}')).toBe(1);
    expect(value('tandem_action_duration_seconds_count{actor="counter"}')).toBe(5);
    expect(value('tandem_action_duration_seconds_bucket{actor="counter",le="+Inf"}')).toBe(5);
    expect(value('tandem_commits_total{actor="counter"}')).toBeGreaterThanOrEqual(4);
    expect(value('tandem_driver_append_seconds_count{actor="counter"}')).toBe(value('tandem_commits_total{actor="counter"}'));
    expect(value('tandem_events_total{actor="counter"}')).toBe(1);
    expect(value('tandem_connections{actor="counter"}')).toBe(1);
    expect(value('tandem_actors_loaded{actor="counter",status="running"}')).toBe(1);
    expect(value('tandem_actors_loaded{actor="other",status="running"}')).toBe(0);
    expect(value("tandem_sockets")).toBe(1);
    expect(value("tandem_channels")).toBe(1);
    expect(value("tandem_received_bytes_total")).toBeGreaterThan(0);
    expect(value("tandem_sent_bytes_total")).toBeGreaterThan(0);
    expect(value("tandem_fanout_queued_bytes")).toBe(0);
    // Buckets are cumulative and the labels never name a key or an id.
    const buckets = text.split("\n").filter((l) => l.startsWith('tandem_action_duration_seconds_bucket{actor="counter"'));
    const counts = buckets.map((l) => Number(l.split(" ")[1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const id = await client.counter.getOrCreate(["m"]).resolve();
    expect(text).not.toContain(id);
    expect(text).not.toContain('"m"');
    // Every sample line is `name{labels} value` or `name value`.
    for (const line of text.trim().split("\n")) if (!line.startsWith("#")) expect(line).toMatch(/^tandem_[a-z_]+(\{[^}]*\})? [-+0-9.eInfa]+$/);
    conn.dispose();
  } finally {
    client.dispose();
  }
});

test("an actor in the inspector: state, connections with identity, recent activity (bounded ring, newest first), schedules and exactly-once records", async () => {
  const server = await start({ limits: { inspectorRecentEntries: 4 } });
  const client = createClient<R>(server.url);
  try {
    const conn = client.counter.getOrCreate(["i"], { params: { room: "blue" } } as never).connect();
    await conn.whenSynced();
    for (let i = 0; i < 6; i++) await conn.inc(1);
    await conn.later(60_000);
    await expect(conn.fail()).rejects.toThrow();
    const id = await client.counter.getOrCreate(["i"]).resolve();
    const list = (await get(server, "/inspector/api/actors")).json();
    expect(list.total).toBe(1);
    expect(list.actors[0]).toMatchObject({ name: "counter", key: ["i"], id, status: "running", loaded: true, connections: 1, ownerNodeId: null, storageBytes: null });
    expect(typeof list.actors[0].lastCommitAt).toBe("number");
    const detail = (await get(server, `/inspector/api/actors/counter/${id}`)).json();
    expect(detail.state).toEqual({ n: 6, label: "start" });
    expect(detail.stateTooLarge).toBe(false);
    expect(detail.storageNote).toMatch(/not known/);
    expect(detail.connectionList.total).toBe(1);
    expect(detail.connectionList.items[0].address).toBe("127.0.0.1");
    // The ring keeps the newest 4 of 8 actions.
    expect(detail.recent.map((r: { name: string; outcome: string }) => `${r.name}:${r.outcome}`)).toEqual(["fail:internal_error", "later:ok", "inc:ok", "inc:ok"]);
    expect(detail.recent[0].ms).toBeGreaterThanOrEqual(0);
    expect(detail.schedules.total).toBe(1);
    expect(detail.schedules.items[0]).toMatchObject({ action: "inc", args: [1] });
    expect(detail.exactlyOnce.total).toBe(1);
    expect(detail.exactlyOnce.owners[0]).toMatchObject({ clientId: client.clientId, lastSeq: expect.any(Number), records: 8 });
    conn.dispose();
  } finally {
    client.dispose();
  }
});

test("a state over inspectorMaxStateBytes is answered with its size and no tree", async () => {
  const server = await start({ limits: { inspectorMaxStateBytes: 1000 } });
  const handle = server.client.counter.getOrCreate(["big"]);
  await handle.fill(5000);
  const detail = (await get(server, `/inspector/api/actors/counter/${await handle.resolve()}`)).json();
  expect(detail.stateTooLarge).toBe(true);
  expect(detail.state).toBeNull();
  expect(detail.stateBytes).toBeGreaterThan(5000);
});

test("admin: sleep unloads, the actor then shows as asleep; wake loads it again; each is logged", async () => {
  const logged: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn: (_obj: unknown, msg?: string) => void logged.push(String(msg)),
    error() {},
    child() {
      return logger;
    },
  };
  const server = await start({ logger });
  const handle = server.client.counter.getOrCreate(["s"]);
  await handle.inc(5);
  const id = await handle.resolve();
  expect((await post(server, `/inspector/api/actors/counter/${id}/sleep`)).json()).toEqual({ slept: true });
  expect(server.runtime.loaded.has(id)).toBe(false);
  expect((await get(server, `/inspector/api/actors/counter/${id}`)).json()).toMatchObject({ loaded: false, status: "asleep", key: ["s"] });
  expect((await post(server, `/inspector/api/actors/counter/${id}/sleep`)).json()).toEqual({ slept: false });
  expect((await post(server, `/inspector/api/actors/counter/${id}/wake`)).json()).toEqual({ woken: true, status: "running" });
  expect(server.runtime.loaded.has(id)).toBe(true);
  expect((await get(server, `/inspector/api/actors/counter/${id}`)).json().state.n).toBe(5);
  expect(logged).toEqual(expect.arrayContaining(["inspector: actor put to sleep", "inspector: actor woken"]));
});

test("admin: reset a client id forgets its records durably (gone after a reload too); its next seq runs as new; other client ids keep theirs", async () => {
  const server = await start();
  const a = createClient<R>(server.url);
  const b = createClient<R>(server.url);
  try {
    const connA = a.counter.getOrCreate(["r"]).connect();
    const connB = b.counter.getOrCreate(["r"]).connect();
    await connA.inc(1);
    await connB.inc(1);
    const id = await a.counter.getOrCreate(["r"]).resolve();
    const owners = () => server.runtime.loaded.get(id)!.exactlyOnce.ownerList(100).map((o) => o.clientId);
    expect(owners().sort()).toEqual([a.clientId, b.clientId].sort());
    expect((await post(server, `/inspector/api/actors/counter/${id}/reset-client`, { clientId: a.clientId })).json()).toEqual({ removed: 1 });
    expect(owners()).toEqual([b.clientId]);
    expect((await post(server, `/inspector/api/actors/counter/${id}/reset-client`, { clientId: "nobody" })).json()).toEqual({ removed: 0 });
    // Durable: put to sleep and reloaded from storage, A's records stay forgotten.
    connA.dispose();
    connB.dispose();
    await post(server, `/inspector/api/actors/counter/${id}/sleep`);
    await post(server, `/inspector/api/actors/counter/${id}/wake`);
    expect(owners()).toEqual([b.clientId]);
    const again = a.counter.getOrCreate(["r"]).connect();
    expect(await again.inc(10)).toBe(12);
    expect(owners().sort()).toEqual([a.clientId, b.clientId].sort());
    again.dispose();
  } finally {
    a.dispose();
    b.dispose();
  }
});

test("hostile targets: traversal, malformed and foreign ids, unknown kinds, bad client ids are refused and change nothing", async () => {
  const server = await start();
  const id = await server.client.counter.getOrCreate(["h"]).resolve();
  await server.client.counter.getOrCreate(["h"]).inc(1);
  const otherId = await server.client.other.getOrCreate(["h"]).resolve();
  await server.client.other.getOrCreate(["h"]).get();
  const bad = ["..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", `${id}%00`, "x".repeat(2000), encodeURIComponent("<script>"), `${id}Z`, `${id.slice(0, -1)}!`];
  for (const target of bad) {
    for (const suffix of ["", "/wake", "/sleep", "/reset-client"]) {
      const response = suffix === "" ? await get(server, `/inspector/api/actors/counter/${target}`) : await post(server, `/inspector/api/actors/counter/${target}${suffix}`, { clientId: "c" });
      // 414: fastify refuses a path parameter over its maxParamLength before any route runs.
      expect([400, 404, 414], `${target}${suffix}`).toContain(response.status);
    }
  }
  // An id of another kind is not found under this kind, and is not put to sleep.
  expect((await get(server, `/inspector/api/actors/counter/${otherId}`)).status).toBe(404);
  expect((await post(server, `/inspector/api/actors/counter/${otherId}/sleep`)).status).toBe(404);
  expect(server.runtime.loaded.has(otherId)).toBe(true);
  // An unknown kind, including prototype names.
  for (const kind of ["nope", "__proto__", "constructor", "toString"]) {
    expect((await get(server, `/inspector/api/actors/${kind}/${id}`)).status, kind).toBe(404);
  }
  // Client ids of the wrong type or size.
  for (const clientId of [42, null, "", "x".repeat(129), "a\u0000b", { id: "x" }]) {
    const response = await post(server, `/inspector/api/actors/counter/${id}/reset-client`, { clientId });
    expect(response.status, JSON.stringify(clientId)).toBe(400);
    expect(response.json().error.code).toBe("invalid_arguments");
  }
  expect(server.runtime.loaded.has(id)).toBe(true);
  expect((await get(server, `/inspector/api/actors/counter/${id}`)).json().state.n).toBe(1);
});

test("many inspector clients at once are all answered, and hold nothing after (polling: no server-side stream per viewer)", async () => {
  const server = await start();
  const handle = server.client.counter.getOrCreate(["many"]);
  await handle.inc(1);
  const id = await handle.resolve();
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? get(server, "/metrics") : i % 3 === 1 ? get(server, "/inspector/api/actors") : get(server, `/inspector/api/actors/counter/${id}`))),
  );
  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(server.network.sockets).toBe(0);
});

test("label values are escaped on every path (samples and histogram series), though kinds (setup: letters, digits, _ and -) and codes (ErrorCodes) never need it", async () => {
  const { Exposition, escapeLabelValue } = await import("../server/inspector/prometheus.ts");
  const { Histogram } = await import("../server/inspector/histogram.ts");
  expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  const odd = 'we"ird\\kind\nx';
  const histogram = new Histogram([0.1, 1]);
  histogram.observe(0.5);
  const text = new Exposition().family("tandem_x_total", "counter", "help\nwith a newline").sample("tandem_x_total", { actor: odd }, 1).family("tandem_h", "histogram", "h").histogram("tandem_h", { actor: odd }, histogram).text();
  expect(text).toContain('tandem_x_total{actor="we\\"ird\\\\kind\\nx"} 1');
  expect(text).toContain('tandem_h_bucket{actor="we\\"ird\\\\kind\\nx",le="1"} 1');
  expect(text).toContain("# HELP tandem_x_total help\\nwith a newline");
  expect(text.trim().split("\n")).toHaveLength(10);
  for (const line of text.trim().split("\n")) if (!line.startsWith("#")) expect(line).toMatch(/^tandem_[a-z_]+(\{([a-z]+="([^"\\\n]|\\["\\n])*",?)*\})? [-+0-9.eInfa]+$/);
  expect(() => setup({ use: { [odd]: actor({ state: {}, actions: {} }) } })).toThrow(/not a valid actor name/);
});

test("with a cluster driver: a live actor shows this node as its owner; one live on another node shows as not loaded here, with that owner", async () => {
  const { memoryCluster } = await import("./support/memory-cluster.ts");
  const cluster = memoryCluster({ leaseMs: 5000 });
  const a = await start({ driver: cluster.node("node-A") });
  const b = await start({ driver: cluster.node("node-B") });
  const handle = a.client.counter.getOrCreate(["owned"]);
  await handle.inc(1);
  const id = await handle.resolve();
  const list = (await get(a, "/inspector/api/actors")).json();
  expect(list.nodeId).toBe("node-A");
  expect(list.actors[0]).toMatchObject({ id, ownerNodeId: "node-A" });
  expect((await get(a, `/inspector/api/actors/counter/${id}`)).json()).toMatchObject({ loaded: true, ownerNodeId: "node-A" });
  expect((await get(b, `/inspector/api/actors/counter/${id}`)).json()).toMatchObject({ loaded: false, status: "elsewhere", ownerNodeId: "node-A", key: ["owned"] });
  expect((await get(b, "/inspector/api/actors")).json().total).toBe(0);
});

test("direct edits count by outcome (accepted, refused by onEdit) and show in the recent activity; HTTP actions count like the others", async () => {
  const Y = await import("yjs");
  const { InvalidArguments } = await import("../shared/errors.ts");
  const pad = actor({
    state: { notes: new Y.Text("") },
    canEdit: () => true,
    onEdit: (c) => {
      if (c.state.notes.toString().includes("nope")) throw new InvalidArguments("no nope");
    },
    actions: { len: (c) => c.state.notes.length },
  });
  const edits = setup({ use: { pad } });
  const server = createServer(edits, { logger: false, inspector: { token: TOKEN } });
  servers.push(server as never);
  await server.listen();
  const client = createClient<typeof edits>(server.url);
  try {
    const conn = client.pad.getOrCreate("p").connect();
    await conn.whenSynced();
    const notes = () => conn.doc.getMap("state").get("notes") as InstanceType<typeof Y.Text>;
    notes().insert(0, "hello");
    await expect.poll(() => conn.pending).toBe(0);
    notes().insert(0, "nope ");
    await expect.poll(() => conn.pending).toBe(0);
    // Over HTTP (a handle's call without a connection).
    expect(await client.pad.getOrCreate("p").len()).toBe(5);
    const text = await (await fetch(`${server.url}/metrics`, { headers: auth() })).text();
    expect(text).toContain('tandem_edits_total{actor="pad",outcome="ok"} 1');
    expect(text).toContain('tandem_edits_total{actor="pad",outcome="invalid_arguments"} 1');
    expect(text).toContain('tandem_errors_total{actor="pad",code="invalid_arguments"} 1');
    expect(text).toContain('tandem_actions_total{actor="pad",outcome="ok"} 1');
    const id = await client.pad.getOrCreate("p").resolve();
    const detail = (await get(server as never, `/inspector/api/actors/pad/${id}`)).json();
    expect(detail.recent.map((r: { kind: string; name: string; outcome: string }) => `${r.kind}:${r.name}:${r.outcome}`)).toEqual(["action:len:ok", "edit:(edit):invalid_arguments", "edit:(edit):ok"]);
    expect(detail.state).toEqual({ notes: "hello" });
    conn.dispose();
  } finally {
    client.dispose();
  }
});

test("frames the network refuses count by error code in tandem_refused_frames_total", async () => {
  const { RawSocket } = await import("./support/raw-socket.ts");
  const server = await start();
  const raw = await RawSocket.open(server.url);
  try {
    await raw.hello();
    raw.sendBytes(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]));
    const error = await raw.nextError(0);
    const text = (await get(server, "/metrics")).text;
    expect(text).toContain(`tandem_refused_frames_total{code="${error.error.code}"} 1`);
  } finally {
    await raw.close();
  }
});
