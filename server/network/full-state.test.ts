/** The cached whole-document frame is always the document as it is now. */
import { expect, test } from "vitest";
import * as Y from "yjs";
import { Kind, decodeDown } from "../../shared/protocol/index.ts";
import { FullState } from "./full-state.ts";

function textOf(frame: Uint8Array): string {
  const message = decodeDown(frame);
  if (message.kind !== Kind.sync || message.step !== "step2") throw new Error("not a sync step 2 frame");
  const doc = new Y.Doc();
  Y.applyUpdate(doc, message.data);
  return doc.getText("t").toString();
}

test("one encoding for every channel until the document changes", () => {
  const doc = new Y.Doc();
  doc.getText("t").insert(0, "hello");
  const full = new FullState(doc);
  const a = full.frame(1);
  expect(full.frame(1)).toBe(a);
  expect(textOf(full.frame(3))).toBe("hello");
  doc.getText("t").insert(5, " world");
  expect(full.frame(1)).not.toBe(a);
  expect(textOf(full.frame(1))).toBe("hello world");
});
