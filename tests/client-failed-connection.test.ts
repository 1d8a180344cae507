/**
 * A connection the actor refused for good (onAuth threw) stays refused: when the socket
 * reconnects for the client's other connections it does not subscribe again, its status
 * stays "offline" (client/connection-status.ts: "failed" is terminal) and it reports no
 * second error. Real server, real sockets, a TCP proxy to cut the link.
 */
import { describe, expect, test } from "vitest";
import { actor, Forbidden, setup, type TandemError } from "tandem";
import type { ConnectionStatus } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const refusals = { count: 0 };

const room = actor({
  state: { n: 0 },
  onAuth: ({ params }) => {
    if ((params as { token?: string }).token !== "ok") {
      refusals.count++;
      throw new Forbidden("Not you");
    }
    return { userId: "ok" };
  },
  actions: {
    inc: (c) => ++c.state.n,
  },
});
const registry = setup({ use: { room } });
type R = typeof registry;

describe("a refused connection", () => {
  const net = useNetwork();

  test("stays refused across a reconnect: no subscribe, no status change, no second error", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const proxy = await net.proxy(server.port);
    const client = net.client<R>(proxy.url);
    const good = client.room.getOrCreate("r", { params: { token: "ok" } }).connect();
    const bad = client.room.getOrCreate("r", { params: { token: "bad" } }).connect();
    await good.whenSynced();
    await expect(bad.whenSynced()).rejects.toMatchObject({ code: "forbidden" });
    const refusedBefore = refusals.count;
    const statuses: ConnectionStatus[] = [];
    const errors: TandemError[] = [];
    bad.onStatus((status) => statuses.push(status));
    bad.onError((error) => errors.push(error));

    proxy.cut();
    await waitFor(() => good.status === "offline", { what: "the link down" });
    proxy.restore();
    await good.whenSynced();
    await expect(good.inc()).resolves.toBe(1); // a round trip after the resubscribes
    expect(statuses).toEqual([]);
    expect(errors).toEqual([]);
    expect(refusals.count).toBe(refusedBefore);
    expect(bad.status).toBe("offline");
    await expect(bad.inc()).rejects.toMatchObject({ code: "forbidden" });
  });
});
