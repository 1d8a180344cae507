/**
 * The outbox on its own, against a fake store and a recording sender: store-before-send,
 * seqs in call order, the in-flight window, resend after a reconnect, acks and settling,
 * restore after a reload, the rebuild of a takeover, and a follower's held actions.
 */
import { describe, expect, test } from "vitest";
import { ActorStopped, InvalidArguments } from "../shared/errors.ts";
import { MAX_IN_FLIGHT } from "../shared/protocol/windows.ts";
import { type ActionStore, Outbox, type OutboxAction } from "./outbox.ts";
import type { OutboxEntry } from "./outbox-entry.ts";
import type { OutboxRecord } from "./replica-store.ts";

/** A store whose writes finish when the test says (`finish`), with seqs from a counter (or a promise of one, `slowSeq`). */
function fakeStore() {
  const written: OutboxRecord[] = [];
  const pending: (() => void)[] = [];
  let seq = 0;
  let slowSeq = false;
  const store: ActionStore = {
    seqs: { takeSeq: () => (slowSeq ? Promise.resolve(++seq) : ++seq) },
    records: {
      addAction: (record) =>
        new Promise<void>((resolve) =>
          pending.push(() => {
            written.push(record);
            resolve();
          }),
        ),
    },
  };
  return {
    store,
    written,
    slowSeqs: (on: boolean) => void (slowSeq = on),
    /** Lets the oldest queued write finish. */
    finishOne: async () => {
      await settleTurns();
      pending.shift()?.();
      await settleTurns();
    },
    /** Lets every queued write finish, as many rounds as it takes. */
    finish: async () => {
      for (let round = 0; round < 1000; round++) {
        await settleTurns();
        if (pending.length === 0) return;
        for (const write of pending.splice(0)) write();
      }
      throw new Error("writes never settled");
    },
  };
}

function harness() {
  const sent: OutboxAction[] = [];
  const settled: OutboxEntry[] = [];
  let changes = 0;
  const outbox = new Outbox({
    changed: () => void changes++,
    settling: () => undefined,
    answered: () => undefined,
    hearsSettled: () => true,
    settled: (entry) => void settled.push(entry),
  });
  const sender = (action: OutboxAction) => void sent.push(action);
  return { outbox, sent, settled, sender, changes: () => changes };
}

async function settleTurns(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe("outbox", () => {
  test("an action is sent only once it is stored, and seqs follow the call order", async () => {
    const { outbox, sent, sender } = harness();
    const fake = fakeStore();
    outbox.keepIn(fake.store);
    outbox.open(sender);
    fake.slowSeqs(true); // the first waits for a seq block: the next ones must queue behind it
    void outbox.add("a", [1], "t:1");
    fake.slowSeqs(false);
    void outbox.add("b", [2], "t:2");
    void outbox.add("c", [3], "t:3");
    await settleTurns();
    expect(sent).toEqual([]); // nothing is written yet
    await fake.finishOne();
    expect(sent.map((action) => action.name)).toEqual(["a"]); // b and c are not stored yet
    await fake.finish();
    expect(fake.written.map((record) => [record.name, record.seq])).toEqual([["a", 1], ["b", 2], ["c", 3]]);
    expect(sent.map((action) => [action.name, action.seq])).toEqual([["a", 1], ["b", 2], ["c", 3]]);
    expect(outbox.entries().map((entry) => entry.status)).toEqual(["sent", "sent", "sent"]);
  });

  test("at most MAX_IN_FLIGHT are unanswered; each answer lets the next one go", async () => {
    const { outbox, sent, sender } = harness();
    const fake = fakeStore();
    outbox.keepIn(fake.store);
    outbox.open(sender);
    const count = MAX_IN_FLIGHT + 10;
    for (let i = 0; i < count; i++) void outbox.add("inc", [i], `t:${i}`).catch(() => undefined);
    await fake.finish();
    expect(sent.length).toBe(MAX_IN_FLIGHT);
    const first = outbox.take(sent[0]!.id)!;
    outbox.settle(first, { ok: true, result: null });
    expect(sent.length).toBe(MAX_IN_FLIGHT + 1);
    expect(sent.at(-1)!.args).toEqual([MAX_IN_FLIGHT]);
    expect(outbox.drained).toBe(false);
  });

  test("closed, nothing goes; reopened, what was sent and not answered goes again with its seq, in order", async () => {
    const { outbox, sent, sender } = harness();
    const fake = fakeStore();
    outbox.keepIn(fake.store);
    outbox.open(sender);
    void outbox.add("a", [], "t:1");
    void outbox.add("b", [], "t:2");
    await fake.finish();
    expect(sent.map((action) => action.seq)).toEqual([1, 2]);
    outbox.close();
    void outbox.add("c", [], "t:3");
    await fake.finish();
    expect(sent.length).toBe(2);
    outbox.open(sender);
    expect(sent.slice(2).map((action) => action.seq)).toEqual([1, 2, 3]);
  });

  test("an action the actor could not run (requeued) stays, and goes again only after the next open", async () => {
    const { outbox, sent, sender } = harness();
    const fake = fakeStore();
    outbox.keepIn(fake.store);
    outbox.open(sender);
    void outbox.add("a", [], "t:1");
    await fake.finish();
    outbox.requeue(sent[0]!.id);
    expect(sent.length).toBe(1);
    expect(outbox.entries()[0]!.status).toBe("queued");
    outbox.open(sender);
    expect(sent.length).toBe(2);
  });

  test("settling resolves or rejects the call and announces a settled entry; join waits for the same outcome", async () => {
    const { outbox, sent, sender, settled } = harness();
    const fake = fakeStore();
    outbox.keepIn(fake.store);
    outbox.open(sender);
    const ok = outbox.add("a", [], "t:1");
    const bad = outbox.add("b", [], "t:2");
    const joined = outbox.join("t:1");
    expect(outbox.join("t:404")).toBeUndefined();
    await fake.finish();
    outbox.settle(outbox.take(sent[0]!.id)!, { ok: true, result: 42 });
    const error = new InvalidArguments("no");
    outbox.settle(outbox.take(sent[1]!.id)!, { ok: false, error });
    await expect(ok).resolves.toBe(42);
    await expect(joined).resolves.toBe(42);
    await expect(bad).rejects.toBe(error);
    expect(settled.map((entry) => [entry.name, entry.status, entry.result ?? entry.error?.code])).toEqual([
      ["a", "confirmed", 42],
      ["b", "rejected", "invalid_arguments"],
    ]);
    expect(outbox.size).toBe(0);
    expect(outbox.drained).toBe(true);
    expect(outbox.take(sent[0]!.id)).toBeUndefined(); // an answer twice changes nothing
  });

  test("restored actions come first, are marked restored, and are sent without being written again", async () => {
    const { outbox, sent, sender } = harness();
    const fake = fakeStore();
    outbox.keepIn(fake.store);
    const resume = outbox.pause(); // loading
    void outbox.add("new", [], "t:9");
    outbox.restore([{ seq: 7, name: "old", args: [1], createdAt: 0, callId: "x:1" }]);
    await settleTurns();
    expect(fake.written).toEqual([]); // no write while paused
    resume();
    outbox.open(sender);
    await fake.finish();
    expect(sent.map((action) => [action.name, action.seq, action.restored])).toEqual([
      ["old", 7, true],
      ["new", 1, false],
    ]);
    expect(fake.written.map((record) => record.name)).toEqual(["new"]);
  });

  test("a rebuild (takeover) puts own calls in storage's places, stores the rest again once, and queued stores give way", async () => {
    const { outbox, sent, sender } = harness();
    const fake = fakeStore();
    const resume = outbox.pause(); // a follower tab's actions, held while it loads
    const mine = outbox.add("mine", [], "t:1");
    void outbox.add("unstored", [], "t:2");
    outbox.keepIn(fake.store); // the tab takes over
    outbox.rebuild([
      { seq: 3, name: "other", args: [], createdAt: 0, callId: "u:1" },
      { seq: 4, name: "mine", args: [], createdAt: 0, callId: "t:1" },
    ]);
    resume();
    outbox.open(sender);
    await fake.finish();
    expect(outbox.entries().map((entry) => [entry.name, entry.seq, entry.restored])).toEqual([
      ["other", 3, true],
      ["mine", 4, false],
      ["unstored", 1, false],
    ]);
    expect(fake.written.map((record) => record.callId)).toEqual(["t:2"]); // once, not once per queued store
    outbox.settle(outbox.take(sent.find((action) => action.callId === "t:1")!.id)!, { ok: true, result: "done" });
    await expect(mine).resolves.toBe("done");
  });

  test("a follower's outbox holds its actions (no writes, no seqs) and sends them in order once open", async () => {
    const { outbox, sent, sender } = harness();
    outbox.keepIn(null);
    outbox.open(sender);
    void outbox.add("a", [], "t:1");
    void outbox.add("b", [], "t:2");
    await settleTurns();
    expect(sent.map((action) => [action.name, action.seq])).toEqual([["a", 0], ["b", 0]]);
  });

  test("rejectAll empties the outbox, rejects every call and, when asked, announces each", async () => {
    const { outbox, settled } = harness();
    outbox.keepIn(null);
    const a = outbox.add("a", [], "t:1");
    const b = outbox.add("b", [], "t:2");
    const error = new ActorStopped("reset");
    outbox.rejectAll(error, true);
    await expect(a).rejects.toBe(error);
    await expect(b).rejects.toBe(error);
    expect(settled.map((entry) => [entry.name, entry.status])).toEqual([["a", "rejected"], ["b", "rejected"]]);
    expect(outbox.size).toBe(0);
  });
});
