/**
 * The connections `useActor` hands out, one per client and handle target, held by the
 * components that mounted with it. A component gets its connection during render (so that
 * hooks can read it at once) and holds it from its effect; a connection nobody holds is
 * disposed `releaseDelayMs` later. That delay is what makes StrictMode's mount → unmount →
 * mount, a quick remount, or a render React threw away (concurrent rendering: rendered,
 * never committed) share one connection — one subscription — and never leak one.
 */
import { handleSource } from "../../shared/client-facade.ts";
import { InvalidArguments } from "../../shared/errors.ts";

/** What the cache needs of a handle and of its connection. */
export interface Connectable {
  connect(): { dispose(): void };
}

/** One connection and the components holding it. */
export class HeldConnection {
  private holders = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private released = false;

  constructor(
    readonly connection: { dispose(): void },
    private readonly forget: (entry: HeldConnection) => void,
  ) {}

  /** Whether it was disposed (a component holding it must render again for a fresh one). */
  get disposed(): boolean {
    return this.released;
  }

  /** A mounted component holds it; false if it was released meanwhile. */
  hold(): boolean {
    if (this.released) return false;
    this.holders++;
    this.cancelRelease();
    return true;
  }

  /** A component let go (unmounted, or moved to another handle). */
  drop(releaseDelayMs: number): void {
    if (this.released || this.holders === 0) return;
    if (--this.holders === 0) this.releaseLater(releaseDelayMs);
  }

  /** Disposed after the delay unless someone holds it by then. */
  releaseLater(releaseDelayMs: number): void {
    this.cancelRelease();
    this.timer = setTimeout(() => this.releaseIfUnheld(), releaseDelayMs);
  }

  private cancelRelease(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** On a timer: never throws out of the event loop. */
  private releaseIfUnheld(): void {
    this.timer = null;
    if (this.holders > 0 || this.released) return;
    this.released = true;
    this.forget(this);
    try {
      this.connection.dispose();
    } catch (error) {
      console.error("tandem/react: disposing a connection failed", error);
    }
  }
}

/** Per client (its transport), the connections by target. */
const caches = new WeakMap<object, Map<string, HeldConnection>>();

/**
 * The connection for this handle: the one already open for the same client and target
 * (actor, key or id, params, input), or a new one (`handle.connect()`), released after
 * `releaseDelayMs` unless a component holds it by then.
 */
export function connectionFor(handle: Connectable, releaseDelayMs: number): HeldConnection {
  const source = typeof handle === "object" && handle !== null ? handleSource(handle) : undefined;
  if (source === undefined) throw new InvalidArguments("useActor takes a handle of a Tandem client (client.someActor.get, getOrCreate or getForId)");
  let cache = caches.get(source.transport);
  if (cache === undefined) caches.set(source.transport, (cache = new Map()));
  const key = targetKey(source.target);
  const known = cache.get(key);
  if (known !== undefined && !known.disposed) return known;
  const byTarget = cache;
  const entry = new HeldConnection(handle.connect(), (gone) => {
    if (byTarget.get(key) === gone) byTarget.delete(key);
  });
  byTarget.set(key, entry);
  entry.releaseLater(releaseDelayMs); // a render that never commits holds nothing
  return entry;
}

/** A handle's target as a string (params and input are plain data: they travel as JSON). */
function targetKey(target: unknown): string {
  try {
    return JSON.stringify(target);
  } catch (error) {
    throw new InvalidArguments("useActor: the handle's params and input must be plain data (JSON)", { cause: error });
  }
}
