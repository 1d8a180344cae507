/**
 * An action of the outbox as the app lists it, and as it travels between tabs.
 */
import { type TandemError, type WireError, errorFromWire } from "../shared/errors.ts";

/** An action of the outbox, as the app can list it ("3 changes not yet saved"). */
export interface OutboxEntry {
  readonly seq: number;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly status: "queued" | "sent" | "confirmed" | "rejected";
  readonly result?: unknown;
  readonly error?: TandemError;
  /** Restored from storage after a reload: its original promise is gone, hence events. */
  readonly restored: boolean;
  /** Identifies the call across the tabs of a browser. */
  readonly callId?: string;
}

/** An outbox entry as it travels between tabs (its error in wire form). */
export type WireOutboxEntry = Omit<OutboxEntry, "error"> & { readonly error?: WireError };

export function entryToWire(entry: OutboxEntry): WireOutboxEntry {
  const { error, ...rest } = entry;
  return error === undefined ? rest : { ...rest, error: error.toWire() };
}

export function entryFromWire(wire: WireOutboxEntry): OutboxEntry {
  const { error, ...rest } = wire;
  return error === undefined ? rest : { ...rest, error: errorFromWire(error) };
}
