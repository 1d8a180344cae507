/**
 * Checks a direct edit (a client's Yjs updates) before anything of it reaches the actor's
 * document. An edit is refused (`invalid_arguments`) unless Yjs would integrate all of it,
 * and what it writes is state the state model can read:
 *
 * - it decodes; it has no Skip structs, no empty structs or delete ranges (Yjs never
 *   writes them and breaks on them), and no client twice (Yjs keeps only one run of
 *   structs per client and parks the rest);
 * - every struct can be integrated: its client's clock continues what the actor has (or
 *   what the edit brings before it), and every item it refers to (origin, right origin,
 *   parent) is there or is brought by the edit in an order Yjs can integrate — simulated
 *   here the way Yjs integrates, so nothing would be left parked (`pendingStructs`);
 * - it deletes only what exists once its structs are in (no parked `pendingDs`);
 * - it writes only inside the state root, no `__proto__` keys, and only content the state
 *   model has: JSON values, byte arrays and objects/arrays/Y.Text/Y.XmlFragment in objects
 *   and arrays; characters and formatting in texts; XML elements and texts (attributes:
 *   JSON values) in XML fragments — never subdocuments, embeds, XML hooks or elements
 *   outside XML — nested at most MAX_STATE_DEPTH deep (JSON values included).
 *
 * - it writes new structs only as Yjs clients the editor may write as (`mayWrite`; see
 *   yjs-writers.ts): a struct another connection's replica will also write under the same
 *   id would be skipped by Yjs on one side and the replicas would never agree again.
 *
 * It reads each update once and asks the document for single clocks and items: no state
 * vector is built per edit.
 */
import * as decoding from "lib0/decoding";
import * as Y from "yjs";
import { InvalidArguments } from "../../shared/errors.ts";
import { nestsDeeperThan } from "../../shared/protocol/value-depth.ts";
import { MAX_STATE_DEPTH, STATE_ROOT, typeDepth } from "../../shared/state/index.ts";

type Struct = Y.Item | Y.GC | Y.Skip;
type Kind = "map" | "array" | "text" | "xml" | "element" | "none";

/** Where an item lands: the kind of its parent type, that type's depth, its key (null: in a list). */
interface Place {
  readonly kind: Kind;
  readonly depth: number;
  readonly sub: string | null;
}

/** A place in garbage: Yjs drops the item's content (its neighbour or parent was collected). */
const COLLECTED: Place = { kind: "none", depth: 0, sub: null };

function refuse(message: string): never {
  throw new InvalidArguments(message);
}

function kindOf(type: Y.AbstractType<unknown>): Kind {
  // A root type is created by whatever first names it (a generic AbstractType when an update does).
  if (type._item === null && type.doc !== null) return type.doc.share.get(STATE_ROOT) === type ? "map" : "none";
  const ctor = type.constructor;
  if (ctor === Y.Map) return "map";
  if (ctor === Y.Array) return "array";
  if (ctor === Y.Text || ctor === Y.XmlText) return "text";
  if (ctor === Y.XmlFragment) return "xml";
  if (ctor === Y.XmlElement) return "element";
  return "none";
}

/** Whether `content` may live at `place` in the state model (see the header). */
function allowed(content: Y.Item["content"], place: Place): string | null {
  if (content instanceof Y.ContentDeleted) return null;
  if (content instanceof Y.ContentDoc) return "subdocuments are not part of the state model";
  const inList = place.sub === null;
  switch (place.kind) {
    case "map":
    case "array": {
      if ((place.kind === "map") === inList) return place.kind === "map" ? "an object holds keyed values only" : "an array holds no keys";
      if (content instanceof Y.ContentAny || content instanceof Y.ContentBinary) return null;
      if (content instanceof Y.ContentType) {
        const ctor = content.type.constructor;
        if (ctor === Y.Map || ctor === Y.Array || ctor === Y.Text || ctor === Y.XmlFragment) return null;
        return `${ctor.name} may only be inside an XML fragment or is not part of the state model`;
      }
      return `${content.constructor.name} is not a value of objects or arrays`;
    }
    case "text":
      if (!inList) return "texts have no keys";
      if (content instanceof Y.ContentString || content instanceof Y.ContentFormat) return null;
      return `a text holds characters and formatting only, not ${content.constructor.name}`;
    case "xml":
    case "element":
      if (!inList) {
        if (place.kind === "element" && content instanceof Y.ContentAny) return null;
        return "XML attributes hold JSON values, on elements only";
      }
      if (content instanceof Y.ContentType && (content.type.constructor === Y.XmlElement || content.type.constructor === Y.XmlText)) return null;
      return `an XML fragment holds XML elements and texts only, not ${content instanceof Y.ContentType ? content.type.constructor.name : content.constructor.name}`;
    default:
      return "the edit writes into a type that is not part of the state model";
  }
}

/** Whether the editor may write new structs as Yjs client `client` (default: any). */
export type MayWrite = (client: number) => boolean;

/**
 * Checks the updates of one edit (edit frames a socket delivered back to back, applied in one
 * transaction, in order): each must be integrated whole, given what the actor has plus what
 * the updates before it bring. Returns the Yjs clients the edit writes new structs as.
 */
export function checkEditUpdates(doc: Y.Doc, updates: readonly Uint8Array[], mayWrite: MayWrite = () => true): number[] {
  const check = new EditCheck(doc, mayWrite);
  check.run(updates);
  return check.writers();
}

/** One update's check (see checkEditUpdates). */
export function checkEditUpdate(doc: Y.Doc, update: Uint8Array): void {
  checkEditUpdates(doc, [update]);
}

class EditCheck {
  /** Clock per client once what was checked so far is integrated (absent: the document's). */
  private readonly clocks = new Map<number, number>();
  /** Structs the edit brings, per client, in clock order (contiguous). */
  private readonly brought = new Map<number, Struct[]>();
  /** The same structs, to tell them from the document's (an overlapping one starts below its clock). */
  private readonly broughtSet = new Set<Struct>();
  /** Where each brought item lands, once known. */
  private readonly places = new Map<Y.Item, Place>();

  constructor(
    private readonly doc: Y.Doc,
    private readonly mayWrite: MayWrite,
  ) {}

  /** The clients the edit brings new structs of. */
  writers(): number[] {
    return [...this.brought.keys()];
  }

  private clock(client: number): number {
    return this.clocks.get(client) ?? Y.getState(this.doc.store, client);
  }

  run(updates: readonly Uint8Array[]): void {
    for (const update of updates) {
      let decoded: ReturnType<typeof Y.decodeUpdate>;
      try {
        decoded = Y.decodeUpdate(update);
      } catch {
        refuse("The edit is not a valid Yjs update");
      }
      const runs = runsOf(decoded.structs);
      // Yjs keeps one run per client (a later group of the same client replaces the earlier
      // one): an update must have exactly one group per client it writes for.
      if (groupCount(update) !== runs.size) refuse("The edit has a client twice");
      this.integrate(runs);
      // Deleting what the actor never had would park the delete set forever (Yjs pendingDs).
      // Yjs applies an update's deletions after its structs: they may delete what it brings.
      for (const [client, deletes] of decoded.ds.clients) {
        const have = this.clock(client);
        for (const item of deletes) {
          // An empty range makes Yjs throw in the middle of applying the update.
          if (item.len === 0) refuse("The edit deletes an empty range");
          if (item.clock + item.len > have) refuse(`The edit deletes changes of client ${client} the actor does not have`);
        }
      }
    }
  }

  /** Integrates runs of structs as Yjs does (a run waits for the client it depends on), or refuses. */
  private integrate(runs: Map<number, Struct[]>): void {
    const next = new Map<number, number>();
    const waiting = new Map<number, number[]>();
    const queue = [...runs.keys()];
    while (queue.length > 0) {
      const client = queue.pop()!;
      const structs = runs.get(client)!;
      let i = next.get(client) ?? 0;
      let advanced = false;
      for (; i < structs.length; i++) {
        const struct = structs[i]!;
        const have = this.clock(client);
        if (struct.id.clock > have) refuse(`The edit depends on changes of client ${client} the actor does not have (from clock ${struct.id.clock})`);
        if (struct instanceof Y.Item) {
          // Yjs asks what an item refers to before it looks whether it has the item already:
          // a known item that refers to what is missing is parked all the same.
          const blocked = this.missing(struct);
          if (blocked !== null) {
            let list = waiting.get(blocked);
            if (list === undefined) waiting.set(blocked, (list = []));
            list.push(client);
            break;
          }
        }
        if (struct.id.clock + struct.length <= have) continue; // known already: Yjs skips it
        if (!this.brought.has(client) && !this.mayWrite(client)) refuse(`The edit writes as Yjs client ${client}, which another connection writes as`);
        if (struct instanceof Y.Item) this.checkContent(struct);
        this.clocks.set(client, struct.id.clock + struct.length);
        let list = this.brought.get(client);
        if (list === undefined) this.brought.set(client, (list = []));
        list.push(struct);
        this.broughtSet.add(struct);
        advanced = true;
      }
      next.set(client, i);
      if (advanced) {
        for (const waiter of waiting.get(client) ?? []) queue.push(waiter);
        waiting.delete(client);
      }
    }
    for (const [client, structs] of runs) {
      if ((next.get(client) ?? 0) < structs.length) refuse("The edit refers to items the actor does not have");
    }
  }

  /** The client an item waits for (null: everything it refers to is there). Refuses what can never be. */
  private missing(item: Y.Item): number | null {
    for (const ref of [item.origin, item.rightOrigin, item.parent instanceof Y.ID ? item.parent : null]) {
      if (ref === null) continue;
      if (ref.client === item.id.client) {
        // A client's items refer to its own earlier items only.
        if (ref.clock >= item.id.clock) refuse(`The edit refers to an item (${ref.client}:${ref.clock}) the actor does not have`);
      } else if (ref.clock >= this.clock(ref.client)) {
        return ref.client;
      }
    }
    return null;
  }

  private checkContent(item: Y.Item): void {
    if (typeof item.parent === "string" && item.parent !== STATE_ROOT) refuse(`The edit writes outside the state ("${item.parent}")`);
    if (item.parentSub === "__proto__") refuse(`"__proto__" is not allowed as a state key`);
    const place = this.placeOf(item);
    if (place === COLLECTED) return;
    const problem = allowed(item.content, place);
    if (problem !== null) refuse(`The edit writes what the state cannot hold: ${problem}`);
    if (item.content instanceof Y.ContentType && place.depth + 1 > MAX_STATE_DEPTH) refuse(`State may nest at most ${MAX_STATE_DEPTH} levels deep`);
    // A JSON value counts its own nesting (each one sits a level below its type).
    if (item.content instanceof Y.ContentAny) {
      for (const value of item.content.arr) {
        if (nestsDeeperThan(value, MAX_STATE_DEPTH - place.depth)) refuse(`State may nest at most ${MAX_STATE_DEPTH} levels deep`);
      }
    }
  }

  /** Where an item lands, as Yjs decides it: its parent, or (none given) its left or right neighbour's. */
  private placeOf(item: Y.Item): Place {
    const known = this.places.get(item);
    if (known !== undefined) return known;
    // Follow neighbours until an item whose place is known or given (iteratively: chains can be long).
    const chain: Y.Item[] = [];
    let current: Y.Item = item;
    let place: Place | undefined;
    for (;;) {
      chain.push(current);
      const cached = this.places.get(current);
      if (cached !== undefined) {
        place = cached;
        break;
      }
      if (current.parent !== null) {
        // (Were a neighbour collected, Yjs would drop the item: checking it anyway only refuses more.)
        place = this.placeIn(current.parent, current.parentSub);
        break;
      }
      const left = current.origin === null ? null : this.find(current.origin);
      const right = left === null && current.rightOrigin !== null ? this.find(current.rightOrigin) : null;
      if (left instanceof Y.GC || right instanceof Y.GC) {
        place = COLLECTED;
        break;
      }
      const near = (left ?? right) as Y.Item | null;
      if (near === null) refuse("The edit has an item with no parent and no neighbour");
      if (!this.isBrought(near)) {
        place = this.placeOfDocItem(near);
        break;
      }
      current = near;
    }
    for (const link of chain) this.places.set(link, place);
    return place;
  }

  /** The place of an item already in the document. */
  private placeOfDocItem(item: Y.Item): Place {
    const parent = item.parent as Y.AbstractType<unknown> | null;
    if (parent === null) return COLLECTED;
    return { kind: kindOf(parent), depth: typeDepth(parent), sub: item.parentSub };
  }

  /** The place under a parent given by root name or by the id of its type's item. */
  private placeIn(parent: Y.ID | string | Y.AbstractType<unknown>, sub: string | null): Place {
    if (typeof parent === "string") return { kind: "map", depth: 0, sub };
    if (!(parent instanceof Y.ID)) return { kind: kindOf(parent), depth: typeDepth(parent), sub };
    const struct = this.find(parent);
    if (struct instanceof Y.GC) return COLLECTED;
    const item = struct as Y.Item;
    // A deleted type whose content was collected: Yjs drops what goes into it.
    if (item.content instanceof Y.ContentDeleted) return COLLECTED;
    if (!(item.content instanceof Y.ContentType) || item.id.clock !== parent.clock) refuse("The edit puts an item into something that is not a type");
    if (!this.isBrought(item)) {
      const type = item.content.type as Y.AbstractType<unknown>;
      return { kind: kindOf(type), depth: typeDepth(type), sub };
    }
    const above = this.placeOf(item);
    return { kind: kindOf(item.content.type as Y.AbstractType<unknown>), depth: above.depth + 1, sub };
  }

  /** Whether a struct is one of the edit's (not yet integrated: its parent is an id or a name, or implied). */
  private isBrought(struct: Struct): boolean {
    return this.broughtSet.has(struct);
  }

  /** The struct holding `id`: in the document, or brought by the edit (checked to exist: see missing). */
  private find(id: Y.ID): Struct {
    if (id.clock < Y.getState(this.doc.store, id.client)) return Y.getItem(this.doc.store, id) as Struct;
    const list = this.brought.get(id.client);
    if (list !== undefined) {
      let low = 0;
      let high = list.length - 1;
      while (low <= high) {
        const mid = (low + high) >> 1;
        const struct = list[mid]!;
        if (id.clock < struct.id.clock) high = mid - 1;
        else if (id.clock >= struct.id.clock + struct.length) low = mid + 1;
        else return struct;
      }
    }
    refuse(`The edit refers to an item (${id.client}:${id.clock}) the actor does not have`);
  }
}

/** How many client groups an update (v1) declares: its first number. */
function groupCount(update: Uint8Array): number {
  return decoding.readVarUint(decoding.createDecoder(update));
}

/** The structs of one update per client: one contiguous run each, or the update is refused. */
function runsOf(structs: readonly Struct[]): Map<number, Struct[]> {
  const runs = new Map<number, Struct[]>();
  let previous: Struct | null = null;
  for (const struct of structs) {
    if (struct instanceof Y.Skip) refuse("The edit has a gap (a Skip struct)");
    // Yjs never writes an empty struct, and one breaks it: applied, then every replica's read
    // of the document throws (a GC), or the apply itself throws (deleted content).
    if (struct.length === 0) refuse("The edit has an empty struct");
    const { client, clock } = struct.id;
    if (previous !== null && previous.id.client === client) {
      if (clock !== previous.id.clock + previous.length) refuse(`The edit has client ${client} twice`);
    } else if (runs.has(client)) {
      refuse(`The edit has client ${client} twice`);
    } else {
      runs.set(client, []);
    }
    runs.get(client)!.push(struct);
    previous = struct;
  }
  return runs;
}

/** True when the document holds parts of updates it could not integrate. */
export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}
