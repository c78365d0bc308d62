import { opaqueToken } from './random';

export interface PageBinding {
  kind: 'charging' | 'settings';
  vin: string;
  /** chargingHistory only: the query window in epoch ms. */
  fromMs?: number;
  toMs?: number;
}

interface PageTokenRecord extends PageBinding {
  offset: number;
  issuedAt: number;
}

/**
 * Opaque page tokens bound to the query they continue. A token can be replayed until it expires, so a client may
 * retry a page after a network error.
 */
export class PageTokenStore {
  private tokens = new Map<string, PageTokenRecord>();

  constructor(
    private readonly now: () => number,
    private readonly ttlSec: number,
  ) {}

  issue(binding: PageBinding, offset: number): string {
    if (this.tokens.size > 10_000) this.sweep();
    const token = opaqueToken(24);
    this.tokens.set(token, { ...binding, offset, issuedAt: this.now() });
    return token;
  }

  /** The offset the token continues at, or undefined when it is unknown, expired or made for another query. */
  resolve(token: string, binding: PageBinding): number | undefined {
    const rec = this.tokens.get(token);
    if (!rec || this.isExpired(rec)) return undefined;
    if (rec.kind !== binding.kind || rec.vin !== binding.vin || rec.fromMs !== binding.fromMs || rec.toMs !== binding.toMs) {
      return undefined;
    }
    return rec.offset;
  }

  expireAll(): void {
    this.tokens = new Map();
  }

  private isExpired(rec: PageTokenRecord): boolean {
    return this.now() - rec.issuedAt > this.ttlSec * 1000;
  }

  private sweep(): void {
    for (const [token, rec] of this.tokens) if (this.isExpired(rec)) this.tokens.delete(token);
  }
}
