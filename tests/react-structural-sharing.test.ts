/**
 * The structural sharing under useActorState, usePresence and useOutbox: equal parts keep
 * their previous objects, a "__proto__" key stays a key, and hostile shapes (cycles, deep
 * nesting) end the walk instead of overflowing the stack.
 */
import { describe, expect, test } from "vitest";
import { MAX_SHARING_DEPTH, shareEqual } from "../client/react/structural-sharing.ts";

describe("shareEqual", () => {
  test("an equal value is the previous one; changed values keep their unchanged parts", () => {
    const previous = { todos: [{ id: "a", done: false }, { id: "b", done: false }], title: "x", bytes: new Uint8Array([1, 2]) };
    const same = structuredClone(previous);
    expect(shareEqual(previous, same)).toBe(previous);
    const next = structuredClone(previous);
    next.todos[1]!.done = true;
    const shared = shareEqual(previous, next);
    expect(shared).not.toBe(previous);
    expect(shared).toEqual(next);
    expect(shared.todos[0]).toBe(previous.todos[0]);
    expect(shared.todos[1]).not.toBe(previous.todos[1]);
    expect(shared.bytes).toBe(previous.bytes);
    // a key removed, a key added, a longer array
    expect(shareEqual({ a: 1, b: 2 }, { a: 1 })).toEqual({ a: 1 });
    expect(shareEqual({ a: 1 }, { a: 1, b: undefined })).toEqual({ a: 1, b: undefined });
    expect(shareEqual([1], [1, 2])).toEqual([1, 2]);
    // not plain data: compared by identity
    const date = new Date(0);
    expect(shareEqual(new Date(0), date)).toBe(date);
  });

  test("a __proto__ key stays an own key and never reaches a prototype", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const shared = shareEqual({ x: 2 }, hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(shared)).toBe(Object.prototype);
    expect(Object.hasOwn(shared, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("cycles and deep nesting end the walk", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    const b: Record<string, unknown> = { name: "a" };
    b.self = b;
    const shared = shareEqual(a, b) as Record<string, unknown>;
    expect(shared.name).toBe("a");
    let deepA: unknown = 0;
    let deepB: unknown = 0;
    for (let i = 0; i < 100_000; i++) {
      deepA = [deepA];
      deepB = [deepB];
    }
    expect(() => shareEqual(deepA, deepB)).not.toThrow();
    expect(MAX_SHARING_DEPTH).toBeGreaterThan(0);
  });
});
