/**
 * This client's identity in storage: its id (exactly-once identity) and its seq counter,
 * reserved a block at a time so a reload never reuses a seq. A leader (or lone) tab owns
 * them; a follower only reads the id.
 */
import type { ClientStorage } from "./storage/storage.ts";

/** Seqs are reserved in storage a block at a time, so a reload never reuses one. */
const SEQ_BLOCK = 1000;

export class ClientIdentity {
  clientId = "";
  private seq = 0;
  private reserved = 0;
  private reserving: Promise<void> | null = null;
  /** `ready` has resolved. */
  private isReady = false;

  constructor(
    /** The storage in use (it may change while the client starts). */
    private readonly storage: () => ClientStorage,
    /** The id the options give, if any. */
    private readonly fixedId: string | undefined,
    /** Resolves once the client is ready (its id and counter loaded). */
    private readonly ready: () => Promise<void>,
  ) {}

  /** The client is ready: seqs may be taken at once from now on. */
  markReady(): void {
    this.isReady = true;
  }

  /** The client id and the seq counter from storage (created by the leader, or a lone tab, if missing). */
  async load(owner: boolean): Promise<void> {
    let id: unknown;
    let seq: unknown;
    try {
      [id, seq] = await Promise.all([this.storage().get("c:id"), this.storage().get("c:seq")]);
    } catch {
      // storage is unusable: this session runs in memory (subscriptions report the fault)
    }
    if (!owner) {
      this.clientId = this.fixedId ?? (typeof id === "string" ? id : "");
      return;
    }
    this.clientId = this.fixedId ?? (typeof id === "string" && id.length > 0 ? id : crypto.randomUUID());
    this.seq = this.reserved = typeof seq === "number" && Number.isSafeInteger(seq) ? seq : 0;
    if (id !== this.clientId) await this.storage().batch([["c:id", this.clientId]]).catch(() => undefined);
  }

  /**
   * The next seq: at once while the reserved block lasts (the common case, no await), else
   * once the client is ready and a new block is reserved in storage.
   */
  takeSeq(): number | Promise<number> {
    if (this.isReady && this.reserving === null && this.seq < this.reserved) return ++this.seq;
    return this.takeSeqLater();
  }

  private async takeSeqLater(): Promise<number> {
    await this.ready();
    while (this.seq >= this.reserved) {
      this.reserving ??= (async () => {
        const next = this.reserved + SEQ_BLOCK;
        await this.storage().batch([["c:seq", next]]).catch(() => undefined);
        this.reserved = next;
      })().finally(() => {
        this.reserving = null;
      });
      await this.reserving;
    }
    return ++this.seq;
  }
}
