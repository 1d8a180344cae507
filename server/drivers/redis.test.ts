import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { driverConformance } from "../../tests/support/driver-conformance.ts";
import { RedisServer } from "../../tests/support/redis-server.ts";
import type { Driver } from "./driver.ts";
import { redisDriver } from "./redis.ts";

const quiet = { warn() {} };
let server: RedisServer;
let prefixes = 0;

beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.stop();
});

// Each test its own key prefix on the file's one server; "reopening" is a new driver on the
// same prefix with the same node id, as a node restarted with its configured id (a new node
// id would have to wait for the old process's leases to expire: see the ownership tests).
driverConformance("redis", async () => {
  const keyPrefix = `conformance${++prefixes}:`;
  const opened: Driver[] = [];
  const open = () => {
    const driver = redisDriver({ url: server.url, keyPrefix, nodeId: "conformance-node", log: quiet });
    opened.push(driver);
    return driver;
  };
  return {
    driver: open(),
    reopen: async () => open(),
    async cleanup() {
      for (const driver of opened) await driver.close();
      const redis = new Redis(server.url);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
});
