import type { CustomerErrorResponse } from './types';

/**
 * What went wrong, in one word a flow can branch on.
 * - `bmw`: BMW answered with an error (see `exveErrorId`).
 * - `quota`: the daily call budget is spent (BMW's CU-429, or refused locally before asking BMW).
 * - `input`: a parameter was refused before any request was made.
 * - `auth`: the login is missing, expired for good, or was refused; authorize again.
 * - `network`: no answer (timeout, connection reset, DNS).
 * - `http`: an HTTP error without BMW's error body (also: BMW's login service unavailable, a rate limit).
 * - `response`: a success status whose body is not what BMW promises (an HTML page, truncated JSON, a missing list).
 * - `storage`: a local file (quota count, tokens) cannot be read or written.
 */
export type CarDataErrorKind = 'bmw' | 'quota' | 'input' | 'auth' | 'network' | 'http' | 'response' | 'storage';

/** One code of BMW's error catalogue. */
export interface CuCodeEntry {
  /** BMW's exveErrorMsg. */
  message: string;
  /**
   * The HTTP status it comes with. BMW does not document it; these follow what clients observed (CU-429 and
   * CU-105 as 403, CU-122 as 208, a missing image as 404) and otherwise the obvious class of the error.
   */
  status: number;
  /** BMW's explanation (exveNote), as its catalogue words it. */
  note: string;
  /** What the user can do, in plain words. */
  hint: string;
}

/** BMW's 19 CarData error codes (Integration Guide 3.4): one table for the client and the simulator. */
export const CU_CODES = {
  'CU-100': {
    message: 'No token sent',
    status: 401,
    note: 'No token was included in the request.',
    hint: 'The request carried no access token. Authorize the account (device login) first.',
  },
  'CU-101': {
    message: 'Authentication error',
    status: 401,
    note: 'The token could not be validated.',
    hint: 'BMW did not accept the access token. Authorize the account again.',
  },
  'CU-102': {
    message: 'Token expired',
    status: 401,
    note: 'The access token has expired. Refresh it.',
    hint: 'The access token expired and could not be refreshed. Authorize the account again if this persists.',
  },
  'CU-103': {
    message: 'Token-scope is not CarData',
    status: 403,
    note: 'The token does not carry the CarData scope (cardata:api:read).',
    hint: 'The token lacks the cardata:api:read scope. In the BMW portal, subscribe the client ID to "CarData API" (and "CarData Stream"), wait a minute, then authorize again.',
  },
  'CU-104': {
    message: 'No permission for specified VIN',
    status: 403,
    note: 'The vehicle is not telematics-capable or the user is not its primary user.',
    hint: 'This VIN is not mapped to the account as PRIMARY user, or the vehicle is not telematics-capable. Check the mapped vehicles.',
  },
  'CU-105': {
    message: 'No permission for specified containerId',
    status: 403,
    note: 'The container does not belong to the user or does not exist.',
    hint: 'The container does not exist, was deleted, or belongs to another account. List the containers or let the node manage the container.',
  },
  'CU-120': {
    message: 'Format of parameter VIN is invalid',
    status: 400,
    note: 'A VIN has exactly 17 upper-case characters.',
    hint: 'A VIN is exactly 17 upper-case letters and digits.',
  },
  'CU-121': {
    message: 'Format of parameter containerId is invalid',
    status: 400,
    note: 'A containerId has exactly 13 characters.',
    hint: 'A container ID is exactly 13 characters.',
  },
  'CU-122': {
    message: 'Container already set for deletion',
    status: 208,
    note: 'Nothing to do.',
    hint: 'The container was already deleted; nothing more to do.',
  },
  'CU-124': {
    message: 'Maximum number of containers reached',
    status: 403,
    note: 'Delete a container first. Deleted containers count until they are removed after 29 days.',
    hint: 'An account may hold 10 containers, and deleted ones keep counting for 29 days. Delete containers you no longer use, or reuse an existing one.',
  },
  'CU-125': {
    message: 'Pagination-Token expired',
    status: 400,
    note: 'Start again from the first page.',
    hint: 'The page token expired while paging. Start the read again, ideally with a narrower date range or a limit.',
  },
  'CU-126': {
    message: 'No vehicle image found for given VIN',
    status: 404,
    note: 'No image is available.',
    hint: 'BMW has no image for this vehicle.',
  },
  'CU-127': {
    message: 'No LBCS data found',
    status: 404,
    note: 'No location based charging settings are stored.',
    hint: 'This vehicle has no location-based charging settings.',
  },
  'CU-400': {
    message: 'Bad request',
    status: 400,
    note: 'Please check the API specification.',
    hint: 'BMW refused the request as malformed. Check the parameters.',
  },
  'CU-401': {
    message: 'Parameter Invalid',
    status: 400,
    note: 'At least one parameter is invalid.',
    hint: 'A parameter was refused; dates must be ISO 8601 date-times (e.g. 2026-01-31T00:00:00Z).',
  },
  'CU-402': {
    message: 'Telematic key is invalid',
    status: 400,
    note: 'At least one requested telematic key was not found.',
    hint: 'At least one descriptor is unknown or deprecated. Pick descriptors from the current catalogue.',
  },
  'CU-429': {
    message: 'API rate limit reached',
    status: 403,
    note: 'The daily rate limit has been reached. Use CarData Streaming for frequent data.',
    hint: 'The daily quota of CarData calls for this account is spent. It resets at 00:00 UTC; use streaming for frequent data.',
  },
  'CU-500': {
    message: 'Internal server error',
    status: 500,
    note: 'Report this error if it occurs.',
    hint: 'BMW had an internal error. Try again later.',
  },
  'CU-503': {
    message: 'Service temporarily unavailable',
    status: 503,
    note: 'A partner system is out of order. Retry later.',
    hint: 'A BMW partner system is unavailable. Try again later.',
  },
} as const satisfies Record<string, CuCodeEntry>;

export type CuCode = keyof typeof CU_CODES;

/** The catalogue's entry of a code BMW sent, if it is one. */
export function cuCode(id: string | undefined): CuCodeEntry | undefined {
  return id !== undefined && Object.prototype.hasOwnProperty.call(CU_CODES, id) ? CU_CODES[id as CuCode] : undefined;
}

export interface CarDataErrorInit {
  kind: CarDataErrorKind;
  message: string;
  hint?: string;
  status?: number;
  exveErrorId?: string;
  bmwMessage?: string;
  exveErrorRef?: string;
  retryable?: boolean;
  operation?: string;
  /** For `input` errors: which parameter was refused. */
  parameter?: string;
  /** For OAuth errors: the `error` string GCDM answered. */
  oauthError?: string;
  /** How long the server asked to wait before trying again (its Retry-After), in ms. */
  retryAfterMs?: number;
  cause?: unknown;
}

const REDACTED = '[redacted]';
// A JWT: its header is base64url of '{"', so it starts with eyJ; three segments.
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
// An HTTP credential: "Bearer <token>", "Basic <token>".
const SCHEME = /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/-]{8,}=*/gi;
// A secret named as a JSON field, a form or query field, or a header: "access_token":"…", refresh_token=…, Authorization: ….
const FIELD =
  /\b((?:access|refresh|id)_?token|device_?code|client_?(?:id|secret)|authorization)("?\s*[:=]\s*"?)(?!Bearer\b|Basic\b|\[redacted\])[^\s"&,;}]{8,}/gi;
// An opaque token: 40 or more base64 or base64url characters of at least two kinds (upper case, lower case, digits).
const OPAQUE = /[A-Za-z0-9_~+-]{40,}=*/g;
const kinds = (t: string): number => Number(/[a-z]/.test(t)) + Number(/[A-Z]/.test(t)) + Number(/\d/.test(t));
// A UUID: the shape of a client ID.
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/**
 * `text` with everything that looks like a token or a client ID replaced by "[redacted]". What BMW (or something
 * posing as BMW) sends back may echo the request's credentials; no message, hint or code repeats them. With
 * `uuids: false` a UUID is kept: BMW's error reference (exveErrorRef) is one, and support asks for it.
 */
export function redactSecrets(text: string, { uuids = true }: { uuids?: boolean } = {}): string {
  return (uuids ? text.replace(UUID, REDACTED) : text)
    .replace(JWT, REDACTED)
    .replace(SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`)
    .replace(FIELD, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`)
    .replace(OPAQUE, (t) => (kinds(t) >= 2 ? REDACTED : t));
}

const redacted = (text: string | undefined): string | undefined => (text === undefined ? undefined : redactSecrets(text));

/**
 * The one error type the package throws. Its message never contains a token or a client ID: whatever it is
 * built from, text that looks like one is redacted (see {@link redactSecrets}).
 */
export class CarDataError extends Error {
  readonly kind: CarDataErrorKind;
  readonly hint: string;
  readonly status?: number;
  readonly exveErrorId?: string;
  readonly bmwMessage?: string;
  readonly exveErrorRef?: string;
  readonly retryable: boolean;
  readonly operation?: string;
  readonly parameter?: string;
  readonly oauthError?: string;
  readonly retryAfterMs?: number;

  constructor(init: CarDataErrorInit) {
    super(redactSecrets(init.message));
    this.name = 'CarDataError';
    this.kind = init.kind;
    this.hint = redactSecrets(init.hint ?? '');
    this.status = init.status;
    this.exveErrorId = redacted(init.exveErrorId);
    this.bmwMessage = redacted(init.bmwMessage);
    this.exveErrorRef = init.exveErrorRef === undefined ? undefined : redactSecrets(init.exveErrorRef, { uuids: false });
    this.retryable = init.retryable ?? false;
    this.operation = init.operation;
    this.parameter = init.parameter;
    this.oauthError = redacted(init.oauthError);
    this.retryAfterMs = init.retryAfterMs;
    if (init.cause !== undefined) Object.defineProperty(this, 'cause', { value: init.cause, enumerable: false });
  }

  /** A short code for status lines: the CU code, the OAuth error, or the kind. */
  get code(): string {
    return this.exveErrorId ?? this.oauthError ?? this.kind;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      code: this.code,
      message: this.message,
      hint: this.hint,
      status: this.status,
      exveErrorId: this.exveErrorId,
      bmwMessage: this.bmwMessage,
      exveErrorRef: this.exveErrorRef,
      retryable: this.retryable,
      operation: this.operation,
      parameter: this.parameter,
    };
  }
}

const LOGIN_ERROR = Symbol.for('bmw-cardata.LoginError');

/**
 * A login or a refresh that failed: BMW's login service refused it (authorize again), or could not be reached or
 * had a hiccup (`retryable`: the login itself is kept). The device flow and the token refresh throw it, and so
 * does n8n's credential, so a host tells a failed login from other errors with `instanceof LoginError`.
 */
export class LoginError extends CarDataError {
  constructor(init: CarDataErrorInit) {
    super(init);
    this.name = 'LoginError';
    Object.defineProperty(this, LOGIN_ERROR, { value: true });
  }

  /**
   * n8n loads the credential and the stream trigger from two packages, each with its own copy of this class: so
   * that a login error of either copy is one to both, `instanceof` looks for the mark every copy sets.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [LOGIN_ERROR]?: unknown })[LOGIN_ERROR] === true;
  }
}

export function isCarDataError(e: unknown): e is CarDataError {
  return e instanceof CarDataError;
}

/** Input as a message repeats it: the first `max` characters, then "…", so a huge value is never echoed whole. */
export function shown(value: unknown, max = 60): string {
  const text = String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function inputError(parameter: string, message: string, hint = ''): CarDataError {
  return new CarDataError({ kind: 'input', parameter, message, hint });
}

function asErrorBody(body: unknown): CustomerErrorResponse | undefined {
  let value = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value && typeof value === 'object' && 'exveErrorId' in value) return value as CustomerErrorResponse;
  return undefined;
}

/**
 * True when an answer means the daily quota is spent: BMW sends 403 + CU-429. A plain 429 counts too unless it
 * carries a Retry-After of at most an hour: that is a rate limit to wait out, not the day's budget.
 */
export function isQuotaAnswer(status: number, body: unknown, retryAfterMs?: number): boolean {
  if (asErrorBody(body)?.exveErrorId === 'CU-429') return true;
  return status === 429 && !(retryAfterMs !== undefined && retryAfterMs <= 3_600_000);
}

/** BMW's codes for a request it refused for its token: none sent, not accepted, expired. */
const UNAUTHORIZED_CODES: ReadonlySet<string> = new Set(['CU-100', 'CU-101', 'CU-102']);

/** True when BMW refused a request for its token (401, CU-100, CU-101, CU-102): it did not serve the account. */
export function isUnauthorizedAnswer(status: number, body: unknown): boolean {
  const id = asErrorBody(body)?.exveErrorId;
  return id ? UNAUTHORIZED_CODES.has(id) : status === 401;
}

/** Turns a non-success HTTP answer from the CarData API into a CarDataError with BMW's code and a hint. */
export function errorFromResponse(status: number, body: unknown, operation?: string, retryAfterMs?: number): CarDataError {
  const parsed = asErrorBody(body);
  const id = parsed?.exveErrorId;
  const known = cuCode(id);
  const quota = isQuotaAnswer(status, body, retryAfterMs);
  const bmwMessage = parsed?.exveErrorMsg ?? known?.message;
  const where = operation ? `${operation}: ` : '';
  if (quota) {
    return new CarDataError({
      kind: 'quota',
      status,
      exveErrorId: id ?? 'CU-429',
      bmwMessage: bmwMessage ?? CU_CODES['CU-429'].message,
      exveErrorRef: parsed?.exveErrorRef,
      message: `${where}BMW CarData daily quota reached (${id ?? 'HTTP 429'}: ${bmwMessage ?? 'API rate limit reached'})`,
      hint: CU_CODES['CU-429'].hint,
      operation,
    });
  }
  if (status === 429) {
    const seconds = Math.ceil((retryAfterMs ?? 0) / 1000);
    return new CarDataError({
      kind: 'http',
      status,
      message: `${where}BMW CarData asks to slow down (HTTP 429, retry after ${seconds} s)`,
      hint: `A short rate limit, not the daily quota: try again in ${seconds} s.`,
      retryable: true,
      operation,
    });
  }
  const retryable = status === 500 || status === 503 || status === 502 || status === 504;
  return new CarDataError({
    kind: isUnauthorizedAnswer(status, body) ? 'auth' : id ? 'bmw' : 'http',
    status,
    exveErrorId: id,
    bmwMessage,
    exveErrorRef: parsed?.exveErrorRef,
    message: id ? `${where}BMW CarData error ${id}: ${bmwMessage ?? 'no message'} (HTTP ${status})` : `${where}BMW CarData answered HTTP ${status}`,
    hint: known?.hint ?? (retryable ? 'BMW had a temporary problem. Try again later.' : ''),
    retryable,
    operation,
  });
}

/** Plain words for GCDM's OAuth errors during login and refresh (FACTS.md 1.3). */
export const OAUTH_HINTS: Readonly<Record<string, string>> = {
  authorization_pending: 'Waiting for you to approve the login in the browser.',
  slow_down: 'Polling too fast; waiting longer between checks.',
  access_denied: 'The login was declined in the browser. Start the authorization again and approve it.',
  expired_token: 'The login code expired before it was approved. Start the authorization again.',
  invalid_grant:
    'BMW refused the grant. After a login this is usually a temporary BMW sync problem: wait a few minutes and authorize again. For a refresh it means the refresh token is no longer valid: authorize again.',
  invalid_client: 'BMW does not know this client ID (or the account is pending activation). Check the client ID from the BMW CarData portal.',
  invalid_request: 'BMW refused the login request as malformed. Check the client ID.',
  invalid_token: 'BMW refused the login code as malformed. Start the authorization again.',
};

export function oauthError(error: string, description: string | undefined, status: number, context: string): LoginError {
  return new LoginError({
    kind: 'auth',
    status,
    oauthError: error,
    message: `${context}: ${error}${description ? ` (${description})` : ''}`,
    hint: OAUTH_HINTS[error] ?? 'Authorize the account again.',
  });
}
