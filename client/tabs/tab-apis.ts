/**
 * The browser APIs multi-tab needs (Web Locks, BroadcastChannel), from the options or the
 * platform, and the storage lock a tab holds when it cannot share a storage.
 */
import type { BroadcastChannelLike, LockManagerLike } from "./tab-messages.ts";

/** Multi-tab's browser APIs, when the platform's are not the ones to use (tests). */
export interface MultiTabOptions {
  /** Default: `navigator.locks`. */
  locks?: LockManagerLike;
  /** Default: `new BroadcastChannel(name)`. */
  channel?: (name: string) => BroadcastChannelLike;
}

/** The platform's (or the options') Web Locks and BroadcastChannel; null where either is missing or multi-tab is off. */
export function multiTabApis(option: false | MultiTabOptions | undefined): { locks: LockManagerLike; channel: (name: string) => BroadcastChannelLike } | null {
  if (option === false) return null;
  const locks = option?.locks ?? (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  const Channel = (globalThis as { BroadcastChannel?: new (name: string) => BroadcastChannelLike }).BroadcastChannel;
  const channel = option?.channel ?? (Channel === undefined ? undefined : (name: string) => new Channel(name));
  return locks === undefined || channel === undefined ? null : { locks, channel };
}

/** Holds the Web Lock of a shared storage for the life of the page; false if another tab has it. */
export function holdStorageLock(name: string): Promise<boolean> {
  const locks = (globalThis.navigator as { locks?: { request: (...args: unknown[]) => Promise<unknown> } } | undefined)?.locks;
  if (locks === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    locks
      .request(`tandem storage ${name}`, { ifAvailable: true }, (lock: unknown) => {
        resolve(lock !== null);
        return lock === null ? undefined : new Promise(() => undefined); // never released while the page lives
      })
      .catch(() => resolve(true));
  });
}
