/** The frames the turn writer builds are byte for byte what ws would have written. */
import { expect, test } from "vitest";
import { createRequire } from "node:module";
import { Kind, encodeBatch, unbatch } from "../../shared/protocol/index.ts";
import { encodeBatchMessage, encodeMessages } from "./turn-writer.ts";

// ws's own framing (its Sender is not in its type definitions).
const { Sender } = createRequire(import.meta.url)("ws") as { Sender: { frame(data: Buffer, options: object): Buffer[] } };
const wsFrame = (payload: Buffer): Buffer => Buffer.concat(Sender.frame(payload, { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false }));

test("binary message frames, every length encoding", () => {
  const payloads = [0, 1, 125, 126, 127, 65535, 65536, 70000].map((n) => Buffer.alloc(n, n % 251));
  for (const payload of payloads) expect(encodeMessages([payload]).equals(wsFrame(payload))).toBe(true);
  expect(encodeMessages(payloads).equals(Buffer.concat(payloads.map(wsFrame)))).toBe(true);
});

test("a batch message is one WebSocket message holding the batch frame", () => {
  const frames = [1, 2, 130, 300, 70000].map((n) => new Uint8Array(n).fill(Kind.ack));
  expect(encodeBatchMessage(frames).equals(wsFrame(Buffer.from(encodeBatch(frames))))).toBe(true);
  expect(unbatch(encodeBatch(frames))).toEqual(frames);
});
