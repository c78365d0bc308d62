import { createHash, randomBytes } from 'crypto';
import { CarDataError, LoginError, oauthError } from '../errors';
import { DEFAULT_RETRY, MIN_ATTEMPT_MS, parseRetryAfter, retryDelay } from '../retry';
import { type Clock, type Sleep, type Transport, type TransportResponse, realClock, TransportError } from '../transport';
import type { TokenSet } from '../types';

/** Sent explicitly: without it BMW issues tokens lacking cardata:api:read and every call fails with CU-103. */
export const DEFAULT_SCOPE = 'authenticate_user openid cardata:api:read cardata:streaming:read';

/**
 * Whether a token answer's `scope` lacks the CarData API (a call with the token would fail with CU-103). A scope
 * BMW did not state is not taken as lacking.
 */
export function lacksApiScope(scope: unknown): boolean {
  return typeof scope === 'string' && scope.trim() !== '' && !scope.split(/\s+/).includes('cardata:api:read');
}
export const DEFAULT_AUTH_BASE_URL = 'https://customer.bmwgroup.com/gcdm';
/** Each request to the login service must have its whole answer within this time. */
export const DEFAULT_LOGIN_ATTEMPT_MS = 20_000;
/** A refresh with its retries ends within this time when the caller sets no deadline of its own. */
export const DEFAULT_LOGIN_DEADLINE_MS = 60_000;

export interface AuthEndpoint {
  transport: Transport;
  clientId: string;
  /** GCDM base, e.g. https://customer.bmwgroup.com/gcdm */
  authBaseUrl?: string;
  now?: Clock;
  /** Waits between retries of a refresh that met a login-service hiccup, and between polls of a device login. */
  sleep: Sleep;
  random?: () => number;
  /** The longest one request to the login service may take (default DEFAULT_LOGIN_ATTEMPT_MS). */
  timeoutMs?: number;
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

async function postForm(
  endpoint: AuthEndpoint,
  url: string,
  form: Record<string, string>,
  context: string,
  timeoutMs = endpoint.timeoutMs ?? DEFAULT_LOGIN_ATTEMPT_MS,
) {
  try {
    return await endpoint.transport.request({
      method: 'POST',
      url,
      form,
      headers: { Accept: 'application/json' },
      responseType: 'json',
      timeoutMs,
    });
  } catch (e) {
    const code = e instanceof TransportError ? e.code : 'ENETWORK';
    throw new LoginError({
      kind: 'network',
      message: `${context}: no answer from BMW's login service (${code})`,
      hint: 'Check the network and the auth base URL. The login is kept; try again in a few minutes.',
      retryable: true,
      cause: e,
    });
  }
}

/**
 * OAuth errors that end a login (RFC 6749 5.2, RFC 8628 3.5): the grant, the code or the client is refused, and
 * asking again will not change that. Every other answer of the login service is a hiccup.
 */
const FINAL_OAUTH_ERRORS: ReadonlySet<string> = new Set([
  'invalid_grant',
  'invalid_request',
  'invalid_token',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'expired_token',
]);

function unavailable(res: TransportResponse, context: string, error: string | undefined, now: number): LoginError {
  // Only a word that looks like an OAuth error code is repeated; a page's text never is.
  const code = error && /^[a-z_]{1,40}$/.test(error) ? error : undefined;
  return new LoginError({
    kind: 'http',
    status: res.status,
    oauthError: code,
    message: `${context}: BMW's login service is unavailable (${code ?? `HTTP ${res.status}`})`,
    hint: "This is a problem on BMW's side or on the way to it, not with your login, which is kept. Try again in a few minutes.",
    retryable: true,
    retryAfterMs: parseRetryAfter(res.headers?.['retry-after'], now),
  });
}

/**
 * Only an OAuth error body from the login service ends a login: a firewall's page, a rate limit, a maintenance
 * page, an empty answer or a 5xx says nothing about the grant, so the login is kept and tried again later. BMW's
 * statuses are unusual (403 for pending, 401 for an expired code), so the `error` string decides, except that a
 * status that itself means "later" (408, 429, 5xx) always is a hiccup.
 */
function failure(res: TransportResponse, context: string, now: number): LoginError {
  const b = asRecord(res.body);
  const error = typeof b.error === 'string' ? b.error : undefined;
  const later = res.status === 408 || res.status === 429 || res.status >= 500 || res.status < 400;
  if (error && FINAL_OAUTH_ERRORS.has(error) && !later) {
    return oauthError(error, typeof b.error_description === 'string' ? b.error_description : undefined, res.status, context);
  }
  return unavailable(res, context, error, now);
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
    throw new CarDataError({
      kind: 'input',
      parameter: 'clientId',
      message: 'A client ID is required to log in',
      hint: 'Create one in the BMW CarData portal and paste it here.',
    });
  }
  const now = (endpoint.now ?? realClock)();
  const pkce = createPkcePair();
  const res = await postForm(
    endpoint,
    authUrl(endpoint.authBaseUrl, '/oauth/device/code'),
    { client_id: endpoint.clientId.trim(), response_type: 'device_code', scope, code_challenge: pkce.challenge, code_challenge_method: 'S256' },
    'Starting the BMW login',
  );
  if (res.status !== 200) throw failure(res, 'Starting the BMW login', now);
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
    {
      client_id: endpoint.clientId.trim(),
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: auth.deviceCode,
      code_verifier: auth.codeVerifier,
    },
    'BMW login',
  );
  if (res.status === 200) return { status: 'success', tokens: tokenSetFromResponse(res.body, now()) };
  const error = asRecord(res.body).error;
  if (error === 'authorization_pending') return { status: 'pending', interval: auth.interval };
  if (error === 'slow_down') {
    auth.interval += 5;
    return { status: 'pending', interval: auth.interval };
  }
  throw failure(res, 'BMW login', now());
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

/**
 * True when BMW refused the refresh token itself (invalid_grant, or invalid_request as BMW answers for a refresh
 * token it no longer knows): another process sharing the stored tokens may have rotated it, so they are worth
 * reading again before asking to authorize again.
 */
export function isRefusedGrant(e: unknown): boolean {
  return e instanceof CarDataError && !e.retryable && e.oauthError !== undefined && DEAD_GRANT_ERRORS.has(e.oauthError);
}

/** True for the error that means: authorize the account again (never for a hiccup of the login service). */
export function isDeadLogin(e: unknown): boolean {
  return e instanceof CarDataError && e.kind === 'auth' && !e.retryable;
}

async function refreshOnce(endpoint: AuthEndpoint, refreshToken: string, timeoutMs: number): Promise<TokenSet> {
  const now = endpoint.now ?? realClock;
  const res = await postForm(
    endpoint,
    tokenUrl(endpoint.authBaseUrl),
    { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: endpoint.clientId.trim() },
    'Refreshing the BMW login',
    timeoutMs,
  );
  if (res.status === 200) return tokenSetFromResponse(res.body, now());
  const err = failure(res, 'Refreshing the BMW login', now());
  if (isRefusedGrant(err)) {
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

export interface RefreshOptions {
  /** Epoch ms by which the refresh, retries and waits included, is over (default: DEFAULT_LOGIN_DEADLINE_MS from now). */
  deadline?: number;
}

/**
 * The refresh grant. A hiccup of the login service (any answer but an OAuth error body, no answer, a page that is
 * not tokens) is retried a few times with backoff, honouring Retry-After, within the deadline, and then reported as
 * "unavailable, try later"; a refresh token BMW no longer accepts becomes an error that says to authorize again.
 */
export async function refreshTokens(endpoint: AuthEndpoint, refreshToken: string, options: RefreshOptions = {}): Promise<TokenSet> {
  const now = endpoint.now ?? realClock;
  const deadline = options.deadline ?? now() + DEFAULT_LOGIN_DEADLINE_MS;
  const attemptMs = endpoint.timeoutMs ?? DEFAULT_LOGIN_ATTEMPT_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await refreshOnce(endpoint, refreshToken, Math.min(attemptMs, Math.max(MIN_ATTEMPT_MS, deadline - now())));
    } catch (e) {
      const delay = e instanceof CarDataError && e.retryable ? retryDelay(attempt, DEFAULT_RETRY, e.retryAfterMs, endpoint.random) : undefined;
      if (delay === undefined || now() + delay + MIN_ATTEMPT_MS > deadline) throw e;
      await endpoint.sleep(delay);
    }
  }
}
