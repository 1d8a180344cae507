/**
 * Sockets open at once per remote address (`maxSocketsPerAddress`). The address is fastify's
 * `request.ip`: the TCP peer, or the forwarded client when the app is told to trust a proxy
 * (behind a proxy that is not trusted, every client shares the proxy's address and the
 * limit applies to all of them together: raise it there). A client id is no key for this:
 * it is whatever the unauthenticated hello says.
 */
export class SocketsPerAddress {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts a new socket from `address`; false (nothing counted) when the address is at its limit. */
  admit(address: string): boolean {
    const count = this.open.get(address) ?? 0;
    if (count >= this.limit) return false;
    this.open.set(address, count + 1);
    return true;
  }

  /** A socket admitted from `address` closed. */
  release(address: string): void {
    const count = this.open.get(address) ?? 0;
    if (count <= 1) this.open.delete(address);
    else this.open.set(address, count - 1);
  }
}
