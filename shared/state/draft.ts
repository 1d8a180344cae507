/**
 * A draft: one action's (or one prediction's) view of the state, writable, with every write
 * held in overlay nodes until `commit` replays them into the document as one Yjs transaction.
 * A draft that is discarded leaves nothing behind — no item, no clock tick, no tombstone —
 * which is what makes actions atomic over Yjs (README.md "Guarantees").
 */
import * as Y from "yjs";
import { InvalidState } from "../errors.ts";
import { applyNode } from "./commit.ts";
import { MAX_STATE_DEPTH, checkWriteDepth } from "./depth.ts";
import { ArrayNode, type Entry, MapNode, type NodeOwner, TextNode, XmlNode } from "./nodes.ts";
import { asTemplate, checkKey, checkPrimitive, frozenCopy, isPlainObject, isPrimitive, unsupported } from "./values.ts";
import { nodeOfView } from "./view-registry.ts";
import { viewOf } from "./views.ts";

type AnyNode = MapNode | ArrayNode | TextNode | XmlNode;

export class Draft implements NodeOwner {
  readonly root: MapNode;
  /** Nodes with a base that this draft changed, in the order of their first change. */
  private readonly dirty = new Set<AnyNode>();
  private readonly nodes = new WeakMap<Y.AbstractType<any>, AnyNode>();
  private closed = false;

  /**
   * `readOnly`: a live read view that refuses every write (a client's `conn.state`: state
   * changes through actions or through the replica's Y.Doc, never through this view).
   */
  constructor(
    readonly rootMap: Y.Map<unknown>,
    /** When set, every write fails with this message (switchable: predictions unlock it while they run). */
    public readOnly: string | null = null,
  ) {
    this.root = this.wrap(rootMap) as MapNode;
  }

  /** The typed plain-JS view of the root object. */
  get view(): Record<string, unknown> {
    return viewOf(this.root) as Record<string, unknown>;
  }

  get changed(): boolean {
    return this.dirty.size > 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The draft entry for a value read from the document. */
  wrap(value: unknown): Entry {
    if (value instanceof Y.AbstractType) {
      const known = this.nodes.get(value);
      if (known) return known;
      let node: AnyNode;
      if (value instanceof Y.Map) node = new MapNode(this, value);
      else if (value instanceof Y.Array) node = new ArrayNode(this, value);
      else if (value instanceof Y.Text) node = new TextNode(this, value);
      else if (value instanceof Y.XmlFragment) node = new XmlNode(this, value);
      else throw new InvalidState(`Unsupported Yjs type in state: ${value.constructor.name}`);
      this.nodes.set(value, node);
      return node;
    }
    if (value === undefined) return null;
    if (isPrimitive(value) || value instanceof Uint8Array) return value;
    return { frozen: frozenCopy(value) };
  }

  /**
   * The draft entry for a value the user writes: checked, then turned into new nodes.
   * An existing node written elsewhere is copied (a Yjs type has one place in its doc).
   */
  fromPlain(value: unknown, where: string, depth = 0): Entry {
    if (isPrimitive(value)) return checkPrimitive(value, where);
    // The commit checks the depth in the document (Draft.check); this stops a deeper value
    // here, before converting it would overflow the stack.
    if (depth > MAX_STATE_DEPTH) throw new InvalidState(`State may nest at most ${MAX_STATE_DEPTH} levels deep (at ${where.slice(0, 200)}…)`);
    if (value instanceof Uint8Array) return value;
    const node = nodeOfView(value);
    if (node !== undefined) return this.copy(node);
    if (Array.isArray(value)) {
      const array = new ArrayNode(this, null);
      array.items = value.map((item, i) => (item === undefined ? null : this.fromPlain(item, `${where}[${i}]`, depth + 1)));
      return array;
    }
    if (isPlainObject(value)) {
      const map = new MapNode(this, null);
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue;
        map.overrides.set(checkKey(key, where), this.fromPlain(item, `${where}.${key}`, depth + 1));
      }
      return map;
    }
    if (value instanceof Y.Text) {
      return value.doc === this.rootMap.doc && value.doc !== null
        ? (this.wrap(value) as TextNode)
        : new TextNode(this, null, asTemplate(value));
    }
    if (value instanceof Y.XmlFragment) {
      return value.doc === this.rootMap.doc && value.doc !== null
        ? (this.wrap(value) as XmlNode)
        : new XmlNode(this, null, asTemplate(value));
    }
    return unsupported(value, where);
  }

  /**
   * A new node with the current content of `entry`. Writing a view somewhere copies it (a
   * Yjs type has one place in its document), which also makes cycles impossible.
   */
  copy(entry: Entry): Entry {
    if (entry instanceof MapNode) {
      const map = new MapNode(this, null);
      for (const key of entry.keys()) map.overrides.set(key, this.copy(entry.get(key)!));
      return map;
    }
    if (entry instanceof ArrayNode) {
      const array = new ArrayNode(this, null);
      array.items = entry.entries().map((item) => this.copy(item));
      return array;
    }
    if (entry instanceof TextNode) {
      // Copy the content now: the source may be deleted later in the same transaction.
      const text = new TextNode(this, null);
      let index = 0;
      for (const op of entry.delta()) {
        text.insert(index, op.insert, op.attributes);
        index += op.insert.length;
      }
      return text;
    }
    if (entry instanceof XmlNode) {
      const source = entry.base ?? entry.template;
      return new XmlNode(this, null, source === null ? null : asTemplate(source.clone()));
    }
    return entry;
  }

  /** Called by a node before its first write: refuses writes once closed, tracks changes. */
  touch(node: AnyNode): void {
    if (this.readOnly !== null) throw new InvalidState(this.readOnly);
    if (this.closed) {
      throw new InvalidState("State can only be changed while an action or hook is running");
    }
    if (node.base !== null) this.dirty.add(node);
  }

  /** Replaces every key of the root object (`c.state = {...}`). */
  replaceRoot(value: unknown): void {
    if (!isPlainObject(value)) unsupported(value, "state");
    const next = this.fromPlain(value, "state") as MapNode;
    for (const key of this.root.keys()) if (!next.overrides.has(key)) this.root.delete(key);
    for (const [key, entry] of next.overrides) this.root.set(key, entry as Entry);
  }

  /**
   * Throws (`InvalidState`) if the recorded writes cannot be committed — today: they would
   * nest the state deeper than MAX_STATE_DEPTH. Touches nothing: a draft that fails here can
   * still be closed cleanly. `commit` runs it first.
   */
  check(): void {
    checkWriteDepth(this.dirty);
  }

  /**
   * Writes every change into the document in one transaction. Returns the Yjs update it
   * produced, or null when the draft changed nothing. The draft is closed afterwards.
   * Throws before touching the document if `check` fails.
   */
  commit(origin: unknown = null): Uint8Array | null {
    const doc = this.rootMap.doc;
    if (doc === null) throw new InvalidState("The draft's root is not part of a document");
    let update: Uint8Array | null = null;
    if (this.dirty.size > 0) {
      this.check();
      const capture = (u: Uint8Array, o: unknown) => {
        if (o === origin) update = update === null ? u : Y.mergeUpdates([update, u]);
      };
      doc.on("update", capture);
      try {
        doc.transact(() => {
          for (const node of this.dirty) applyNode(node);
        }, origin);
      } finally {
        doc.off("update", capture);
      }
    }
    this.close();
    return update;
  }

  /** Drops every recorded write; views stay readable and show the document as it is. */
  close(): void {
    this.closed = true;
    for (const node of this.dirty) node.reset();
    this.dirty.clear();
  }
}
