import type { ITriggerFunctions } from 'n8n-workflow';
import { accountKey } from '../core/api/account';
import { DEFAULT_AUTH_BASE_URL, tokenUrl } from '../core/login/device-flow';
import { tokensFromStored } from '../core/login/stored-tokens';
import { CarDataError, LoginError } from '../core/errors';
import type { StreamTokenSource } from '../core/stream/types';
import type { TokenSet } from '../core/types';
import { parseVehicleNames } from '../core/api/vehicle-names';
import { CREDENTIAL_TYPE, loginFailureIn } from './transport';

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * The stream's login (GCID + id_token) from the n8n credential. A refresh must go through n8n, so that the
 * rotated refresh token is stored in the credential (BMW refuses the old one afterwards): n8n runs the
 * credential's refresh when an authenticated request is answered with a status listed as "token expired". The
 * request sent for that is a bare POST to the login service's token endpoint, which answers 400 (or 401) without
 * costing a CarData call; n8n then refreshes, stores the new tokens and resends (answered 400 again, ignored).
 */
export class CredentialStreamTokens implements StreamTokenSource {
  private tokens?: TokenSet;
  private authBaseUrl = DEFAULT_AUTH_BASE_URL;
  /** The credential's stream broker URL ('' when it has none). */
  streamUrl = '';
  /** The credential's car names by VIN. */
  vehicleNames: Record<string, string> = {};
  /** The credential's Tariff field as entered ('' when none). */
  tariffText = '';
  /** The account's key (accountKey), as the action node's client knows it. */
  accountId = '';
  private inflight?: Promise<TokenSet>;

  constructor(private readonly ctx: ITriggerFunctions) {}

  async load(): Promise<TokenSet | undefined> {
    const credentials = await this.ctx.getCredentials(CREDENTIAL_TYPE);
    this.authBaseUrl = text(credentials.authBaseUrl).replace(/\/+$/, '') || DEFAULT_AUTH_BASE_URL;
    this.streamUrl = text(credentials.streamUrl);
    this.tokens = tokensFromStored(credentials);
    this.vehicleNames = parseVehicleNames(credentials.vehicleNames).names;
    this.tariffText = typeof credentials.tariff === 'string' ? credentials.tariff : '';
    this.accountId = accountKey(text(credentials.clientId), text(credentials.gcid) || this.tokens?.gcid);
    return this.tokens;
  }

  current(): TokenSet | undefined {
    return this.tokens && { ...this.tokens };
  }

  refresh(): Promise<TokenSet> {
    this.inflight ??= this.renew().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async renew(): Promise<TokenSet> {
    const before = this.tokens?.idToken;
    try {
      await this.ctx.helpers.httpRequestWithAuthentication.call(
        this.ctx,
        CREDENTIAL_TYPE,
        {
          method: 'POST',
          url: tokenUrl(this.authBaseUrl),
          body: 'grant_type=refresh_token',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          timeout: 30_000,
        },
        { preAuthenticationRetryStatusCode: [400, 401] },
      );
    } catch (error) {
      const login = loginFailureIn(error);
      if (login?.retryable) {
        // The login service had a hiccup (5xx, no answer); the login itself is kept and the stream tries again.
        throw new LoginError({
          kind: 'network',
          retryable: true,
          oauthError: login.oauthError,
          message: login.message,
          hint: login.hint || 'The stream tries again.',
        });
      }
      if (login) {
        throw new LoginError({ kind: 'auth', oauthError: login.oauthError, message: login.message, hint: login.hint || 'Log in again in the credential.' });
      }
      // Otherwise this is the expected refusal of the bare request, after n8n refreshed the credential.
    }
    const fresh = await this.load();
    if (!fresh?.idToken || !fresh.gcid || fresh.idToken === before) {
      throw new CarDataError({
        kind: 'network',
        retryable: true,
        message: 'The BMW login could not be renewed for the stream',
        hint: 'Check the network and the Auth Base URL of the credential; the stream tries again.',
      });
    }
    return fresh;
  }
}
