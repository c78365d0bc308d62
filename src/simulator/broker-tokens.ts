import { TokenStore, type TokenConfig } from './tokens';
import type { TokenResponse } from './types';

/** The stream's password is the id_token; the broker needs to know which ones are valid and for how long. */
export type IdTokenCheck = { ok: true; gcid: string; expiresAt: number; streaming: boolean } | { ok: false; reason: 'unknown' | 'expired' };

interface IdRecord {
  gcid: string;
  expiresAt: number;
  streaming: boolean;
}

const STREAM_SCOPE = 'cardata:streaming:read';

/** The token store, also remembering every id_token it issues (login and refresh) with its expiry. */
export class StreamTokenStore extends TokenStore {
  private readonly idTokens = new Map<string, IdRecord>();
  private readonly clock: () => number;
  private readonly ttlMs: number;

  constructor(cfg: TokenConfig) {
    super(cfg);
    this.clock = cfg.now;
    this.ttlMs = cfg.accessTtlSec * 1000;
  }

  override issue(gcid: string, scope: string, clientId?: string): TokenResponse {
    const answer = super.issue(gcid, scope, clientId);
    if (answer.id_token) {
      const now = this.clock();
      // Forget id_tokens long dead, so a long-running simulator does not grow without bound.
      for (const [token, rec] of this.idTokens) if (rec.expiresAt < now - 3_600_000) this.idTokens.delete(token);
      this.idTokens.set(answer.id_token, {
        gcid,
        expiresAt: now + this.ttlMs,
        streaming: scope.split(/\s+/).includes(STREAM_SCOPE),
      });
    }
    return answer;
  }

  override expireAccessTokens(): void {
    super.expireAccessTokens();
    this.expireIdTokens();
  }

  /** Every id_token issued so far expires now (the broker then closes their connections). */
  expireIdTokens(): void {
    const now = this.clock();
    for (const rec of this.idTokens.values()) rec.expiresAt = Math.min(rec.expiresAt, now);
  }

  checkIdToken(token: string): IdTokenCheck {
    const rec = this.idTokens.get(token);
    if (!rec) return { ok: false, reason: 'unknown' };
    if (this.clock() >= rec.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, gcid: rec.gcid, expiresAt: rec.expiresAt, streaming: rec.streaming };
  }

  /** Expiry of a known id_token (also after it expired), for the broker's periodic check. */
  idTokenExpiry(token: string): number | undefined {
    return this.idTokens.get(token)?.expiresAt;
  }
}
