import { createHmac, randomBytes } from 'crypto';
import { opaqueToken } from './random';
import type { TokenResponse } from './types';

/** Scopes the simulated CarData client is subscribed to. */
export const ACCOUNT_SCOPES = ['authenticate_user', 'openid', 'cardata:api:read', 'cardata:streaming:read'];
export const FULL_SCOPE = ACCOUNT_SCOPES.join(' ');
/**
 * GCDM's spec promises all registered scopes when `scope` is omitted, but real tokens then lack cardata:api:read
 * and every REST call fails with CU-103. The simulator reproduces the real behaviour.
 */
export const SCOPE_WHEN_OMITTED = 'authenticate_user openid';
export const API_SCOPE = 'cardata:api:read';

interface AccessRecord {
  gcid: string;
  scopes: ReadonlySet<string>;
  expiresAt: number;
}

interface RefreshRecord {
  gcid: string;
  scope: string;
  /** Undefined for tokens made by issueTokens() without a client: any client may refresh them. */
  clientId?: string;
  expiresAt: number;
  used: boolean;
}

export type AccessCheck = { ok: true; gcid: string; scopes: ReadonlySet<string> } | { ok: false; code: 'CU-101' | 'CU-102' };

export interface TokenConfig {
  now: () => number;
  accessTtlSec: number;
  refreshTtlSec: number;
  issuer: string;
}

/** Issues, checks and rotates tokens. Everything is in memory and dies with the simulator. */
export class TokenStore {
  private readonly access = new Map<string, AccessRecord>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  // The id_token only has to look like a JWT to clients; an HMAC with a per-process key is enough.
  private readonly signingKey = randomBytes(32);

  constructor(private readonly cfg: TokenConfig) {}

  issue(gcid: string, scope: string, clientId?: string): TokenResponse {
    const now = this.cfg.now();
    const scopes = scope.split(/\s+/).filter(Boolean);
    // ~51 characters, like GCDM's opaque tokens.
    const accessToken = opaqueToken(38);
    const refreshToken = opaqueToken(34);
    this.access.set(accessToken, {
      gcid,
      scopes: new Set(scopes),
      expiresAt: now + this.cfg.accessTtlSec * 1000,
    });
    this.refreshTokens.set(refreshToken, {
      gcid,
      scope,
      clientId,
      expiresAt: now + this.cfg.refreshTtlSec * 1000,
      used: false,
    });
    const answer: TokenResponse = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.cfg.accessTtlSec,
      refresh_token: refreshToken,
      scope: scopes.join(' '),
      gcid,
    };
    if (scopes.includes('openid')) answer.id_token = this.idToken(gcid, clientId, now);
    return answer;
  }

  checkAccess(token: string): AccessCheck {
    const rec = this.access.get(token);
    if (!rec) return { ok: false, code: 'CU-101' };
    if (this.cfg.now() >= rec.expiresAt) return { ok: false, code: 'CU-102' };
    return { ok: true, gcid: rec.gcid, scopes: rec.scopes };
  }

  /** Refresh-token grant with rotation: the token used is dead afterwards, whatever the outcome of later calls. */
  refresh(refreshToken: string, clientId: string): TokenResponse | undefined {
    const rec = this.refreshTokens.get(refreshToken);
    if (!rec || rec.used || this.cfg.now() >= rec.expiresAt) return undefined;
    if (rec.clientId !== undefined && rec.clientId !== clientId) return undefined;
    rec.used = true;
    return this.issue(rec.gcid, rec.scope, rec.clientId ?? clientId);
  }

  expireAccessTokens(): void {
    const now = this.cfg.now();
    for (const rec of this.access.values()) rec.expiresAt = Math.min(rec.expiresAt, now);
  }

  private idToken(gcid: string, clientId: string | undefined, nowMs: number): string {
    const iat = Math.floor(nowMs / 1000);
    const header = { typ: 'JWT', alg: 'HS256', kid: 'cardata-simulator' };
    const payload = {
      sub: gcid,
      iss: this.cfg.issuer,
      aud: clientId ?? 'cardata-simulator',
      tokenName: 'id_token',
      iat,
      exp: iat + this.cfg.accessTtlSec,
      jti: opaqueToken(12),
    };
    const enc = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${enc(header)}.${enc(payload)}`;
    const signature = createHmac('sha256', this.signingKey).update(unsigned).digest('base64url');
    return `${unsigned}.${signature}`;
  }
}
