import { isDeadLogin } from '../login/device-flow';
import { CarDataError } from '../errors';
import { StreamError, type StreamTokenSource } from './types';
import { describe } from './subscriber';
import type { TokenSet } from '../types';

/**
 * The login a stream connection offers the broker: the id_token of the account's tokens, refreshed shortly
 * before it expires, never one the broker refused.
 */
export class StreamLogin {
  /** An id_token the broker refused: never offered again, the next attempt refreshes first (no expiry margin). */
  private rejectedIdToken?: string;

  constructor(
    private readonly source: () => StreamTokenSource,
    private readonly margin: number,
    private readonly now: () => number,
  ) {}

  /** The broker refused this login: the next attempt refreshes first. */
  reject(tokens: TokenSet): void {
    this.rejectedIdToken = tokens.idToken;
  }

  /** The id_token is good for less than the margin: renew before the broker closes the connection. */
  expiring(tokens: TokenSet): boolean {
    return tokens.expiresAt - this.margin <= this.now();
  }

  /** When to renew the login of a connection made with these tokens (at least a second from now). */
  renewDelay(tokens: TokenSet): number {
    return Math.max(1_000, tokens.expiresAt - this.margin - this.now());
  }

  /**
   * The token set to log in with: the current one while its id_token is good for longer than the margin, was not
   * refused by the broker and is not the one being `replacing`, else a refreshed one. With `orCurrent`, a failed
   * refresh falls back to a current id_token that is still valid and was not refused (a login-service hiccup need
   * not stop a reconnect).
   */
  async tokens(opts: { orCurrent: boolean; replacing?: string }): Promise<TokenSet> {
    const { orCurrent, replacing } = opts;
    const source = this.source();
    const current = source.current();
    const valid = !!current?.idToken && !!current.gcid && current.idToken !== this.rejectedIdToken;
    const usable = valid && current.idToken !== replacing;
    if (usable && !this.expiring(current)) return current;
    if (!current?.refreshToken) throw noLogin();
    let fresh: TokenSet;
    try {
      fresh = await source.refresh();
    } catch (e) {
      if (orCurrent && valid && !isDeadLogin(e) && current.expiresAt - 5_000 > this.now()) return current;
      throw e;
    }
    if (!fresh.idToken || !fresh.gcid) throw noLogin();
    return fresh;
  }
}

function noLogin(): StreamError {
  return new StreamError({
    streamCode: 'no-login',
    kind: 'auth',
    message: 'The account has no stream login (id_token and GCID)',
    hint: 'Authorize the account again with the scopes openid and cardata:streaming:read.',
  });
}

/**
 * What a stream says when its login could not be had: for a login BMW refused for good (the refresh token is gone,
 * or the account has no login), that only authorizing again helps; else that it retries by itself.
 */
export function loginFailure(e: unknown): StreamError {
  if (isDeadLogin(e)) {
    return e instanceof StreamError
      ? e
      : new StreamError({
          streamCode: 'refresh-failed',
          kind: 'auth',
          message: `The stream login could not be renewed: ${describe(e)}`,
          hint: e instanceof CarDataError && e.hint ? e.hint : 'Authorize the account again.',
          cause: e,
        });
  }
  return new StreamError({
    streamCode: 'connection',
    kind: 'network',
    message: `The stream login could not be renewed: ${describe(e)}`,
    hint: e instanceof CarDataError && e.hint ? e.hint : 'Check the network; the stream retries by itself.',
    cause: e,
  });
}
