/**
 * The identity digests a socket's open channels passed onAuth as (for leader-tab fencing,
 * leader-terms.ts), with how many channels hold each: at most one per channel, however often
 * a channel re-authenticates or a channel number is unsubscribed and reused.
 */
export class HeldIdentities {
  /** Made when the first channel is identified. */
  private counts: Map<string, number> | null = null;

  /** One more channel speaks as `identity`. */
  add(identity: string): void {
    const counts = (this.counts ??= new Map());
    counts.set(identity, (counts.get(identity) ?? 0) + 1);
  }

  /** One channel fewer speaks as `identity`: true when no channel does any more. */
  remove(identity: string): boolean {
    const held = this.counts?.get(identity);
    if (held === undefined) return false;
    if (held > 1) {
      this.counts!.set(identity, held - 1);
      return false;
    }
    this.counts!.delete(identity);
    return true;
  }

  keys(): Iterable<string> {
    return this.counts?.keys() ?? [];
  }
}
