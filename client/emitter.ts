/**
 * One typed emitter: a listener set per event name, emitted over a copy (a listener may
 * remove itself), `on` returns the remover. `watch` hears a name's listener count change
 * (to listen upstream only while someone listens here).
 */
export type EventMap = { readonly [name: string]: readonly unknown[] };

type Listener<A extends readonly unknown[]> = (...args: A) => void;

export class Emitter<E extends EventMap> {
  private readonly sets = new Map<keyof E, Set<Listener<never>>>();

  constructor(private readonly watch?: (name: keyof E) => void) {}

  on<K extends keyof E>(name: K, listener: Listener<E[K]>): () => void {
    let set = this.sets.get(name);
    if (set === undefined) this.sets.set(name, (set = new Set()));
    const size = set.size;
    set.add(listener as Listener<never>);
    if (set.size !== size) this.watch?.(name);
    return () => this.off(name, listener);
  }

  off<K extends keyof E>(name: K, listener: Listener<E[K]>): void {
    if (this.sets.get(name)?.delete(listener as Listener<never>)) this.watch?.(name);
  }

  /** Whether anyone listens to `name` (to skip building what nobody hears). */
  heard(name: keyof E): boolean {
    return (this.sets.get(name)?.size ?? 0) > 0;
  }

  emit<K extends keyof E>(name: K, ...args: E[K]): void {
    const set = this.sets.get(name);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set] as Listener<E[K]>[]) listener(...args);
  }

  clear(): void {
    this.sets.clear();
  }
}
