/**
 * What a selection of actor state becomes in React: plain, immutable data. The state a
 * selector reads is the replica's live view (texts are views with the Y.Text methods); what
 * it returns is copied out of the view at once (`toPlain`: views become plain objects,
 * arrays and strings), so React holds a value that never changes under it.
 * @public
 */
import type * as Y from "yjs";
import { toPlain } from "../../shared/state/index.ts";

/** The plain, read-only type of a selection: Yjs texts and XML become strings, maps and arrays plain. */
export type Snapshot<T> = T extends Y.Text | Y.XmlFragment | Y.XmlElement
  ? string
  : T extends Y.Map<infer V>
    ? { readonly [key: string]: Snapshot<V> }
    : T extends Y.Array<infer V>
      ? readonly Snapshot<V>[]
      : T extends Uint8Array | ((...args: never[]) => unknown)
        ? T
        : T extends readonly (infer E)[]
          ? readonly Snapshot<E>[]
          : T extends object
            ? { readonly [K in keyof T]: Snapshot<T[K]> }
            : T;

/** The selection as plain data, taken now. */
export function snapshotOf<T>(selected: T): Snapshot<T> {
  return toPlain(selected) as Snapshot<T>;
}
