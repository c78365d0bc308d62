import { DEFAULT_AUTH_BASE_URL, isDeadLogin, refreshTokens, type AuthEndpoint, type RefreshOptions } from './device-flow';
import { TokenRing } from './token-ring';
import { LoginError } from '../errors';
import { type Clock, realClock } from '../transport';
import type { TokenSet } from '../types';

/**
 * What the client needs from a login: a current access token, and a fresh one after a 401. `deadline` is the
 * calling request's: a refresh it has to wait for ends by then.
 */
export interface TokenProvider {
  getAccessToken(options?: RefreshOptions): Promise<string>;
  /** The API refused `rejected`: return a token to retry with (refreshing at most once for it). */
  refreshAfterUnauthorized(rejected: string, options?: RefreshOptions): Promise<string>;
}

export interface TokenManagerOptions extends AuthEndpoint {
  tokens?: TokenSet;
  /** Called with every new token set, so the host stores the rotated refresh token. Awaited. */
  onTokens?: (tokens: TokenSet) => void | Promise<void>;
  /** Refresh this long before the access token expires. */
  refreshMarginMs?: number;
  /** Told when onTokens fails; the tokens are still used in memory. */
  onPersistError?: (error: unknown) => void;
  /**
   * Checks that onTokens will be able to store a new token set, before a refresh spends the refresh token (BMW
   * retires it): throws, and no refresh is made, when it could not. The stored refresh token then stays good.
   * Not asked once a token set could not be stored (the stored one is spent already; the process goes on with
   * the tokens in memory).
   */
  checkStore?: () => Promise<void>;
  /**
   * Reads the token set as stored now. When BMW refuses the refresh token, another process sharing the store may
   * have rotated it: the stored set is read and, if it is newer, used instead of asking to authorize again.
   */
  reload?: () => Promise<TokenSet | undefined>;
  /**
   * Shares the token set with the other holders of the same login in this process (see TokenRing): a refresh
   * first takes a newer set another holder got, and every new set is offered to them.
   */
  ring?: TokenRing;
}

/**
 * Holds the token set, refreshes it a few minutes before expiry and after a 401, and never runs two refreshes at
 * once: BMW rotates refresh tokens, so a second concurrent refresh with the same token would be refused.
 */
export class TokenManager implements TokenProvider {
  private tokens?: TokenSet;
  private inflight?: Promise<TokenSet>;
  /** The last token set could not be stored: the stored refresh token is already spent, nothing to protect. */
  private unsaved = false;
  private readonly now: Clock;
  private readonly margin: number;

  constructor(private readonly options: TokenManagerOptions) {
    this.tokens = options.tokens;
    this.now = options.now ?? realClock;
    this.margin = options.refreshMarginMs ?? 5 * 60_000;
    if (this.tokens) this.share(this.tokens);
  }

  /** The current token set (a copy), if any. */
  current(): TokenSet | undefined {
    return this.tokens && { ...this.tokens };
  }

  get gcid(): string | undefined {
    return this.tokens?.gcid;
  }

  /**
   * Replaces the token set, e.g. after a device login. Calls onTokens, unless the host says it has stored this set
   * already (`stored`), so a login is written once.
   */
  async setTokens(tokens: TokenSet, options: { stored?: boolean } = {}): Promise<void> {
    this.tokens = { ...tokens };
    this.share(this.tokens);
    if (options.stored) this.unsaved = false;
    else await this.persist(this.tokens);
  }

  private ringKey(tokens: TokenSet | undefined): string | undefined {
    return this.options.ring ? TokenRing.key(this.options.authBaseUrl ?? DEFAULT_AUTH_BASE_URL, this.options.clientId, tokens?.gcid) : undefined;
  }

  /** Stops sharing: the set this manager holds is no longer offered to the other holders of the login. */
  release(): void {
    if (this.tokens) this.options.ring?.release(this.ringKey(this.tokens), this.tokens);
  }

  private share(tokens: TokenSet): void {
    this.options.ring?.offer(this.ringKey(tokens), tokens);
  }

  private async persist(tokens: TokenSet): Promise<void> {
    if (!this.options.onTokens) return;
    try {
      await this.options.onTokens({ ...tokens });
      this.unsaved = false;
    } catch (e) {
      this.unsaved = true;
      this.options.onPersistError?.(e);
    }
  }

  private requireTokens(): TokenSet {
    if (!this.tokens?.refreshToken) {
      throw new LoginError({ kind: 'auth', message: 'The account is not authorized', hint: 'Run the device login (Authorize) first.' });
    }
    return this.tokens;
  }

  /**
   * Refreshes now (joining a refresh already under way). The refresh ends by `deadline`, that of the caller that
   * started it: a caller that joins it started later, so its own deadline is rarely the earlier one.
   */
  refresh(options: RefreshOptions = {}): Promise<TokenSet> {
    if (!this.inflight) {
      const current = this.requireTokens();
      this.inflight = this.refreshShared(current, options)
        .catch(async (e: unknown) => {
          const stored = isDeadLogin(e) && this.options.reload ? await this.options.reload().catch(() => undefined) : undefined;
          if (!stored?.refreshToken || stored.refreshToken === current.refreshToken) throw e;
          // Rotated by another process: its access token may still be good; else refresh once with its token.
          this.tokens = { ...stored };
          if (stored.accessToken && this.now() < stored.expiresAt - this.margin) return this.tokens;
          return this.refreshFrom(stored, options);
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  /** Takes a newer set another holder of the login got (stored like a refresh's), else refreshes. */
  private async refreshShared(current: TokenSet, options: RefreshOptions): Promise<TokenSet> {
    const newer = this.options.ring?.newerThan(this.ringKey(current), current);
    if (!newer) return this.refreshFrom(current, options);
    this.tokens = newer;
    await this.persist(newer);
    if (newer.accessToken && this.now() < newer.expiresAt - this.margin) return newer;
    return this.refreshFrom(newer, options);
  }

  private async refreshFrom(current: TokenSet, options: RefreshOptions): Promise<TokenSet> {
    if (!this.unsaved) await this.options.checkStore?.();
    const fresh = await refreshTokens(this.options, current.refreshToken, options);
    const merged: TokenSet = { ...fresh, gcid: fresh.gcid ?? current.gcid, idToken: fresh.idToken ?? current.idToken };
    this.tokens = merged;
    this.share(merged);
    await this.persist(merged);
    return merged;
  }

  async getAccessToken(options: RefreshOptions = {}): Promise<string> {
    if (this.inflight) return (await this.inflight).accessToken;
    const tokens = this.requireTokens();
    if (!tokens.accessToken || this.now() >= tokens.expiresAt - this.margin) return (await this.refresh(options)).accessToken;
    return tokens.accessToken;
  }

  async refreshAfterUnauthorized(rejected: string, options: RefreshOptions = {}): Promise<string> {
    if (this.inflight) return (await this.inflight).accessToken;
    // Another caller already replaced the rejected token: use the new one instead of refreshing again.
    if (this.tokens && this.tokens.accessToken !== rejected) return this.tokens.accessToken;
    return (await this.refresh(options)).accessToken;
  }
}
