import { createHash, randomBytes } from 'crypto';
import { CarDataError, LoginError, oauthError } from './errors';
import { DEFAULT_RETRY, retryDelay } from './retry';
import { type Clock, type Sleep, type Transport, realClock, TransportError } from './transport';
import type { TokenSet } from './types';

/** Sent explicitly: without it BMW issues tokens lacking cardata:api:read and every call fails with CU-103. */
export const DEFAULT_SCOPE = 'authenticate_user openid cardata:api:read cardata:streaming:read';
export const DEFAULT_AUTH_BASE_URL = 'https://customer.bmwgroup.com/gcdm';

export interface AuthEndpoint {
  transport: Transport;
  clientId: string;
  /** GCDM base, e.g. https://customer.bmwgroup.com/gcdm */
  authBaseUrl?: string;
  now?: Clock;
  /** Waits between retries of a refresh that met a login-service hiccup, and between polls of a device login. */
  sleep: Sleep;
  random?: () => number;
}

/** A started device login. `deviceCode` and `codeVerifier` are secrets: keep them in the runtime. */
export interface DeviceAuthorization {
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  /** Seconds between polls, as BMW asks (raised by 5 on every slow_down). */
  interval: number;
  /** Epoch ms after which the code is dead. */
  expiresAt: number;
  deviceCode: string;
  codeVerifier: string;
}

export type PollResult = { status: 'pending'; interval: number } | { status: 'success'; tokens: TokenSet };

function base64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** PKCE (RFC 7636, S256): a random verifier and its challenge. */
export function createPkcePair(): { verifier: string; challenge: string } {
  const verifier = base64url(randomBytes(48));
  return { verifier, challenge: base64url(createHash('sha256').update(verifier).digest()) };
}

function authUrl(authBaseUrl: string | undefined, path: string): string {
  return `${(authBaseUrl || DEFAULT_AUTH_BASE_URL).replace(/\/+$/, '')}${path}`;
}

/** GCDM's token endpoint (device login, refresh): where every host sends its token requests. */
export function tokenUrl(authBaseUrl?: string): string {
  return authUrl(authBaseUrl, '/oauth/token');
}

function asRecord(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Record<string, unknown>) : {};
}

async function postForm(endpoint: AuthEndpoint, url: string, form: Record<string, string>, context: string) {
  try {
    return await endpoint.transport.request({
      method: 'POST',
      url,
      form,
      headers: { Accept: 'application/json' },
      responseType: 'json',
    });
  } catch (e) {
    const code = e instanceof TransportError ? e.code : 'ENETWORK';
    throw new LoginError({ kind: 'network', message: `${context}: no answer from BMW's login service (${code})`, hint: 'Check the network and the auth base URL.', retryable: true, cause: e });
  }
}

/** OAuth errors that say the login service had a problem, not that the grant is bad (RFC 6749 5.2, 4.1.2.1). */
const SERVICE_ERRORS = new Set(['server_error', 'temporarily_unavailable']);

function unavailable(status: number, context: string, detail: string): LoginError {
  return new LoginError({
    kind: 'http',
    status,
    oauthError: detail.startsWith('HTTP') ? undefined : detail,
    message: `${context}: BMW's login service is unavailable (${detail})`,
    hint: 'This is a problem on BMW\'s side, not with your login, which is kept. Try again in a few minutes.',
    retryable: true,
  });
}

function failure(status: number, body: unknown, context: string): LoginError {
  const b = asRecord(body);
  const error = typeof b.error === 'string' ? b.error : undefined;
  if (status >= 500 || (error && SERVICE_ERRORS.has(error))) return unavailable(status, context, error ?? `HTTP ${status}`);
  if (error) return oauthError(error, typeof b.error_description === 'string' ? b.error_description : undefined, status, context);
  return new LoginError({
    kind: 'auth',
    status,
    message: `${context}: BMW's login service answered HTTP ${status}`,
    hint: 'Check the client ID.',
  });
}

/** Maps GCDM's token answer to a TokenSet. */
export function tokenSetFromResponse(body: unknown, now: number): TokenSet {
  const b = asRecord(body);
  if (typeof b.access_token !== 'string' || typeof b.refresh_token !== 'string') {
    // A proxy's page or a truncated answer: the login itself may be fine, so it is kept.
    throw new LoginError({
      kind: 'response',
      message: `BMW's login service answered without tokens (${typeof body === 'string' ? `text, ${Buffer.byteLength(body)} bytes` : 'JSON without access_token and refresh_token'})`,
      hint: 'Something between you and BMW, or BMW itself, sent this instead of tokens. Try again in a few minutes.',
      retryable: true,
    });
  }
  const expiresIn = typeof b.expires_in === 'number' ? b.expires_in : Number(b.expires_in ?? 3599);
  return {
    accessToken: b.access_token,
    refreshToken: b.refresh_token,
    idToken: typeof b.id_token === 'string' ? b.id_token : undefined,
    gcid: typeof b.gcid === 'string' ? b.gcid : undefined,
    scope: typeof b.scope === 'string' ? b.scope : undefined,
    expiresAt: now + (Number.isFinite(expiresIn) ? expiresIn : 3599) * 1000,
  };
}

/** Step 1 of the device login: asks BMW for a user code and returns what the user must see. */
export async function startDeviceAuthorization(endpoint: AuthEndpoint, scope = DEFAULT_SCOPE): Promise<DeviceAuthorization> {
  if (!endpoint.clientId || !endpoint.clientId.trim()) {
    throw new CarDataError({ kind: 'input', parameter: 'clientId', message: 'A client ID is required to log in', hint: 'Create one in the BMW CarData portal and paste it here.' });
  }
  const now = (endpoint.now ?? realClock)();
  const pkce = createPkcePair();
  const res = await postForm(
    endpoint,
    authUrl(endpoint.authBaseUrl, '/oauth/device/code'),
    { client_id: endpoint.clientId.trim(), response_type: 'device_code', scope, code_challenge: pkce.challenge, code_challenge_method: 'S256' },
    'Starting the BMW login',
  );
  if (res.status !== 200) throw failure(res.status, res.body, 'Starting the BMW login');
  const b = asRecord(res.body);
  if (typeof b.device_code !== 'string' || typeof b.user_code !== 'string') {
    throw new LoginError({ kind: 'auth', status: res.status, message: 'BMW login answered without a device code', hint: 'Try again later.' });
  }
  const verificationUri = String(b.verification_uri ?? '');
  return {
    userCode: b.user_code,
    verificationUri,
    verificationUriComplete: String(b.verification_uri_complete ?? `${verificationUri}?user_code=${encodeURIComponent(b.user_code)}`),
    interval: typeof b.interval === 'number' && b.interval >= 0 ? b.interval : 5,
    expiresAt: now + (typeof b.expires_in === 'number' ? b.expires_in : 300) * 1000,
    deviceCode: b.device_code,
    codeVerifier: pkce.verifier,
  };
}

/**
 * One poll of the token endpoint. Pending answers (403 authorization_pending, 400 slow_down) return `pending`
 * with the interval to wait; every other error is thrown. BMW's statuses are unusual, so the `error` string
 * decides, not the status.
 */
export async function pollDeviceAuthorization(endpoint: AuthEndpoint, auth: DeviceAuthorization): Promise<PollResult> {
  const now = endpoint.now ?? realClock;
  if (now() >= auth.expiresAt) throw oauthError('expired_token', 'The code is expired', 401, 'BMW login');
  const res = await postForm(
    endpoint,
    tokenUrl(endpoint.authBaseUrl),
    { client_id: endpoint.clientId.trim(), grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: auth.deviceCode, code_verifier: auth.codeVerifier },
    'BMW login',
  );
  if (res.status === 200) return { status: 'success', tokens: tokenSetFromResponse(res.body, now()) };
  const error = asRecord(res.body).error;
  if (error === 'authorization_pending') return { status: 'pending', interval: auth.interval };
  if (error === 'slow_down') {
    auth.interval += 5;
    return { status: 'pending', interval: auth.interval };
  }
  throw failure(res.status, res.body, 'BMW login');
}

export interface WaitOptions {
  /** Defaults to the endpoint's. */
  sleep?: Sleep;
  signal?: AbortSignal;
  /** Called before every wait, e.g. to show a countdown. */
  onPending?: (secondsLeft: number) => void;
}

/** Steps 2-3: polls at BMW's interval until the user approved, declined, or the code expired. */
export async function waitForDeviceAuthorization(endpoint: AuthEndpoint, auth: DeviceAuthorization, options: WaitOptions = {}): Promise<TokenSet> {
  const sleep = options.sleep ?? endpoint.sleep;
  const now = endpoint.now ?? realClock;
  for (;;) {
    if (options.signal?.aborted) throw new LoginError({ kind: 'auth', message: 'BMW login cancelled', hint: 'Start the authorization again.' });
    let result: PollResult;
    try {
      result = await pollDeviceAuthorization(endpoint, auth);
    } catch (e) {
      // A hiccup of the login service while the user approves: keep polling until the code expires.
      if (!(e instanceof CarDataError) || !e.retryable || now() >= auth.expiresAt) throw e;
      result = { status: 'pending', interval: auth.interval };
    }
    if (result.status === 'success') return result.tokens;
    options.onPending?.(Math.max(0, Math.round((auth.expiresAt - now()) / 1000)));
    await sleep(result.interval * 1000);
  }
}

/** OAuth errors of a refresh that mean the refresh token itself is dead: only a new login helps. */
export const DEAD_GRANT_ERRORS: ReadonlySet<string> = new Set(['invalid_grant', 'invalid_request', 'invalid_token']);

/** True for the error that means: authorize the account again (never for a hiccup of the login service). */
export function isDeadLogin(e: unknown): boolean {
  return e instanceof CarDataError && e.kind === 'auth' && !e.retryable;
}

async function refreshOnce(endpoint: AuthEndpoint, refreshToken: string): Promise<TokenSet> {
  const now = endpoint.now ?? realClock;
  const res = await postForm(endpoint, tokenUrl(endpoint.authBaseUrl), { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: endpoint.clientId.trim() }, 'Refreshing the BMW login');
  if (res.status === 200) return tokenSetFromResponse(res.body, now());
  const err = failure(res.status, res.body, 'Refreshing the BMW login');
  if (err.oauthError && DEAD_GRANT_ERRORS.has(err.oauthError)) {
    throw new LoginError({
      kind: 'auth',
      status: res.status,
      oauthError: err.oauthError,
      message: 'BMW no longer accepts the saved refresh token: authorize the account again',
      hint: 'Refresh tokens rotate on every use and last two weeks; one that was already used, or an old backup, is refused. Run the device login again.',
    });
  }
  throw err;
}

/**
 * The refresh grant. A hiccup of the login service (5xx, server_error, no answer, a page that is not tokens) is
 * retried a few times with backoff and then reported as "unavailable, try later"; a refresh token BMW no longer
 * accepts becomes an error that says to authorize again.
 */
export async function refreshTokens(endpoint: AuthEndpoint, refreshToken: string): Promise<TokenSet> {
  const sleep = endpoint.sleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await refreshOnce(endpoint, refreshToken);
    } catch (e) {
      const delay = e instanceof CarDataError && e.retryable ? retryDelay(attempt, DEFAULT_RETRY, undefined, endpoint.random) : undefined;
      if (delay === undefined) throw e;
      await sleep(delay);
    }
  }
}
