/**
 * This origin's storage use (navigator.storage.estimate, where the browser has it), asked
 * again at most every REFRESH_MS while the panel renders: no timer of its own.
 */
export const REFRESH_MS = 2000;

export interface StorageUse {
  readonly usage: number;
  readonly quota: number;
}

export class StorageEstimate {
  /** Undefined: not asked yet or unavailable; null: this browser has no estimate. */
  current: StorageUse | null | undefined = undefined;
  private askedAt = -Infinity;
  private disposed = false;

  /** Asks again if the last answer is old; `changed` is called when an answer arrives. */
  refresh(changed: () => void): void {
    const now = Date.now();
    if (now - this.askedAt < REFRESH_MS) return;
    this.askedAt = now;
    const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number; quota?: number }> } } }).navigator?.storage;
    if (typeof storage?.estimate !== "function") {
      this.current = null;
      return;
    }
    storage.estimate().then(
      (estimate) => {
        if (this.disposed) return;
        this.current = { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0 };
        changed();
      },
      () => {
        if (!this.disposed) this.current = null;
      },
    );
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** 1536 → "1.5 KB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
