/**
 * The overlay nodes of a draft (draft.ts). A node stands for one object, array or text of
 * the state. A node with a `base` mirrors a Y type of the document and records, on top of
 * it, the writes made in the draft; a node without one is new in this draft. Reads go
 * through the recorded writes to the base; nothing touches the document until the draft
 * commits (see commit.ts).
 */
import type * as Y from "yjs";

export const DELETED: unique symbol = Symbol("tandem.deleted");

/** A value in a draft: a primitive, bytes, a node, or a frozen JSON value stored as-is. */
export type Entry = null | boolean | number | string | Uint8Array | MapNode | ArrayNode | TextNode | XmlNode | FrozenValue;

/** A plain object or array a peer stored with Yjs `ContentAny`: readable, not writable. */
export interface FrozenValue {
  readonly frozen: unknown;
}

/**
 * What a node asks of the draft it belongs to; draft.ts's `Draft` implements it (named here so
 * that the nodes do not import the draft, which imports them).
 */
export interface NodeOwner {
  /** The entry for a value of the base document (a node for a shared type). */
  wrap(value: unknown): Entry;
  /** Marks a node as written in this draft. */
  touch(node: MapNode | ArrayNode | TextNode | XmlNode): void;
  /** A plain value as a new entry, checked (`where` names it in errors). */
  fromPlain(value: unknown, where: string, depth?: number): Entry;
}

export class MapNode {
  /** Writes on top of `base`: a value or `DELETED` per key; for a new node, every key. */
  readonly overrides = new Map<string, Entry | typeof DELETED>();
  view: object | undefined;

  constructor(
    readonly draft: NodeOwner,
    readonly base: Y.Map<unknown> | null,
  ) {}

  get(key: string): Entry | undefined {
    const own = this.overrides.get(key);
    if (own === DELETED) return undefined;
    if (own !== undefined) return own;
    if (this.base === null || !this.base.has(key)) return undefined;
    return this.draft.wrap(this.base.get(key));
  }

  has(key: string): boolean {
    const own = this.overrides.get(key);
    if (own !== undefined) return own !== DELETED;
    return this.base !== null && this.base.has(key);
  }

  keys(): string[] {
    const keys: string[] = [];
    if (this.base !== null) {
      for (const key of this.base.keys()) if (this.overrides.get(key) !== DELETED) keys.push(key);
    }
    for (const [key, value] of this.overrides) {
      if (value !== DELETED && (this.base === null || !this.base.has(key))) keys.push(key);
    }
    return keys;
  }

  set(key: string, value: Entry): void {
    this.draft.touch(this);
    this.overrides.set(key, value);
  }

  delete(key: string): void {
    if (!this.has(key)) return;
    this.draft.touch(this);
    if (this.base === null) this.overrides.delete(key);
    else this.overrides.set(key, DELETED);
  }

  reset(): void {
    this.overrides.clear();
  }
}

export type ArrayOp =
  | { readonly kind: "insert"; readonly index: number; readonly entries: Entry[] }
  | { readonly kind: "delete"; readonly index: number; readonly length: number };

/**
 * An array. Before its first write it reads straight from `base`. Writes that only append
 * (push, or writing index `length`) keep reading the base and hold the new elements in
 * `tail`, so appending to a large array costs what is appended, not the array's length;
 * any other write first copies the elements into `items`, the draft's own copy.
 */
export class ArrayNode {
  /** The draft's copy of the elements, made on the first non-append write; a new node always has one. */
  items: Entry[] | null;
  /** Elements appended after the base's while `items` is null. */
  private tail: Entry[] | null = null;
  /** The writes to replay on `base`, in order, with indexes as they were at the time. */
  readonly ops: ArrayOp[] = [];
  view: object | undefined;

  constructor(
    readonly draft: NodeOwner,
    readonly base: Y.Array<unknown> | null,
  ) {
    this.items = base === null ? [] : null;
  }

  get length(): number {
    return this.items !== null ? this.items.length : this.base!.length + (this.tail?.length ?? 0);
  }

  get(index: number): Entry | undefined {
    if (index < 0 || index >= this.length) return undefined;
    if (this.items !== null) return this.items[index];
    const baseLength = this.base!.length;
    return index < baseLength ? this.draft.wrap(this.base!.get(index)) : this.tail![index - baseLength];
  }

  entries(): Entry[] {
    if (this.items !== null) return [...this.items];
    const entries = this.base!.toArray().map((value) => this.draft.wrap(value));
    if (this.tail !== null) entries.push(...this.tail);
    return entries;
  }

  insert(index: number, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    this.draft.touch(this);
    if (this.items === null && index === this.length) (this.tail ??= []).push(...entries);
    else this.writable().splice(index, 0, ...entries);
    if (this.base === null) return;
    // Consecutive inserts (push after push) become one insert into the Y.Array.
    const last = this.ops[this.ops.length - 1];
    if (last?.kind === "insert" && last.index + last.entries.length === index) last.entries.push(...entries);
    else this.ops.push({ kind: "insert", index, entries: [...entries] });
  }

  delete(index: number, length: number): void {
    if (length <= 0) return;
    this.draft.touch(this);
    const baseLength = this.items === null ? this.base!.length : 0;
    if (this.items === null && index >= baseLength) this.tail!.splice(index - baseLength, length);
    else this.writable().splice(index, length);
    if (this.base !== null) this.ops.push({ kind: "delete", index, length });
  }

  reset(): void {
    if (this.base !== null) this.items = null;
    this.tail = null;
    this.ops.length = 0;
  }

  /** The draft's own copy of the elements (made now if need be). */
  private writable(): Entry[] {
    if (this.items === null) {
      this.items = this.entries();
      this.tail = null;
    }
    return this.items;
  }
}

export type TextAttributes = Record<string, unknown>;

export type TextOp =
  | { readonly kind: "insert"; readonly index: number; readonly text: string; readonly attributes?: TextAttributes }
  | { readonly kind: "delete"; readonly index: number; readonly length: number }
  | { readonly kind: "format"; readonly index: number; readonly length: number; readonly attributes: TextAttributes };

export class TextNode {
  /** The draft's copy of the characters, made on the first write. */
  content: string | null;
  readonly ops: TextOp[] = [];
  view: object | undefined;

  /**
   * `base`: the Y.Text of this document the node writes to. `template`: for a new node, a
   * Y.Text (of another document) whose content the new text starts from.
   */
  constructor(
    readonly draft: NodeOwner,
    readonly base: Y.Text | null,
    readonly template: Y.Text | null = null,
  ) {
    this.content = base === null ? (template?.toString() ?? "") : null;
  }

  toString(): string {
    return this.content ?? this.base!.toString();
  }

  get length(): number {
    return this.content !== null ? this.content.length : this.base!.length;
  }

  /** The text as runs of characters with their formatting (formatting of draft edits aside). */
  delta(): { insert: string; attributes?: TextAttributes }[] {
    const source = this.content === null ? this.base : this.ops.length === 0 ? this.template : null;
    if (source !== null) {
      return (source.toDelta() as { insert: unknown; attributes?: TextAttributes }[]).filter(
        (op): op is { insert: string; attributes?: TextAttributes } => typeof op.insert === "string",
      );
    }
    return this.toString().length > 0 ? [{ insert: this.toString() }] : [];
  }

  insert(index: number, text: string, attributes?: TextAttributes): void {
    if (text.length === 0) return;
    const content = this.writable();
    this.content = content.slice(0, index) + text + content.slice(index);
    this.ops.push(attributes === undefined ? { kind: "insert", index, text } : { kind: "insert", index, text, attributes });
  }

  delete(index: number, length: number): void {
    if (length <= 0) return;
    const content = this.writable();
    this.content = content.slice(0, index) + content.slice(index + length);
    this.ops.push({ kind: "delete", index, length });
  }

  format(index: number, length: number, attributes: TextAttributes): void {
    if (length <= 0) return;
    this.writable();
    this.ops.push({ kind: "format", index, length, attributes });
  }

  reset(): void {
    if (this.base !== null) this.content = null;
    this.ops.length = 0;
  }

  private writable(): string {
    this.draft.touch(this);
    if (this.content === null) this.content = this.base!.toString();
    return this.content;
  }
}

/**
 * A Y.XmlFragment (rich-text editors). Actions may read it and may put a new one in place;
 * its content is edited through the replica's `doc` by an editor binding, not by actions.
 */
export class XmlNode {
  view: object | undefined;

  constructor(
    readonly draft: NodeOwner,
    readonly base: Y.XmlFragment | null,
    readonly template: Y.XmlFragment | null = null,
  ) {}

  toString(): string {
    return (this.base ?? this.template)?.toString() ?? "";
  }

  toJSON(): string {
    return this.toString();
  }

  reset(): void {}
}
