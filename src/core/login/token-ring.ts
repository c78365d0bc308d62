import type { TokenSet } from '../types';

/**
 * The newest token set of each login in a process, for every holder of it. BMW rotates the refresh token on each
 * refresh, so two holders of one login (two Node-RED account nodes, two n8n credentials of the same BMW account
 * and client ID) that refresh on their own retire each other's token: they share the newest set instead. A login
 * is its login service, client ID and GCID; a set without a GCID is not shared.
 */
export class TokenRing {
  private readonly sets = new Map<string, TokenSet>();

  static key(authBaseUrl: string, clientId: string, gcid: string | undefined): string | undefined {
    return gcid ? JSON.stringify([authBaseUrl.replace(/\/+$/, ''), clientId.trim(), gcid]) : undefined;
  }

  /** Keeps `tokens` when it is the newest set of its login (the later expiry). */
  offer(key: string | undefined, tokens: TokenSet): void {
    if (!key || !tokens.refreshToken) return;
    const held = this.sets.get(key);
    if (!held || tokens.expiresAt >= held.expiresAt) this.sets.set(key, { ...tokens });
  }

  /** Forgets `tokens` if it is the set held for its login (its holder stops: only running holders share). */
  release(key: string | undefined, tokens: TokenSet): void {
    if (key && this.sets.get(key)?.refreshToken === tokens.refreshToken) this.sets.delete(key);
  }

  /** A set of the login newer than `current` (another holder refreshed since), if there is one. */
  newerThan(key: string | undefined, current: TokenSet): TokenSet | undefined {
    const held = key ? this.sets.get(key) : undefined;
    return held && held.refreshToken !== current.refreshToken && held.expiresAt > current.expiresAt ? { ...held } : undefined;
  }
}

/** The ring of this process. */
export const processTokens = new TokenRing();
