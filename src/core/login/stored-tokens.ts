import type { TokenSet } from '../types';

/**
 * A token set as the text fields a host keeps (the n8n credential, a Node-RED account's credentials): one format
 * for every host, `expiresAt` as ISO 8601.
 */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  idToken: string;
  gcid: string;
  scope: string;
  expiresAt: string;
}

/** Stored fields as a host reads them back: any of them may be missing or not text. */
export type StoredTokenFields = { [K in keyof StoredTokens]?: unknown };

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** When a stored token expires (epoch ms): ISO 8601, or epoch ms as a number or digits (older Node-RED accounts); 0 when neither. */
function expiryOf(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0;
  const t = text(value);
  const ms = /^\d+$/.test(t) ? Number(t) : Date.parse(t);
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * The fields to store for a token set. What BMW did not send again (id token, GCID, scope) is kept from `previous`,
 * the fields stored before.
 */
export function storedTokens(tokens: TokenSet, previous: StoredTokenFields = {}): StoredTokens {
  return {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    idToken: tokens.idToken ?? text(previous.idToken),
    gcid: tokens.gcid ?? text(previous.gcid),
    scope: tokens.scope ?? text(previous.scope),
    expiresAt: new Date(expiryOf(tokens.expiresAt)).toISOString(),
  };
}

/** The token set of stored fields (trimmed, as pasted); undefined without a refresh token. */
export function tokensFromStored(stored: StoredTokenFields | undefined): TokenSet | undefined {
  const refreshToken = text(stored?.refreshToken);
  if (!stored || !refreshToken) return undefined;
  return {
    accessToken: text(stored.accessToken),
    refreshToken,
    idToken: text(stored.idToken) || undefined,
    gcid: text(stored.gcid) || undefined,
    scope: text(stored.scope) || undefined,
    expiresAt: expiryOf(stored.expiresAt),
  };
}
