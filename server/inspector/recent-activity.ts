/**
 * The recent actions, edits and events of one live actor, for the inspector: a ring buffer
 * of fixed capacity kept as parallel typed arrays, so recording one allocates nothing and
 * an actor's share of memory is fixed (about 50 bytes a slot, measured; strings are references to
 * names and ids that exist anyway). Read newest first.
 */

export type ActivityKind = "action" | "edit" | "event";
const KINDS: readonly ActivityKind[] = ["action", "edit", "event"];

export interface ActivityEntry {
  readonly kind: ActivityKind;
  /** The action's or event's name ("(edit)" for an edit). */
  readonly name: string;
  /** Epoch ms when it was asked for (an event: when it was delivered). */
  readonly at: number;
  /** How long the caller waited, in ms (queue, run, durable gate); 0 for an event. */
  readonly ms: number;
  /** "ok", or the error code. */
  readonly outcome: string;
  /** The connection that asked (an action or edit), or how many connections got an event. */
  readonly conn: string | null;
  readonly targets: number;
}

export class RecentActivity {
  private readonly kinds: Uint8Array;
  private readonly at: Float64Array;
  private readonly ms: Float64Array;
  private readonly targets: Uint32Array;
  private readonly names: string[];
  private readonly outcomes: string[];
  private readonly conns: (string | null)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.kinds = new Uint8Array(capacity);
    this.at = new Float64Array(capacity);
    this.ms = new Float64Array(capacity);
    this.targets = new Uint32Array(capacity);
    this.names = new Array<string>(capacity).fill("");
    this.outcomes = new Array<string>(capacity).fill("");
    this.conns = new Array<string | null>(capacity).fill(null);
  }

  /** How many entries are kept (at most `capacity`). */
  get length(): number {
    return this.size;
  }

  record(kind: ActivityKind, name: string, at: number, ms: number, outcome: string, conn: string | null, targets: number): void {
    if (this.capacity === 0) return;
    const i = this.next;
    this.kinds[i] = KINDS.indexOf(kind);
    this.names[i] = name;
    this.at[i] = at;
    this.ms[i] = ms;
    this.outcomes[i] = outcome;
    this.conns[i] = conn;
    this.targets[i] = targets;
    this.next = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** The entries, newest first. */
  list(): ActivityEntry[] {
    const out: ActivityEntry[] = [];
    for (let n = 1; n <= this.size; n++) {
      const i = (this.next - n + this.capacity) % this.capacity;
      out.push({ kind: KINDS[this.kinds[i]!]!, name: this.names[i]!, at: this.at[i]!, ms: this.ms[i]!, outcome: this.outcomes[i]!, conn: this.conns[i]!, targets: this.targets[i]! });
    }
    return out;
  }
}
