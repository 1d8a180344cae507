/**
 * A follower tab's action is a request to the leader tab, and its outcome comes back as
 * one reply to that request (client/tabs/relay-channel.ts): one tab message per outcome —
 * confirmed, rejected by the actor, or refused before it ran — never a side effect of the
 * leader's outbox re-correlated by call id, and never echoed to the follower as someone
 * else's "settled" entry. Watched from a third BroadcastChannel on the tabs' channel.
 */
import { describe, expect, test } from "vitest";
import { actor, setup, UserError } from "tandem";
import { type ClientStorage, memoryStorage, type OutboxEntry } from "tandem/client";
import { memoryDriver } from "tandem/server";
import { waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { FakeLocks, FakeTab } from "./support/tabs.ts";

const counter = actor({
  state: { n: 0 },
  actions: {
    add: (c, k: number) => {
      if (k < 0) throw new UserError("Negative", { code: "negative" });
      c.state.n += k;
      return c.state.n;
    },
  },
});
const registry = setup({ use: { counter } });
type R = typeof registry;

type Down = { t: "down"; to: string; ch: number; msg: { kind: string; id?: number; ok?: boolean } };

describe("multi-tab replies", () => {
  const net = useNetwork();

  test("each outcome of a follower's action is one reply to its request; the follower hears each settled once", async () => {
    const server = await net.server(registry, { driver: memoryDriver() });
    const shared = `multi-tab-replies-${process.pid}`;
    const storage: ClientStorage = { ...memoryStorage(), shared };
    const locks = new FakeLocks();
    const downs: Down["msg"][] = [];
    const watcher = new BroadcastChannel(`tandem ${shared}`);
    watcher.onmessage = (event: MessageEvent) => {
      const data = event.data as Down;
      if (data.t === "down") downs.push(data.msg); // one follower: every "down" is to it
    };
    try {
      const tabs = [];
      for (const name of ["leader", "follower"]) {
        const tab = new FakeTab(name, locks);
        const client = net.client<R>(server.url, { storage, multiTab: tab.multiTab, socketFactory: tab.socketFactory });
        await client.ready;
        tabs.push(client.counter.getOrCreate("c").connect());
      }
      const [leader, follower] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
      await Promise.all([leader.whenSynced(), follower.whenSynced()]);
      const settled: OutboxEntry[] = [];
      follower.onSettled((entry) => settled.push(entry));

      const outcomes = await Promise.allSettled([follower.add(1), follower.add(-1), follower.add(2)]);
      expect(outcomes.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : (outcome.reason as { code: string }).code))).toEqual([1, "negative", 3]);
      await waitFor(() => downs.filter((msg) => msg.kind === "reply").length === 3, { what: "three replies" });
      const replies = downs.filter((msg) => msg.kind === "reply");
      expect(replies.map((msg) => msg.ok)).toEqual([true, false, true]);
      expect(new Set(replies.map((msg) => msg.id)).size).toBe(3); // one per request
      // the leader's own action is announced to the follower as settled; the follower's are not echoed back
      await leader.add(10);
      await waitFor(() => settled.length === 4, { what: "the leader's action settled in the follower" });
      expect(downs.filter((msg) => msg.kind === "settled").length).toBe(1);
      expect(settled.map((entry) => entry.status)).toEqual(["confirmed", "rejected", "confirmed", "confirmed"]);
      await follower.whenSynced();
    } finally {
      watcher.close();
    }
  });
});
