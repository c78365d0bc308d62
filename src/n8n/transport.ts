import {
  sleep,
  type ICredentialsDecrypted,
  type IDataObject,
  type IExecuteFunctions,
  type IHttpRequestHelper,
  type IHttpRequestOptions,
  type ILoadOptionsFunctions,
  type IPollFunctions,
} from 'n8n-workflow';
import { isRefusedGrant } from '../core/login/device-flow';
import { LoginError } from '../core/errors';
import { TransportError, type Transport, type TransportRequest, type TransportResponse } from '../core/transport';

export const CREDENTIAL_TYPE = 'bmwCarDataApi';

/**
 * How long a request whose refresh BMW refused waits for another execution's new tokens to appear in the stored
 * credential, and how often it reads the credential meanwhile. That execution writes them once its own refresh
 * is answered; under load (several workers, one database) this took up to 3 s in n8n 2.41 on SQLite.
 */
const ROTATION_WAIT_MS = 10_000;
const ROTATION_POLL_MS = 250;

/** The n8n contexts that can make authenticated requests. */
export type RequestContext = IExecuteFunctions | ILoadOptionsFunctions | IPollFunctions;

/** What n8n's request helpers answer with `returnFullResponse`. */
interface FullResponse {
  body: unknown;
  headers: Record<string, unknown>;
  statusCode: number;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_CANCELED']);

function plainHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers || typeof headers !== 'object') return out;
  const source = typeof (headers as { toJSON?: () => unknown }).toJSON === 'function' ? (headers as { toJSON: () => unknown }).toJSON() : headers;
  for (const [key, value] of Object.entries(source as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function body(value: unknown, binary: boolean): unknown {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value) && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (!binary && Buffer.isBuffer(value)) {
    const text = value.toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return value;
}

function toResponse(res: FullResponse, binary: boolean): TransportResponse {
  return { status: res.statusCode, headers: plainHeaders(res.headers), body: body(res.body, binary) };
}

/** Walks an error and its causes (n8n wraps errors in NodeApiError, the request error sits in `cause`). */
function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 6; depth += 1) {
    out.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

/** An HTTP answer hidden in an error (axios keeps it in `response`). */
function responseIn(error: unknown, binary: boolean): TransportResponse | undefined {
  for (const e of causes(error)) {
    const r = (e as { response?: { status?: unknown; data?: unknown; headers?: unknown } }).response;
    if (r && typeof r.status === 'number') return { status: r.status, headers: plainHeaders(r.headers), body: body(r.data, binary) };
  }
  return undefined;
}

/** The credential's login error (see BmwCarDataApi.credentials.ts), if the request failed because its login or refresh did. */
export function loginFailureIn(error: unknown): LoginError | undefined {
  for (const e of causes(error)) {
    if (e instanceof LoginError) return e;
  }
  return undefined;
}

/**
 * When a request must end: at its deadline (`timeoutMs`: the whole answer, not just a silent socket, which is all
 * n8n's own `timeout` notices) or when the caller aborts it, whichever comes first.
 */
interface Deadline {
  signal?: AbortSignal;
  /** Why the request was cut short, as core expects it: ETIMEDOUT at the deadline, ECANCELED when aborted. */
  reason(): string | undefined;
}

function deadlineOf(req: TransportRequest): Deadline {
  const timer = req.timeoutMs ? AbortSignal.timeout(req.timeoutMs) : undefined;
  const signals = [timer, req.signal].filter((s): s is AbortSignal => s !== undefined);
  return {
    signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
    reason: () => (timer?.aborted ? 'ETIMEDOUT' : req.signal?.aborted ? 'ECANCELED' : undefined),
  };
}

/** The TransportError for a request that got no answer. */
function noAnswer(req: TransportRequest, deadline: Deadline, error: unknown): TransportError | undefined {
  let code = deadline.reason() ?? networkCodeIn(error);
  if (!code) return undefined;
  // n8n's axios reports its own timeout (the same length as the deadline) as ECONNABORTED, and an aborted signal
  // (here only the execution's cancel signal is left) as ERR_CANCELED.
  if (code === 'ECONNABORTED' && req.timeoutMs) code = 'ETIMEDOUT';
  if (code === 'ERR_CANCELED') code = 'ECANCELED';
  return new TransportError(`No answer from ${new URL(req.url).host} (${code})`, code);
}

function networkCodeIn(error: unknown): string | undefined {
  for (const e of causes(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

/**
 * Errors of the transport go to core, not to n8n: core's port expects TransportError for "no answer" and core
 * turns every failure into its CarDataError, which the node then reports as NodeApiError.
 */
function raise(error: unknown): never {
  throw error;
}

function requestOptions(req: TransportRequest, signal: AbortSignal | undefined): IHttpRequestOptions {
  const binary = req.responseType === 'binary';
  const options: IHttpRequestOptions = {
    method: req.method,
    url: req.url,
    headers: { ...(req.headers ?? {}) },
    returnFullResponse: true,
    json: !binary,
  };
  if (req.query && Object.keys(req.query).length) options.qs = { ...req.query };
  if (binary) options.encoding = 'arraybuffer';
  if (req.timeoutMs) options.timeout = req.timeoutMs;
  if (signal) options.abortSignal = signal;
  if (req.json !== undefined) {
    options.body = req.json as IDataObject;
    options.headers = { ...options.headers, 'Content-Type': 'application/json' };
  } else if (req.form) {
    options.body = new URLSearchParams(req.form).toString();
    options.headers = { ...options.headers, 'Content-Type': 'application/x-www-form-urlencoded' };
  }
  return options;
}

/**
 * `httpRequestWithAuthentication` replaces a request's abort signal with the execution's cancel signal when the
 * context has one (an action node's does). The request is therefore sent from a view of the context whose
 * cancel signal fires on either: the execution's cancellation or the request's deadline.
 */
function withDeadline(ctx: RequestContext, signal: AbortSignal | undefined): RequestContext {
  if (!signal) return ctx;
  const cancel = 'getExecutionCancelSignal' in ctx ? ctx.getExecutionCancelSignal() : undefined;
  const either = cancel ? AbortSignal.any([cancel, signal]) : signal;
  return Object.create(ctx, { getExecutionCancelSignal: { value: () => either } }) as RequestContext;
}

/**
 * Core's transport port on top of n8n's `httpRequestWithAuthentication`. Every status comes back as an answer
 * except 401, which n8n itself turns into a refresh (the credential's preAuthentication) and one resend.
 *
 * BMW rotates the refresh token on every use and refuses the old one (invalid_grant). When executions run at
 * once (several workers in queue mode, or one busy n8n), they can all find the access token expired and refresh
 * with the same stored refresh token: one wins and n8n stores its tokens, the others are refused (invalid_grant,
 * or invalid_request as BMW answers some refresh tokens it no longer knows). n8n holds no
 * lock around this, so the transport reads the credential itself, knows which refresh token a request used, and
 * after a refusal reads the credential again until it holds a different one (the winner's), then sends the
 * request once more with it. Only when no new token appears within ROTATION_WAIT_MS is the refusal final.
 */
export class N8nTransport implements Transport {
  constructor(private readonly ctx: RequestContext) {}

  /** The stored credential, read from n8n's database (each call reads it again). */
  private async credentials(): Promise<ICredentialsDecrypted> {
    const data = await this.ctx.getCredentials(CREDENTIAL_TYPE);
    const stored = this.ctx.getNode().credentials?.[CREDENTIAL_TYPE];
    return { id: stored?.id ?? '', name: stored?.name ?? '', type: CREDENTIAL_TYPE, data: { ...data } };
  }

  private async send(ctx: RequestContext, options: IHttpRequestOptions, credentialsDecrypted: ICredentialsDecrypted): Promise<FullResponse> {
    const request = { ...options, headers: { ...options.headers } };
    return (await ctx.helpers.httpRequestWithAuthentication.call(ctx, CREDENTIAL_TYPE, request, { credentialsDecrypted })) as FullResponse;
  }

  /** The credential once its refresh token is no longer `used`; undefined when that does not happen by `until`. */
  private async rotated(used: string, until: number, signal?: AbortSignal): Promise<ICredentialsDecrypted | undefined> {
    for (;;) {
      const stored = await this.credentials();
      const token = stored.data?.refreshToken;
      if (typeof token === 'string' && token && token !== used) return stored;
      if (Date.now() + ROTATION_POLL_MS > until || signal?.aborted) return undefined;
      await sleep(ROTATION_POLL_MS);
    }
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const binary = req.responseType === 'binary';
    const deadline = deadlineOf(req);
    const options: IHttpRequestOptions = { ...requestOptions(req, deadline.signal), ignoreHttpStatusErrors: { ignore: true, except: [401] } };
    const ctx = withDeadline(this.ctx, deadline.signal);
    let credentials = await this.credentials();
    let waitUntil: number | undefined;
    for (;;) {
      const used = typeof credentials.data?.refreshToken === 'string' ? credentials.data.refreshToken : '';
      try {
        return toResponse(await this.send(ctx, options, credentials), binary);
      } catch (error) {
        const answered = responseIn(error, binary);
        if (answered) return answered;
        const login = loginFailureIn(error);
        if (login && isRefusedGrant(login) && used) {
          waitUntil ??= Date.now() + ROTATION_WAIT_MS;
          const newer = await this.rotated(used, waitUntil, deadline.signal);
          if (newer) {
            credentials = newer;
            continue;
          }
          // The deadline ran out while waiting: that is what the caller learns, not a dead login.
          if (deadline.reason()) return raise(noAnswer(req, deadline, error) ?? login);
        }
        if (login) throw login;
        return raise(noAnswer(req, deadline, error) ?? error);
      }
    }
  }
}

/** Core's transport port on top of the plain `httpRequest` a credential's preAuthentication gets. */
export class HttpRequestTransport implements Transport {
  constructor(private readonly helper: IHttpRequestHelper) {}

  async request(req: TransportRequest): Promise<TransportResponse> {
    const binary = req.responseType === 'binary';
    const deadline = deadlineOf(req);
    try {
      const res = (await this.helper.helpers.httpRequest({ ...requestOptions(req, deadline.signal), ignoreHttpStatusErrors: true })) as FullResponse;
      return toResponse(res, binary);
    } catch (error) {
      return raise(noAnswer(req, deadline, error) ?? new TransportError(`No answer from ${new URL(req.url).host} (ENETWORK)`, 'ENETWORK'));
    }
  }
}
