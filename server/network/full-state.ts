/**
 * An actor's whole document as a sync step 2 frame body, encoded once per version of the
 * document: every client that subscribes with no state of its own (a new browser, a cleared
 * replica — a crowd arriving at once) gets the same bytes, where each would otherwise pay an
 * `encodeStateAsUpdate` of the whole document. Any transaction on the document drops the
 * encoding, and so does a quiet second, so an idle actor does not keep a second copy.
 */
import * as Y from "yjs";
import { Kind } from "../../shared/protocol/kinds.ts";
import { syncBody } from "../../shared/protocol/sync.ts";
import { framesOf } from "./frames.ts";

const KEEP_MS = 1000;

export class FullState {
  private frames: ((channel: number) => Uint8Array) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly doc: Y.Doc) {
    doc.on("afterTransaction", this.drop);
  }

  /** The sync step 2 frame with the whole document, for `channel`. */
  frame(channel: number): Uint8Array {
    if (this.frames === null) {
      this.frames = framesOf(Kind.sync, syncBody("step2", Y.encodeStateAsUpdate(this.doc)));
      this.timer = setTimeout(this.drop, KEEP_MS);
      this.timer.unref();
    }
    return this.frames(channel);
  }

  private readonly drop = (): void => {
    if (this.frames === null) return;
    this.frames = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  };
}
