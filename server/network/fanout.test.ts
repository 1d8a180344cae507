/** Fan-out: a burst read over several turns reaches subscribers as one update; a lone update goes at once. */
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { Kind, decodeDown } from "../../shared/protocol/index.ts";
import { ConnImpl } from "../runtime/connection.ts";
import { Fanout, type UpdateSubscriber } from "./fanout.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const conn = (id: string) => new ConnImpl(id, null, undefined, null);

/** A subscriber that keeps the updates it is sent, decoded. */
function subscriber(id: string): UpdateSubscriber & { updates: Uint8Array[]; failures: unknown[] } {
  const updates: Uint8Array[] = [];
  const failures: unknown[] = [];
  return {
    conn: conn(id),
    channel: 1,
    updates,
    failures,
    sendFrame(frame) {
      const message = decodeDown(frame);
      if (message.kind !== Kind.sync || message.step !== "update") throw new Error("not a sync update frame");
      updates.push(message.data);
    },
    fail(error) {
      failures.push(error);
    },
  };
}

/** Updates of `count` writers typing one character each, concurrently. */
function writerUpdates(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const doc = new Y.Doc();
    doc.getText("t").insert(0, String.fromCharCode(97 + (i % 26)));
    return Y.encodeStateAsUpdate(doc);
  });
}

function textOf(updates: Uint8Array[]): string {
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return doc.getText("t").toString();
}

describe("fan-out", () => {
  test("updates of consecutive turns go out as one, once a turn brings none", async () => {
    const fanout = new Fanout();
    const reader = subscriber("reader");
    fanout.subscribers.add(reader);
    const updates = writerUpdates(30);
    const writer = conn("writer");
    // A burst read over three turns.
    for (let turn = 0; turn < 3; turn++) {
      for (const update of updates.slice(turn * 10, turn * 10 + 10)) fanout.onUpdate(update, writer);
      await nextTurn();
      expect(reader.updates).toEqual([]);
    }
    await nextTurn();
    await nextTurn();
    expect(reader.updates).toHaveLength(1);
    expect(textOf(reader.updates)).toBe(textOf(updates));
  });

  test("a lone update goes out after one quiet turn; its writer does not get it back", async () => {
    const fanout = new Fanout();
    const reader = subscriber("reader");
    const writerSub = subscriber("writer");
    fanout.subscribers.add(reader);
    fanout.subscribers.add(writerSub);
    const [update] = writerUpdates(1);
    fanout.onUpdate(update!, writerSub.conn);
    for (let i = 0; i < 3 && reader.updates.length === 0; i++) await nextTurn();
    expect(reader.updates).toHaveLength(1);
    expect(writerSub.updates).toEqual([]);
  });

  test("a burst that never pauses is still sent, in parts", async () => {
    const fanout = new Fanout();
    const reader = subscriber("reader");
    fanout.subscribers.add(reader);
    const updates = writerUpdates(2000);
    const writer = conn("writer");
    // An update every turn: without a quiet turn the hold ends at its limit (MAX_HOLD_MS).
    let sent = 0;
    const started = performance.now();
    while (reader.updates.length === 0 && sent < updates.length && performance.now() - started < 10_000) {
      fanout.onUpdate(updates[sent++]!, writer);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(reader.updates.length).toBeGreaterThan(0);
    expect(sent).toBeLessThan(updates.length);
    fanout.flush();
    expect(textOf(reader.updates)).toBe(textOf(updates.slice(0, sent)));
  });

  test("flush sends what is pending at once (a subscriber leaving)", () => {
    const fanout = new Fanout();
    const reader = subscriber("reader");
    fanout.subscribers.add(reader);
    const [update] = writerUpdates(1);
    fanout.onUpdate(update!, conn("writer"));
    fanout.flush();
    expect(reader.updates).toHaveLength(1);
  });

  test("a subscriber whose send throws is failed alone; the others get the update; nothing escapes the turn", async () => {
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", record);
    try {
      const fanout = new Fanout();
      const before = subscriber("before");
      const broken = subscriber("broken");
      broken.sendFrame = () => {
        throw new Error("socket gone");
      };
      const after = subscriber("after");
      for (const s of [before, broken, after]) fanout.subscribers.add(s);
      const [update] = writerUpdates(1);
      fanout.onUpdate(update!, conn("writer"));
      for (let i = 0; i < 5 && after.updates.length === 0; i++) await nextTurn();
      expect(before.updates).toHaveLength(1);
      expect(after.updates).toHaveLength(1);
      expect(broken.failures.map(String)).toEqual(["Error: socket gone"]);
      expect(before.failures).toEqual([]);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", record);
    }
  });

  test("a merge that throws at the turn's end fails every subscriber (they missed an update), not the process", async () => {
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", record);
    try {
      const fanout = new Fanout();
      const a = subscriber("a");
      const b = subscriber("b");
      fanout.subscribers.add(a);
      fanout.subscribers.add(b);
      const writer = conn("writer");
      fanout.onUpdate(writerUpdates(1)[0]!, writer);
      fanout.onUpdate(new Uint8Array([0xff, 0xff, 0xff]), writer); // not an update: Y.mergeUpdates throws
      for (let i = 0; i < 5 && a.failures.length === 0; i++) await nextTurn();
      expect(a.failures).toHaveLength(1);
      expect(b.failures).toHaveLength(1);
      expect(uncaught).toEqual([]);
      // The fan-out is usable again afterwards.
      fanout.onUpdate(writerUpdates(1)[0]!, writer);
      for (let i = 0; i < 5 && a.updates.length === 0; i++) await nextTurn();
      expect(a.updates).toHaveLength(1);
    } finally {
      process.off("uncaughtException", record);
    }
  });
});
