/** The typed emitter: remover, a listener removing itself mid-emit, and the watch hook. */
import { describe, expect, test } from "vitest";
import { Emitter } from "./emitter.ts";

describe("emitter", () => {
  test("on returns its remover; a listener may remove itself while emitting; watch hears count changes", () => {
    const watched: string[] = [];
    const emitter = new Emitter<{ a: [number]; b: [] }>((name) => void watched.push(String(name)));
    const heard: number[] = [];
    const remove = emitter.on("a", (n) => {
      heard.push(n);
      remove();
    });
    const other = (n: number) => void heard.push(n * 10);
    emitter.on("a", other);
    expect(emitter.heard("a")).toBe(true);
    expect(emitter.heard("b")).toBe(false);
    emitter.emit("a", 1);
    emitter.emit("a", 2);
    expect(heard).toEqual([1, 10, 20]);
    emitter.off("a", other);
    expect(emitter.heard("a")).toBe(false);
    expect(watched).toEqual(["a", "a", "a", "a"]);
  });
});
