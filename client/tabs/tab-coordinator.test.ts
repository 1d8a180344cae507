/**
 * Leader election and fencing between tabs, without a server: Web Locks (the test
 * stand-in) decide the leader, the epoch rises with every term, and messages of another
 * term are dropped.
 */
import { describe, expect, test } from "vitest";
import { FakeLocks } from "../../tests/support/tabs.ts";
import { waitFor } from "../../tests/seed-helpers.ts";
import { TabCoordinator, type TabHandlers } from "./tab-coordinator.ts";
import { type BroadcastChannelLike, type LinkDown, type LinkUp, TAB_PROTOCOL_VERSION } from "./tab-messages.ts";

let names = 0;

function tabs() {
  const name = `coordinator-test-${process.pid}-${++names}`;
  const locks = new FakeLocks();
  let epochInStorage = 0;
  const open: TabCoordinator[] = [];
  const make = async (tabId: string) => {
    const seen = { up: [] as [string, number, LinkUp][], down: [] as [number, LinkDown][], changes: 0, led: 0, gone: [] as string[] };
    const handlers: TabHandlers = {
      becameLeader: async () => void seen.led++,
      fromFollower: (tab, channel, message) => void seen.up.push([tab, channel, message]),
      tabGone: (tab) => void seen.gone.push(tab),
      leaderChanged: () => void seen.changes++,
      fromLeader: (channel, message) => void seen.down.push([channel, message]),
    };
    const coordinator = new TabCoordinator({
      name,
      tabId,
      locks: locks.forTab(tabId),
      channel: new BroadcastChannel(`tandem ${name}`) as unknown as BroadcastChannelLike,
      readEpoch: async () => epochInStorage,
      writeEpoch: async (epoch) => void (epochInStorage = epoch),
      handlers,
      livenessMs: 20,
    });
    open.push(coordinator);
    await coordinator.start();
    return { coordinator, seen };
  };
  return { make, locks, name, dispose: () => open.forEach((each) => each.dispose()) };
}

describe("tab coordinator", () => {
  test("the first tab leads; the next ones follow it; when it goes, one of them leads with a higher epoch", async () => {
    const t = tabs();
    try {
      const a = await t.make("a");
      const b = await t.make("b");
      const c = await t.make("c");
      expect(a.coordinator.role).toBe("leader");
      expect(a.coordinator.epoch).toBe(1);
      expect(a.seen.led).toBe(1);
      await waitFor(() => b.coordinator.leaderTab === "a" && c.coordinator.leaderTab === "a", { what: "both follow a" });
      expect([b.coordinator.role, c.coordinator.role]).toEqual(["follower", "follower"]);

      // a follower's message reaches the leader only; the leader's reaches its addressee only
      b.coordinator.sendUp(7, { kind: "unsubscribe" });
      await waitFor(() => a.seen.up.length === 1, { what: "the message at the leader" });
      expect(a.seen.up[0]).toEqual(["b", 7, { kind: "unsubscribe" }]);
      a.coordinator.sendDown("b", 7, { kind: "update", update: new Uint8Array([0, 0]) });
      await waitFor(() => b.seen.down.length === 1, { what: "the leader's message at b" });
      expect(c.seen.down).toEqual([]);

      a.coordinator.dispose();
      await waitFor(() => b.coordinator.role === "leader" || c.coordinator.role === "leader", { what: "a new leader" });
      const [next, other] = b.coordinator.role === "leader" ? [b, c] : [c, b];
      expect(next.coordinator.epoch).toBe(2);
      await waitFor(() => other.coordinator.leaderTab === next.coordinator.leaderTab && other.coordinator.epoch === 2, { what: "the other follows the new leader" });
      expect(other.coordinator.role).toBe("follower");
    } finally {
      t.dispose();
    }
  });

  test("messages of another term are dropped both ways", async () => {
    const t = tabs();
    try {
      const a = await t.make("a");
      const b = await t.make("b");
      await waitFor(() => b.coordinator.leaderTab === "a", { what: "b follows a" });
      const intruder = new BroadcastChannel(`tandem ${t.name}`);
      // a stale leader (epoch 0) speaking to b, and announcing itself
      intruder.postMessage({ t: "down", epoch: 0, to: "b", ch: 1, msg: { kind: "event", name: "x", payload: 1 } });
      intruder.postMessage({ t: "leader", epoch: 0, from: "stale" });
      // a follower of an old term speaking to the leader
      intruder.postMessage({ t: "up", epoch: 0, from: "old", ch: 1, msg: { kind: "unsubscribe" } });
      // and garbage
      intruder.postMessage("not a tab message");
      intruder.postMessage({ t: "down" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(b.seen.down).toEqual([]);
      expect(b.coordinator.leaderTab).toBe("a");
      expect(a.seen.up).toEqual([]);
      intruder.close();
    } finally {
      t.dispose();
    }
  });

  test("a tab of another deployment (another tab protocol version) is ignored, whatever it says", async () => {
    const t = tabs();
    try {
      const a = await t.make("a");
      const b = await t.make("b");
      await waitFor(() => b.coordinator.leaderTab === "a", { what: "b follows a" });
      const other = new BroadcastChannel(`tandem ${t.name}`);
      const down = { t: "down", epoch: b.coordinator.epoch, to: "b", ch: 1, msg: { kind: "event", name: "x", payload: 1 } };
      const up = { t: "up", epoch: a.coordinator.epoch, from: "old", ch: 1, msg: { kind: "unsubscribe" } };
      // well-formed, of the current term, but unmarked (version 1) or of a later version
      for (const v of [undefined, 1, TAB_PROTOCOL_VERSION + 1]) {
        other.postMessage({ ...down, v });
        other.postMessage({ ...up, v });
        other.postMessage({ t: "leader", epoch: 99, from: "old", v });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(b.seen.down).toEqual([]);
      expect(a.seen.up).toEqual([]);
      expect(b.coordinator.leaderTab).toBe("a");
      // the same messages of this version are heard
      other.postMessage({ ...down, v: TAB_PROTOCOL_VERSION });
      other.postMessage({ ...up, v: TAB_PROTOCOL_VERSION });
      await waitFor(() => b.seen.down.length === 1 && a.seen.up.length === 1, { what: "this version's messages" });
      other.close();
    } finally {
      t.dispose();
    }
  });

  test("the leader notices a follower that crashed (its tab lock is gone) and one that said goodbye", async () => {
    const t = tabs();
    try {
      const a = await t.make("a");
      const b = await t.make("b");
      const c = await t.make("c");
      await waitFor(() => b.coordinator.leaderTab === "a" && c.coordinator.leaderTab === "a", { what: "both follow a" });
      b.coordinator.sendUp(1, { kind: "unsubscribe" });
      c.coordinator.sendUp(1, { kind: "unsubscribe" });
      await waitFor(() => a.seen.up.length === 2, { what: "both known to the leader" });
      t.locks.kill("b"); // crashed: no goodbye
      await waitFor(() => a.seen.gone.includes("b"), { what: "b noticed gone" });
      c.coordinator.dispose();
      await waitFor(() => a.seen.gone.includes("c"), { what: "c's goodbye" });
    } finally {
      t.dispose();
    }
  });
});
