/**
 * Compound keys and actor identity: which keys name the same actor, get/create/getForId
 * semantics and their error codes, invalid keys, and concurrent creation.
 */
import { expect, test } from "vitest";
import { actor, setup } from "tandem";
import { memoryDriver } from "tandem/server";
import { rejection, useServers } from "./seed-helpers.ts";

const box = actor({
  state: { value: "", key: [] as string[] },
  onCreate: (c) => {
    c.state.key = [...c.key];
  },
  actions: {
    set: (c, value: string) => {
      c.state.value = value;
    },
    get: (c) => c.state.value,
    key: (c) => c.state.key,
    ctxKey: (c) => [...c.key],
    ownId: (c) => c.actorId,
  },
});
const other = actor({ state: { n: 0 }, actions: { n: (c) => c.state.n } });
const registry = setup({ use: { box, other } });

const start = useServers();

test('["a","b"], ["a/b"] and "a,b" are three different actors', async () => {
  const server = start(registry);
  const keys = [["a", "b"], ["a/b"], "a,b", ["a,b", ""], ['a","b'], ["a", "b", ""]] as const;
  for (const [i, key] of keys.entries()) await server.client.box.getOrCreate(key).set(`v${i}`);
  for (const [i, key] of keys.entries()) expect(await server.client.box.get(key).get()).toBe(`v${i}`);
  const ids = await Promise.all(keys.map((key) => server.client.box.get(key).resolve()));
  expect(new Set(ids).size).toBe(keys.length);
  expect(await server.client.box.get(["a", "b"]).ctxKey()).toEqual(["a", "b"]);
  expect(await server.client.box.get(["a/b"]).ctxKey()).toEqual(["a/b"]);
  expect(await server.client.box.get("a,b").ctxKey()).toEqual(["a,b"]);
});

test('"x" and ["x"] are the same actor', async () => {
  const server = start(registry);
  await server.client.box.getOrCreate("x").set("from string");
  expect(await server.client.box.get(["x"]).get()).toBe("from string");
  await expect(server.client.box.create(["x"])).rejects.toMatchObject({ code: "actor_already_exists" });
  expect(await server.client.box.get("x").resolve()).toBe(await server.client.box.get(["x"]).resolve());
  expect(await server.client.box.get("x").key()).toEqual(["x"]);
});

test("no key and [] are the same actor", async () => {
  const server = start(registry);
  await server.client.box.getOrCreate().set("default");
  expect(await server.client.box.get([]).get()).toBe("default");
  expect(await server.client.box.get().ctxKey()).toEqual([]);
  await expect(server.client.box.create([])).rejects.toMatchObject({ code: "actor_already_exists" });
  // The empty string is a key of its own.
  await expect(server.client.box.get("").get()).rejects.toMatchObject({ code: "actor_not_found" });
});

test("the same key under two kinds names two actors", async () => {
  const server = start(registry);
  await server.client.box.getOrCreate("k").set("box");
  expect(await server.client.other.getOrCreate("k").n()).toBe(0);
  expect(await server.client.box.get("k").resolve()).not.toBe(await server.client.other.get("k").resolve());
});

test("get on a missing actor fails with actor_not_found and creates nothing", async () => {
  const driver = memoryDriver();
  const server = start(registry, { driver });
  const error = await rejection(server.client.box.get("missing").get());
  expect(error.code).toBe("actor_not_found");
  await expect(server.client.box.get("missing").resolve()).rejects.toMatchObject({ code: "actor_not_found" });
  expect(driver.size).toBe(0);
  expect(server.runtime.loaded.size).toBe(0);
  // The connection of a missing actor is refused too.
  const conn = server.client.box.get("missing").connect();
  await expect(conn.whenSynced()).rejects.toMatchObject({ code: "actor_not_found" });
  await expect(conn.get()).rejects.toMatchObject({ code: "actor_not_found" });
  await conn.dispose();
});

test("create of an existing actor fails with actor_already_exists, loaded or stored", async () => {
  const driver = memoryDriver();
  const first = start(registry, { driver });
  const handle = await first.client.box.create(["c", "1"]);
  await handle.set("original");
  await expect(first.client.box.create(["c", "1"])).rejects.toMatchObject({ code: "actor_already_exists" });
  await first.close();
  // After a restart the actor is only in storage: create must still refuse.
  const second = start(registry, { driver });
  await expect(second.client.box.create(["c", "1"])).rejects.toMatchObject({ code: "actor_already_exists" });
  expect(await second.client.box.get(["c", "1"]).get()).toBe("original");
});

test("an unknown actor kind fails with actor_not_found", async () => {
  const server = start(registry);
  const client = server.client as unknown as Record<string, { getOrCreate(key: string): { resolve(): Promise<string> } }>;
  await expect(client.nope!.getOrCreate("a").resolve()).rejects.toMatchObject({ code: "actor_not_found" });
});

test("getForId with the id from resolve() reaches the same actor, also after a restart", async () => {
  const driver = memoryDriver();
  const first = start(registry, { driver });
  const handle = first.client.box.getOrCreate(["org", "doc"]);
  const id = await handle.resolve();
  expect(typeof id).toBe("string");
  await handle.set("hello");
  const byId = first.client.box.getForId(id);
  expect(await byId.get()).toBe("hello");
  expect(await byId.ownId()).toBe(id);
  expect(await byId.resolve()).toBe(id);
  await byId.set("via id");
  expect(await handle.get()).toBe("via id");
  await first.close();

  const second = start(registry, { driver });
  expect(await second.client.box.getForId(id).get()).toBe("via id");
  expect(await second.client.box.getForId(id).ctxKey()).toEqual(["org", "doc"]);
});

test("getForId with a garbage id or another kind's id fails with actor_not_found", async () => {
  const driver = memoryDriver();
  const server = start(registry, { driver });
  const boxId = await server.client.box.getOrCreate("b").resolve();
  const otherId = await server.client.other.getOrCreate("o").resolve();
  for (const id of ["garbage", "", "../../etc/passwd", "A".repeat(32), boxId.slice(1), `${boxId}x`]) {
    await expect(server.client.box.getForId(id).get(), `id ${JSON.stringify(id)}`).rejects.toMatchObject({ code: "actor_not_found" });
  }
  // Another kind's id, while that actor is loaded...
  await expect(server.client.box.getForId(otherId).get()).rejects.toMatchObject({ code: "actor_not_found" });
  await expect(server.client.other.getForId(boxId).n()).rejects.toMatchObject({ code: "actor_not_found" });
  await server.close();
  // ...and while it is only in storage.
  const second = start(registry, { driver });
  await expect(second.client.box.getForId(otherId).get()).rejects.toMatchObject({ code: "actor_not_found" });
  await expect(second.client.other.getForId(boxId).n()).rejects.toMatchObject({ code: "actor_not_found" });
  expect(await second.client.box.getForId(boxId).get()).toBe("");
  // Non-string ids.
  const loose = second.client.box as unknown as { getForId(id: unknown): { get(): Promise<string> } };
  await expect(loose.getForId(42).get()).rejects.toMatchObject({ code: "actor_not_found" });
  await expect(loose.getForId(null).get()).rejects.toMatchObject({ code: "actor_not_found" });
});

test("invalid keys fail with invalid_arguments", async () => {
  const driver = memoryDriver();
  const server = start(registry, { driver });
  const loose = server.client.box as unknown as {
    get(key: unknown): { get(): Promise<string> };
    getOrCreate(key: unknown): { get(): Promise<string>; resolve(): Promise<string> };
    create(key: unknown): Promise<unknown>;
  };
  for (const key of [1, [1], ["a", 2], [null], { 0: "a" }, true, ["a", ["b"]]]) {
    await expect(loose.getOrCreate(key).get(), `key ${JSON.stringify(key)}`).rejects.toMatchObject({ code: "invalid_arguments" });
    await expect(loose.get(key).get(), `key ${JSON.stringify(key)}`).rejects.toMatchObject({ code: "invalid_arguments" });
    await expect(loose.create(key), `key ${JSON.stringify(key)}`).rejects.toMatchObject({ code: "invalid_arguments" });
  }
  // An overly long key is refused too.
  await expect(loose.getOrCreate("k".repeat(5000)).resolve()).rejects.toMatchObject({ code: "invalid_arguments" });
  expect(driver.size).toBe(0);
});

test("concurrent create of the same key: exactly one succeeds", async () => {
  const server = start(registry);
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => server.client.box.create(["race"])));
  const fulfilled = results.filter((r) => r.status === "fulfilled");
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  expect(fulfilled).toHaveLength(1);
  expect(rejected).toHaveLength(9);
  for (const r of rejected) expect(r.reason).toMatchObject({ code: "actor_already_exists" });
  expect(await server.client.box.get(["race"]).key()).toEqual(["race"]);
});

test("concurrent getOrCreate of the same key creates one actor, once", async () => {
  let creates = 0;
  const counted = actor({
    state: { n: 0 },
    onCreate: () => {
      creates++;
    },
    actions: {
      inc: (c) => ++c.state.n,
    },
  });
  const server = start(setup({ use: { counted } }));
  const results = await Promise.all(Array.from({ length: 10 }, () => server.client.counted.getOrCreate("one").inc()));
  expect([...results].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(creates).toBe(1);
});
