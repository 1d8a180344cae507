/**
 * Issue 12, item 8: a lookup of an actor that does not exist takes a lease (a fencing token)
 * to load it; the token was kept in memory forever, so lookups of random missing keys grew
 * the driver without bound. Tokens of missing actors are now forgotten on release (a floor
 * keeps every later token above them: none is ever handed out twice), on every driver.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { actor, setup } from "tandem";
import { createServer, fileDriver, memoryDriver, type FileDriver, type MemoryDriver } from "tandem/server";
import { rejection } from "./seed-helpers.ts";

const counter = actor({
  state: { n: 0 },
  actions: { add: (c) => ++c.state.n },
});

const registry = setup({ use: { counter } });

for (const kind of ["memory", "file"] as const) {
  test(`lookups of missing actors leave no fencing token behind (${kind} driver), and fencing still holds`, async () => {
    const dir = kind === "file" ? await mkdtemp(join(tmpdir(), "tandem-missing-")) : "";
    const driver: MemoryDriver | FileDriver = kind === "memory" ? memoryDriver() : fileDriver({ dir });
    const server = createServer(registry, { driver, logger: false });
    try {
      await server.listen();
      expect(await server.client.counter.getOrCreate("exists").add()).toBe(1);
      const before = driver.tokensHeld;
      for (let i = 0; i < 200; i++) {
        expect((await rejection(server.client.counter.get(`missing-${i}`).add())).code).toBe("actor_not_found");
        if (i % 20 === 0) {
          const response = await fetch(`${server.url}/actors/counter/actions/add`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: `http-missing-${i}` }) });
          expect(response.status).toBe(404);
        }
      }
      expect(driver.tokensHeld).toBe(before);
      // A key looked up while missing can be created afterwards, and its lease fences as before.
      expect(await server.client.counter.getOrCreate("missing-3").add()).toBe(1);
      const id = await server.client.counter.get("missing-3").resolve();
      const stale = await driver.acquire(id); // a newer owner: the server's lease is now stale
      const error = await rejection(server.client.counter.get("missing-3").add());
      expect(error.code).toBe("internal_error");
      await driver.release(stale);
    } finally {
      await server.close();
      if (dir !== "") await rm(dir, { recursive: true, force: true });
    }
  });
}
