/**
 * Actor channels open at once per remote address (`maxChannelsPerAddress`), over all its
 * sockets: without it one address could hold maxSocketsPerAddress × maxChannelsPerSocket
 * channels (262,144 by default, ~5–35 KB of server memory each). Counted by the same address
 * as sockets-per-address.ts.
 */
export class ChannelsPerAddress {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** The quota of one socket's address: `admit` counts a channel (false: at the limit), `release` frees one. */
  of(address: string): ChannelQuota {
    return {
      admit: () => {
        const count = this.open.get(address) ?? 0;
        if (count >= this.limit) return false;
        this.open.set(address, count + 1);
        return true;
      },
      release: () => {
        const count = this.open.get(address) ?? 0;
        if (count <= 1) this.open.delete(address);
        else this.open.set(address, count - 1);
      },
    };
  }
}

export interface ChannelQuota {
  admit(): boolean;
  release(): void;
}

/** No limit (a session made outside the plugin). */
export const UNLIMITED_CHANNELS: ChannelQuota = { admit: () => true, release: () => {} };
