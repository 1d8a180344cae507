/**
 * createServer on the Redis driver, as one node (the cluster layer — renewal loop, routing —
 * sits above it): actions persist through compactions and a restart, a schedule set before a
 * restart fires after it, exactly-once records survive.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { actor, setup } from "../../shared/index.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import { createServer } from "../create-server.ts";
import { type RedisDriver, redisDriver } from "./redis.ts";

let server: RedisServer;

beforeAll(async () => {
  server = await RedisServer.start({ appendonly: true, appendfsync: "always" });
});
afterAll(async () => {
  await server?.stop();
});

const list = actor({
  state: { items: [] as number[], rang: [] as string[] },
  privateState: { calls: 0 },
  actions: {
    add: (c, n: number) => {
      c.state.items.push(n);
      c.privateState.calls++;
      return c.state.items.length;
    },
    read: (c) => ({ items: [...c.state.items], calls: c.privateState.calls, rang: [...c.state.rang] }),
    later: (c, ms: number, label: string) => void c.schedule.after(ms, "ring", label),
    ring: (c, label: string) => void c.state.rang.push(label),
  },
});
const registry = setup({ use: { list } });

function node(): RedisDriver {
  return redisDriver({ url: server.url, keyPrefix: "srv:", nodeId: "node-1", log: { warn() {} } });
}

test("actions persist through compactions and a restart; a schedule set before the restart fires after it", async () => {
  const first = createServer(registry, { driver: node(), logger: false, compactAfterCommits: 16 });
  await first.listen();
  const handle = first.client.list.getOrCreate("a");
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => handle.add(i)));
  expect(results.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  await handle.later(300, "after restart");
  const id = await handle.resolve();
  await first.close();

  const admin = new Redis(server.url);
  expect(await admin.exists(`srv:snap:${id}`)).toBe(1); // compacted at least once
  expect(await admin.zcard("srv:alarms")).toBe(1);
  await admin.quit();

  const second = createServer(registry, { driver: node(), logger: false, compactAfterCommits: 16 });
  await second.listen();
  try {
    const read = await second.client.list.get("a").read();
    expect(read.items.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(read.calls).toBe(100);
    let rang: string[] = [];
    for (let i = 0; i < 100 && rang.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rang = (await second.client.list.get("a").read()).rang;
    }
    expect(rang).toEqual(["after restart"]);
  } finally {
    await second.close();
  }
});
