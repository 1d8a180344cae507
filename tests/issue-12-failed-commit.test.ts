/**
 * Issue 12, item 2: a failed commit leaves no trace. Values nested deeper than the wire
 * limit are refused on the HTTP path as on WebSocket frames (400 invalid_arguments, nothing
 * changed); an action writing state nested deeper than MAX_STATE_DEPTH fails before its
 * commit touches the document; a commit that throws inside its Yjs transaction resets the
 * actor from storage (connections closed, the caller gets internal_error, no later
 * acknowledged write lost); stored updates with a gap are refused at load, not served.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup } from "tandem";
import { createClient } from "tandem/client";
import { createServer, fileDriver, memoryDriver, type Driver, type ServerLogger, type TandemServer } from "tandem/server";
import { rejection, waitFor } from "./seed-helpers.ts";
import { actorId } from "../server/runtime/actor-id.ts";
import { MAX_VALUE_DEPTH } from "../shared/protocol/value.ts";
import { MAX_STATE_DEPTH } from "../shared/state/index.ts";

/** `depth` nested arrays around a leaf: `[[[…"leaf"…]]]`. */
function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** `depth` nested objects: `{ a: { a: … } }`. */
function nestedObject(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const box = actor({
  state: { map: {} as Record<string, unknown>, log: [] as number[] },
  actions: {
    put: (c, key: string, value: unknown) => {
      c.state.map[key] = value;
      return true;
    },
    /** Writes objects nested `depth` levels under map[key], built by the action itself. */
    putDeep: (c, key: string, depth: number) => {
      c.state.map[key] = nestedObject(depth);
      c.state.log.push(-1);
      return true;
    },
    add: (c, n: number) => {
      c.state.log.push(n);
      return c.state.log.length;
    },
    read: (c) => ({ keys: Object.keys(c.state.map), log: [...c.state.log] }),
  },
});

const registry = setup({ use: { box } });
type R = typeof registry;

const opened = { servers: [] as { close(): Promise<void> }[], dirs: [] as string[] };
afterEach(async () => {
  await Promise.all(opened.servers.splice(0).map((server) => server.close()));
  await Promise.all(opened.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Errors logged by the server, as "message: error". */
function recordingLogger(into: string[]): ServerLogger {
  const noop = () => {};
  const logger: ServerLogger = {
    debug: noop,
    info: noop,
    warn: noop,
    error: (obj, msg) => into.push(`${msg}: ${String((obj as { err?: unknown })?.err ?? "")}`),
    child: () => logger,
  };
  return logger;
}

async function serve(driver: Driver, errors: string[] = []): Promise<TandemServer<R>> {
  const server = createServer(registry, { driver, logger: recordingLogger(errors) });
  opened.servers.push(server);
  await server.listen();
  return server;
}

async function stop(server: TandemServer<R>): Promise<void> {
  opened.servers.splice(opened.servers.indexOf(server), 1);
  await server.close();
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-failed-commit-"));
  opened.dirs.push(dir);
  return dir;
}

/** `depth` nested arrays around a leaf, as JSON text (JSON.stringify itself would overflow). */
function nestedJson(depth: number): string {
  return `${"[".repeat(depth)}"leaf"${"]".repeat(depth)}`;
}

async function post(server: TandemServer<R>, action: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/actors/box/actions/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as { result?: unknown; error?: { code: string; message: string } } };
}

describe("nesting on the HTTP path", () => {
  test("bodies nesting deeper than the wire limit are refused with 400 invalid_arguments and change nothing", async () => {
    const server = await serve(memoryDriver());
    await server.client.box.getOrCreate("k").add(1);
    // At the limit: accepted, as in a WebSocket frame (args at depth 0, each arg at 1).
    const atLimit = await post(server, "put", JSON.stringify({ key: "k", args: ["ok", nested(MAX_VALUE_DEPTH - 1)] }));
    expect(atLimit.status).toBe(200);
    for (const depth of [MAX_VALUE_DEPTH, 775, 3000, 100_000]) {
      const deep = nestedJson(depth);
      const cases: [string, string, Record<string, string>][] = [
        ["args", `{"key":"k","args":["x",${deep}]}`, {}],
        ["params", `{"key":"k","args":["x",1],"params":{"p":${deep}}}`, {}],
        ["input", `{"key":"k2","mode":"getOrCreate","args":["x",1],"input":{"p":${deep}}}`, {}],
        ["key", `{"key":${deep},"args":["x",1]}`, {}],
      ];
      if (depth < 3000) cases.push(["params header", `{"key":"k","args":["x",1]}`, { "x-tandem-params": `{"p":${deep}}` }]);
      for (const [what, body, headers] of cases) {
        const answer = await post(server, "put", body, headers);
        expect({ what, depth, status: answer.status, code: answer.body.error?.code }).toEqual({ what, depth, status: 400, code: "invalid_arguments" });
      }
    }
    expect(await server.client.box.get("k").read()).toEqual({ keys: ["ok"], log: [1] });
    await expect(server.client.box.get("k2").read()).rejects.toMatchObject({ code: "actor_not_found" });
    // The server goes on serving.
    expect(await server.client.box.get("k").add(2)).toBe(2);
  });
});

describe("state nesting written by action code", () => {
  test("an action writing state deeper than the limit fails cleanly; later writes are acknowledged and survive a restart", async () => {
    const dir = await dataDir();
    const errors: string[] = [];
    const server = await serve(fileDriver({ dir }), errors);
    const handle = server.client.box.getOrCreate("k");
    await handle.add(1);
    // Just inside the limit (map is at depth 1, its key at 2: depth - 1 more levels fit).
    expect(await handle.putDeep("fits", MAX_STATE_DEPTH - 2)).toBe(true);
    for (const depth of [MAX_STATE_DEPTH, 775, 3000, 100_000]) {
      const error = await rejection(handle.putDeep(`deep${depth}`, depth));
      expect(error.code).toBe("invalid_state");
      expect(error.message).toContain(`at most ${MAX_STATE_DEPTH} levels`);
    }
    // A value that fits as an argument but not where the action writes it.
    expect((await rejection(handle.put("deepArg", nestedObject(MAX_STATE_DEPTH)))).code).toBe("invalid_state");
    expect(await handle.read()).toEqual({ keys: ["fits"], log: [1, -1] });
    for (let n = 2; n <= 5; n++) expect(await handle.add(n)).toBe(n + 1);
    expect(errors).toEqual([]);
    await stop(server);
    const again = await serve(fileDriver({ dir }));
    expect(await again.client.box.get("k").read()).toEqual({ keys: ["fits"], log: [1, -1, 2, 3, 4, 5] });
  });
});

describe("a commit that throws inside its transaction", () => {
  test("resets the actor from storage: the caller gets internal_error, connections close, later acknowledged writes survive a restart", async () => {
    const dir = await dataDir();
    const errors: string[] = [];
    const server = await serve(fileDriver({ dir }), errors);
    const handle = server.client.box.getOrCreate("k");
    await handle.add(1);
    const client = createClient<R>(server.url, { backoff: { baseMs: 20, maxMs: 200 } });
    const conn = client.box.get("k").connect();
    const statuses: string[] = [];
    conn.onStatus((status) => statuses.push(status));
    await conn.whenSynced();
    // Test hook: a deep observer of the live document that throws while the commit's
    // transaction runs — after Yjs has changed the document, before the commit is built.
    const instance = server.runtime.loaded.get(actorId("box", ["k"]))!;
    let armed = true;
    instance.root.observeDeep(() => {
      if (armed) {
        armed = false;
        throw new Error("boom inside the transaction");
      }
    });
    const failed = await rejection(handle.put("lost", 1));
    expect(failed.code).toBe("internal_error");
    expect(errors.some((line) => line.includes("actor failed: a commit failed after the document changed"))).toBe(true);
    // The instance is gone; the next call reloads the actor from what is durable.
    expect(server.runtime.loaded.get(actorId("box", ["k"]))).not.toBe(instance);
    expect(await handle.read()).toEqual({ keys: [], log: [1] });
    // The connected replica was closed, resynced, and follows later writes.
    for (let n = 2; n <= 4; n++) expect(await handle.add(n)).toBe(n);
    await waitFor(() => JSON.stringify(conn.state?.log) === "[1,2,3,4]", { what: `the replica to resync and follow (${JSON.stringify(conn.state)}, ${statuses})` });
    expect(conn.state?.map).toEqual({});
    await conn.whenSynced();
    // It was dropped (closed, so that it resynced from the reloaded actor): its status moved.
    expect(statuses.length, `statuses: ${statuses}`).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe("synced");
    client.dispose();
    await stop(server);
    const again = await serve(fileDriver({ dir }));
    expect(await again.client.box.get("k").read()).toEqual({ keys: [], log: [1, 2, 3, 4] });
  });
});

describe("gaps in stored updates", () => {
  /** An update that depends on one the actor never stored (client 7's clock 0 is missing). */
  function gapUpdate(stateUpdate: Uint8Array): Uint8Array {
    const doc = new Y.Doc();
    doc.clientID = 7;
    Y.applyUpdate(doc, stateUpdate);
    const log = doc.getMap("state").get("log") as Y.Array<number>;
    log.push([100]);
    const between = Y.encodeStateVector(doc);
    log.push([101]);
    return Y.encodeStateAsUpdate(doc, between);
  }

  for (const kind of ["memory", "file"] as const) {
    test(`refuse to load (${kind} driver), with a clear error logged and internal_error to the caller`, async () => {
      const dir = kind === "file" ? await dataDir() : "";
      const memory = memoryDriver();
      const driverFor = (): Driver => (kind === "memory" ? memory : fileDriver({ dir }));
      const server = await serve(driverFor());
      await server.client.box.getOrCreate("k").add(1);
      const id = actorId("box", ["k"]);
      const update = Y.encodeStateAsUpdate(server.runtime.loaded.get(id)!.doc);
      await stop(server);
      // Append the gapped update straight through the driver, as a damaged store would hold it.
      const writer = driverFor();
      const lease = await writer.acquire(id);
      await writer.append(id, { update: gapUpdate(update) }, lease);
      await writer.release(lease);
      if (kind === "file") await writer.close();
      const errors: string[] = [];
      const again = await serve(driverFor(), errors);
      const error = await rejection(again.client.box.get("k").read());
      expect(error.code).toBe("internal_error");
      expect(errors.join("\n")).toContain("stored updates have a gap");
      expect(again.runtime.loaded.size).toBe(0);
    });
  }
});
