/** The exactly-once bookkeeping alone: replays, bounds and their order, pruning, seq jumps, older data. */
import { describe, expect, test } from "vitest";
import type { SeqRecord } from "../drivers/driver.ts";
import { RESULT_WINDOW } from "../../shared/protocol/windows.ts";
import { DEFAULT_EXACTLY_ONCE_LIMITS, ExactlyOnce, type ExactlyOnceLimits, identityDigest, seqOwner } from "./exactly-once.ts";

const ada = seqOwner("browser", identityDigest({ userId: "ada" }));

function make(limits: Partial<ExactlyOnceLimits> = {}, clock = { now: 1_000 }) {
  return { once: new ExactlyOnce({ ...DEFAULT_EXACTLY_ONCE_LIMITS, ...limits }, () => clock.now), clock };
}

const ok = (value: unknown) => ({ ok: true as const, value });
const replay = (once: ExactlyOnce, clientId: string, seq: number) => once.check({ clientId, seq })?.replay();

describe("ExactlyOnce", () => {
  test("a recorded seq replays its result; a new seq is null; the identity digest ignores key order", () => {
    const { once } = make();
    expect(once.check({ clientId: ada, seq: 1 })).toBeNull();
    once.record({ clientId: ada, seq: 1 }, ok({ a: 1 }));
    expect(replay(once, ada, 1)).toEqual({ a: 1 });
    expect(once.check({ clientId: ada, seq: 2 })).toBeNull();
    expect(identityDigest({ a: 1, b: 2 })).toBe(identityDigest({ b: 2, a: 1 }));
    expect(identityDigest({ a: 1 })).not.toBe(identityDigest({ a: 2 }));
    expect(identityDigest({ role: "admin" })).not.toBe(identityDigest({ role: "viewer" }));
    expect(identityDigest({ userId: "ada", exp: 1 })).toBe(identityDigest({ userId: "ada", exp: 2 })); // a token refresh
    expect(identityDigest({ userId: "ada" })).not.toBe(identityDigest({ userId: "bob" }));
    expect(identityDigest({ userId: "ada", exp: 1 }, (auth: { userId: string }) => auth.userId)).toBe(identityDigest({ userId: "ada", exp: 2 }, (auth: { userId: string }) => auth.userId));
  });

  test("a result over maxResultBytes is kept as result_not_kept", () => {
    const { once } = make({ maxResultBytes: 100 });
    const write = once.record({ clientId: ada, seq: 1 }, ok("x".repeat(500)));
    expect(write.put.result).toMatchObject({ ok: false, error: { code: "result_not_kept" } });
    expect(() => replay(once, ada, 1)).toThrow(expect.objectContaining({ code: "result_not_kept" }));
  });

  test("per owner: over maxBytesPerOwner the oldest records go, the newest stays; over the window too", () => {
    const { once } = make({ maxBytesPerOwner: 1000 });
    const removed: string[] = [];
    for (let seq = 1; seq <= 5; seq++) removed.push(...once.record({ clientId: ada, seq }, ok("y".repeat(300))).removed);
    expect(removed.length).toBe(3);
    expect(() => replay(once, ada, 1)).toThrow(expect.objectContaining({ code: "result_not_kept" }));
    expect(replay(once, ada, 5)).toBe("y".repeat(300));
    const many = make().once;
    for (let seq = 1; seq <= RESULT_WINDOW * 2; seq++) many.record({ clientId: ada, seq }, ok(seq));
    expect(many.records().length).toBe(RESULT_WINDOW);
    expect(replay(many, ada, RESULT_WINDOW * 2)).toBe(RESULT_WINDOW * 2);
  });

  test("per actor: the least recently seen owners go first (count and bytes); the current one stays", () => {
    const { once, clock } = make({ maxOwnersPerActor: 3, maxBytesPerActor: 10_000 });
    const owner = (n: number) => seqOwner(`c${n}`, identityDigest(undefined));
    for (let n = 0; n < 3; n++) {
      clock.now++;
      once.record({ clientId: owner(n), seq: 1 }, ok(n));
    }
    clock.now++;
    expect(once.check({ clientId: owner(0), seq: 1 })).not.toBeNull(); // seen again: now the newest
    clock.now++;
    const write = once.record({ clientId: owner(3), seq: 1 }, ok(3));
    expect(write.removed).toEqual([`${owner(1)}\u00001`]);
    expect(once.ownerCount).toBe(3);
    const big = once.record({ clientId: owner(4), seq: 1 }, ok("z".repeat(9_000)));
    expect(big.removed.length).toBeGreaterThan(0);
    expect(once.bytes).toBeLessThanOrEqual(10_000);
    expect(replay(once, owner(4), 1)).toBe("z".repeat(9_000));
  });

  test("idle owners are pruned: at load (deleted with the next record) and when others record", () => {
    const clock = { now: 10_000 };
    const stored: SeqRecord[] = [
      { clientId: `${ada}\u00001`, seq: 1, result: ok("old"), at: 1_000 },
      { clientId: `${seqOwner("fresh", "d")}\u00001`, seq: 1, result: ok("new"), at: 9_900 },
    ];
    const { once } = make({ ownerIdleMs: 5_000 }, clock);
    once.load(stored);
    expect(once.ownerCount).toBe(1);
    const write = once.record({ clientId: seqOwner("other", "d"), seq: 1 }, ok(1));
    expect(write.removed).toEqual([`${ada}\u00001`]);
    clock.now += 10_000;
    expect(once.record({ clientId: seqOwner("other", "d"), seq: 2 }, ok(2)).removed).toEqual([`${seqOwner("fresh", "d")}\u00001`]);
  });

  test("seq jumps past maxSeqJump are refused, from the last seq (or 0); bad seqs too", () => {
    const { once } = make({ maxSeqJump: 1000 });
    expect(() => once.check({ clientId: ada, seq: 1001 })).toThrow(expect.objectContaining({ code: "invalid_arguments" }));
    expect(once.check({ clientId: ada, seq: 1000 })).toBeNull();
    once.record({ clientId: ada, seq: 1000 }, ok(1));
    expect(once.check({ clientId: ada, seq: 2000 })).toBeNull();
    expect(() => once.check({ clientId: ada, seq: 2001 })).toThrow(expect.objectContaining({ code: "invalid_arguments" }));
    for (const seq of [0, -1, 1.5, 2 ** 60, Number.NaN]) expect(() => once.check({ clientId: ada, seq })).toThrow(expect.objectContaining({ code: "invalid_arguments" }));
  });

  test("records of older data (no identity) answer nobody, but a seq they cover never runs again", () => {
    const { once } = make();
    once.load([
      { clientId: "browser\u00003", seq: 3, result: ok("admin's secret") },
      { clientId: "browser", seq: 2, result: ok("older last-seq record") },
    ]);
    expect(() => replay(once, ada, 3)).toThrow(expect.objectContaining({ code: "result_not_kept" }));
    expect(() => replay(once, ada, 2)).toThrow(expect.objectContaining({ code: "result_not_kept" }));
    expect(once.check({ clientId: ada, seq: 4 })).toBeNull();
  });
});
