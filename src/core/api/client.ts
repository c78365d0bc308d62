import { checkAnswer } from './answers';
import { CarDataError, errorFromResponse, inputError, isQuotaAnswer, isUnauthorizedAnswer } from '../errors';
import { OPERATION_IDS, OPERATIONS, operationHeaders, type OperationId, type OperationSpec } from './operations';
import { paginate, type PageOptions, type Paged } from './pagination';
import { type QuotaLedger, type QuotaState } from './quota';
import { DEFAULT_RETRY, isRetryableNetworkCode, isRetryableStatus, MIN_ATTEMPT_MS, parseRetryAfter, retryDelay, type RetryOptions, wasNotSent } from '../retry';
import type { TokenProvider } from '../login/tokens';
import { type Clock, type Sleep, type Transport, type TransportResponse, realClock, TransportError } from '../transport';
import type {
  ChargingHistoryPage,
  ChargingSession,
  ChargingSettingsPage,
  Container,
  ContainerDetails,
  ContainerList,
  CreateContainerRequest,
  LocationBasedChargingSetting,
  TelematicDataResponse,
  TyreDiagnosis,
  VehicleBasicData,
  VehicleImage,
  VehicleMapping,
} from '../types';
import { checkContainerId, checkDescriptors, checkRange, checkVin, type DateInput } from '../validation';
import { imageFileName } from '../rows/image-file';
import { type AnswerCache, type CachedAnswer, type CacheReport } from './answer-cache';
import { ContainerMemory, ensureContainer, type EnsureContainerOptions, type EnsuredContainer, type RememberedContainers } from './containers';

export const DEFAULT_API_BASE_URL = 'https://api-cardata.bmwgroup.com';
/** Each attempt must have its whole answer within this time. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 20_000;
/** A call ends within this time, the login, retries and Retry-After waits included. */
export const DEFAULT_CALL_DEADLINE_MS = 60_000;

export interface CarDataClientOptions {
  /** The network: axios in Node.js (src/node), n8n's request helpers in n8n (src/n8n). */
  transport: Transport;
  apiBaseUrl?: string;
  /** Supplies access tokens; omit when the transport authenticates by itself (n8n). */
  tokens?: TokenProvider;
  /** The daily budget; omit to not count locally. */
  quota?: QuotaLedger;
  /** The key of the quota ledger: one per BMW account (the GCID when known). */
  accountId?: string | (() => string);
  /**
   * Whether the calls are for a run someone started by hand, which may spend the quota's reserve (see TakeOptions);
   * default false, the safe side. `forRun` gives the same client for another run.
   */
  attended?: boolean;
  retry?: Partial<RetryOptions>;
  /** Waits between retries: the host's timer. */
  sleep: Sleep;
  now?: Clock;
  random?: () => number;
  /** The total time one attempt may take, headers and body (default 20 s). */
  timeoutMs?: number;
  /** The total time one call may take, a refresh of the login, retries and waits included (default 60 s). */
  deadlineMs?: number;
  /** Containers remembered from before (see ContainerMemory), and who hears of every change to keep them. */
  containers?: RememberedContainers;
  onContainers?: (containers: RememberedContainers) => void;
  /** The account's cache of answers that stay the same for a while; omit to always ask BMW. */
  answers?: AnswerCache;
}

/** How a read may be answered from the cache, and who hears where its answers came from. */
export interface ReadOptions {
  /** Serve a kept answer at most this old (ms); 0 always asks BMW. Default: the operation's lifetime (cacheMs). */
  maxAgeMs?: number;
  /** Counts the answers of a run: from BMW or from the cache, and the oldest cached one. */
  report?: CacheReport;
}

/** Parameter values of one call, checked against the operation's parameter kinds before anything is sent. */
export type CallParams = Record<string, unknown>;

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Set when the answer came from the cache (no call was spent): when BMW gave it. */
  fromCache?: { at: number };
}

/** What each paged operation takes, answers per page, and lists. */
export interface PagedOperations {
  getChargingHistory: { params: { vin: string; from: DateInput; to: DateInput }; page: ChargingHistoryPage; item: ChargingSession };
  getLocationBasedChargingSettings: { params: { vin: string }; page: ChargingSettingsPage; item: LocationBasedChargingSetting };
}

export type PagedOperationId = keyof PagedOperations;

/**
 * The CarData Customer API, one typed method per operation. Inputs are checked before any request, the quota is
 * counted for every request that left, GETs ride out 5xx answers and dropped connections within a deadline, a 401
 * refreshes once, and an answer that is not what BMW promises is an error, never data.
 */
export class CarDataClient {
  readonly apiBaseUrl: string;
  readonly quota?: QuotaLedger;
  private readonly transport: Transport;
  private readonly tokens?: TokenProvider;
  private readonly retry: RetryOptions;
  private readonly sleep: Sleep;
  private readonly now: Clock;
  private readonly random: () => number;
  private readonly accountIdOption?: string | (() => string);
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;
  /** descriptor-set hash -> container ID, so repeated reads spend no call on finding the container. */
  readonly containerCache: ContainerMemory;
  private lastQuota?: QuotaState;
  private attended: boolean;
  /** The account's answers kept for their lifetime (see OperationSpec.cacheMs). */
  readonly answers?: AnswerCache;

  constructor(options: CarDataClientOptions) {
    this.attended = options.attended ?? false;
    this.transport = options.transport;
    this.apiBaseUrl = (options.apiBaseUrl ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '');
    this.tokens = options.tokens;
    this.quota = options.quota;
    this.accountIdOption = options.accountId;
    this.retry = { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
    this.sleep = options.sleep;
    this.now = options.now ?? realClock;
    this.random = options.random ?? Math.random;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_CALL_DEADLINE_MS;
    this.containerCache = new ContainerMemory(options.containers, options.onContainers);
    this.answers = options.answers;
  }

  get accountId(): string {
    const id = typeof this.accountIdOption === 'function' ? this.accountIdOption() : this.accountIdOption;
    return id || 'default';
  }

  /**
   * This client (its login, quota, containers and everything else it keeps) for the calls of one run, started by
   * hand (`attended`) or not: a host that shares one client between runs says for each which it is.
   */
  forRun(run: { attended: boolean }): CarDataClient {
    const view = Object.create(this) as CarDataClient;
    view.attended = run.attended;
    return view;
  }

  /** Used, limit, remaining and reset time of the daily budget (no call is spent). */
  async quotaState(): Promise<QuotaState | undefined> {
    if (!this.quota) return this.lastQuota;
    return this.quota.state(this.accountId);
  }

  private buildUrl(spec: OperationSpec, params: CallParams): { url: string; query: Record<string, string>; json?: unknown } {
    let path = spec.path;
    const query: Record<string, string> = {};
    let json: unknown;
    let range: { from: string; to: string } | undefined;
    for (const p of spec.parameters) {
      const raw = params[p.name];
      if (raw === undefined || raw === null || raw === '') {
        if (p.required && p.kind !== 'dateTime') throw inputError(p.name, `"${p.name}" is required for ${spec.id}`, p.description);
        if (p.kind !== 'dateTime') continue;
      }
      let value: string | undefined;
      switch (p.kind) {
        case 'vin':
          value = checkVin(raw);
          break;
        case 'containerId':
          value = checkContainerId(raw);
          break;
        case 'dateTime':
          // The only date parameters are from and to: checked together (from before to), once.
          range ??= checkRange(params.from as DateInput, params.to as DateInput, this.now);
          value = range[p.name as 'from' | 'to'];
          break;
        case 'pageToken':
          if (typeof raw !== 'string') throw inputError(p.name, `"${p.name}" must be the page token text of the previous answer`, p.description);
          value = raw;
          break;
        case 'containerBody':
          json = checkContainerRequest(raw, params.allowUnknown === true);
          break;
      }
      if (value === undefined) continue;
      if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value));
      else if (p.in === 'query') query[p.name] = value;
    }
    return { url: `${this.apiBaseUrl}${path}`, query, json };
  }

  /**
   * Calls one operation by its BMW operationId: checks the parameters, authenticates, spends one unit of quota per
   * request BMW may have counted (one that left and was not refused for its token), retries what is safe to retry within the call's deadline, checks the answer's shape, and
   * turns errors into CarDataError.
   */
  async call(operationId: OperationId, params: CallParams = {}, read: ReadOptions = {}): Promise<CallResult> {
    const spec = Object.hasOwn(OPERATIONS, operationId) ? OPERATIONS[operationId] : undefined;
    if (!spec) throw inputError('operation', `Unknown operation ${String(operationId).slice(0, 40)}`, `One of: ${OPERATION_IDS.join(', ')}`);
    const { url, query, json } = this.buildUrl(spec, params);
    const maxAgeMs = checkMaxAge(read.maxAgeMs) ?? spec.cacheMs ?? 0;
    // Only what the operations table names cacheable, and only if this read or the operation's default wants it.
    const cache = this.answers && spec.cacheMs !== undefined && (maxAgeMs > 0 || spec.cacheMs > 0) ? this.answers : undefined;
    const cacheKey = cache && answerKey(spec, url.slice(this.apiBaseUrl.length), query);
    const kept = cache && cacheKey && maxAgeMs > 0 ? cache.get(cacheKey, maxAgeMs) : undefined;
    if (kept) {
      const answer = fromKept(kept);
      read.report?.note(answer);
      return answer;
    }
    const answer = await this.send(spec, url, query, json);
    if (cache && cacheKey) cache.put(cacheKey, toKept(answer, this.now()));
    read.report?.note(answer);
    return answer;
  }

  /**
   * The answer kept in the cache for this call, whatever its age, or undefined: never calls BMW and costs nothing.
   * For what does not go stale in a day's sense (a car's model name from basic data read earlier).
   */
  keptAnswer(operationId: OperationId, params: CallParams = {}): CallResult | undefined {
    const spec = Object.hasOwn(OPERATIONS, operationId) ? OPERATIONS[operationId] : undefined;
    if (!spec || !this.answers || spec.cacheMs === undefined) return undefined;
    const { url, query } = this.buildUrl(spec, params);
    const kept = this.answers.get(answerKey(spec, url.slice(this.apiBaseUrl.length), query), Infinity);
    return kept && fromKept(kept);
  }

  private async send(spec: OperationSpec, url: string, query: Record<string, string>, json: unknown): Promise<CallResult> {
    const idempotent = spec.method === 'GET';
    const deadline = this.now() + this.deadlineMs;
    let attempt = 0;
    let timeouts = 0;
    let refreshed = false;
    /** Waits before the next attempt, or gives up with `error` when the wait would not fit in the deadline. */
    const backOff = async (delay: number | undefined, error: () => CarDataError): Promise<void> => {
      if (delay === undefined || this.now() + delay + MIN_ATTEMPT_MS > deadline) throw error();
      await this.sleep(delay);
    };
    for (;;) {
      attempt += 1;
      const headers = operationHeaders(spec);
      // The login comes first, within the call's deadline: a refresh that fails has cost nothing.
      const token = this.tokens ? await this.tokens.getAccessToken({ deadline }) : undefined;
      if (token) headers.Authorization = `Bearer ${token}`;
      if (this.quota) this.lastQuota = await this.quota.take(this.accountId, spec.id, { attended: this.attended });
      let res: TransportResponse;
      try {
        res = await this.transport.request({
          method: spec.method,
          url,
          query,
          headers,
          json,
          responseType: spec.response === 'binary' ? 'binary' : 'json',
          timeoutMs: Math.min(this.timeoutMs, Math.max(MIN_ATTEMPT_MS, deadline - this.now())),
        });
      } catch (e) {
        const code = e instanceof TransportError ? e.code : e instanceof CarDataError ? undefined : 'ENETWORK';
        // Nothing reached BMW: a refused connection, a failed DNS lookup, or a login the transport ran itself (n8n).
        if (this.quota && (code === undefined || wasNotSent(code))) this.lastQuota = await this.quota.giveBack(this.accountId);
        if (e instanceof CarDataError) throw e;
        const failure = () =>
          new CarDataError({
            kind: 'network',
            message: `${spec.id}: no answer from BMW CarData (${code})${attempt > 1 ? ` after ${attempt} attempts` : ''}`,
            hint:
              code === 'ETIMEDOUT'
                ? `BMW did not answer within ${Math.round(this.timeoutMs / 1000)} s. Try again later.`
                : 'Check the network connection and the API base URL; try again later.',
            retryable: true,
            operation: spec.id,
            cause: e,
          });
        // A server that let one attempt run out of time gets one more, not more: each costs a unit of quota.
        if (code === 'ETIMEDOUT') timeouts += 1;
        const retryable = (idempotent || wasNotSent(code as string)) && isRetryableNetworkCode(code as string) && timeouts <= 1;
        await backOff(retryable ? retryDelay(attempt, this.retry, undefined, this.random) : undefined, failure);
        continue;
      }
      if (spec.success.includes(res.status)) {
        return { status: res.status, headers: res.headers, body: checkAnswer(spec, res) };
      }
      // BMW counts per account (GCID), which it knows only once it accepted the token: a refused token is not
      // counted. Were it ever counted, BMW's own CU-429 would say so; a local count would lock out for nothing.
      if (this.quota && isUnauthorizedAnswer(res.status, res.body)) this.lastQuota = await this.quota.giveBack(this.accountId);
      const retryAfter = parseRetryAfter(res.headers['retry-after'], this.now());
      if (isQuotaAnswer(res.status, res.body, retryAfter)) {
        if (this.quota) this.lastQuota = await this.quota.markExhausted(this.accountId);
        throw errorFromResponse(res.status, res.body, spec.id);
      }
      if (res.status === 401 && this.tokens && token && !refreshed) {
        refreshed = true;
        await this.tokens.refreshAfterUnauthorized(token, { deadline });
        continue;
      }
      // A 429 with a Retry-After is a rate limit: BMW did not process the request, so any method may wait and retry.
      const retryable = res.status === 429 || (idempotent && isRetryableStatus(res.status));
      const answer = res;
      await backOff(retryable ? retryDelay(attempt, this.retry, retryAfter, this.random) : undefined, () =>
        errorFromResponse(answer.status, answer.body, spec.id, retryAfter),
      );
    }
  }

  private async json<T>(operationId: OperationId, params: CallParams = {}, read: ReadOptions = {}): Promise<T> {
    return (await this.call(operationId, params, read)).body as T;
  }

  /** Mapped vehicles. BMW answers a JSON array although its spec says an object; a wrapper is accepted too. */
  async getMappings(read: ReadOptions = {}): Promise<VehicleMapping[]> {
    return normaliseMappings(await this.json<unknown>('getMappings', {}, read));
  }

  getBasicData(vin: string, read: ReadOptions = {}): Promise<VehicleBasicData> {
    return this.json('getBasicData', { vin }, read);
  }

  getTelematicData(vin: string, containerId: string, read: ReadOptions = {}): Promise<TelematicDataResponse> {
    return this.json('getTelematicData', { vin, containerId }, read);
  }

  getTyreDiagnosis(vin: string, read: ReadOptions = {}): Promise<TyreDiagnosis> {
    return this.json('getSmartMaintenanceTyreDiagnosis', { vin }, read);
  }

  async getImage(vin: string, read: ReadOptions = {}): Promise<VehicleImage> {
    const checked = checkVin(vin);
    const res = await this.call('getImage', { vin: checked }, read);
    const data = Buffer.isBuffer(res.body) ? res.body : Buffer.from(typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? ''));
    const contentType = (res.headers['content-type'] ?? 'image/png').split(';')[0].trim();
    return { data, contentType, fileName: imageFileName(checked, contentType) };
  }

  /**
   * A paged operation, read page after page following the token: `await` it for every item (up to
   * `options.limit`), iterate it with `for await` for one item at a time, or iterate `.pages()` for the pages.
   * Parameters are checked before the first request; no page is fetched past the limit.
   */
  paginate<Op extends PagedOperationId>(
    operationId: Op,
    params: PagedOperations[Op]['params'],
    options: PageOptions & ReadOptions = {},
  ): Paged<PagedOperations[Op]['item'], PagedOperations[Op]['page']> {
    const spec = Object.hasOwn(OPERATIONS, operationId) ? OPERATIONS[operationId] : undefined;
    const paging = spec?.paging;
    // Only a caller without the types can name another operation: told at once, before anything is read.
    if (!spec || !paging)
      throw inputError(
        'operation',
        `${String(operationId).slice(0, 40)} is not a paged operation`,
        `One of: ${OPERATION_IDS.filter((id) => OPERATIONS[id].paging).join(', ')}`,
      );
    const read: ReadOptions = { maxAgeMs: options.maxAgeMs, report: options.report };
    return paginate((nextToken) => this.json(spec.id, { ...params, [paging.tokenQuery]: nextToken }, read), spec, options);
  }

  async listContainers(): Promise<Container[]> {
    const body = await this.json<ContainerList | Container[]>('listContainers');
    return Array.isArray(body) ? body : (body?.containers ?? []);
  }

  /** Creates a container; `allowUnknown` accepts descriptors missing from the bundled catalogue (BMW decides). */
  createContainer(request: CreateContainerRequest, options: { allowUnknown?: boolean } = {}): Promise<ContainerDetails> {
    return this.json('createContainer', { body: request, allowUnknown: options.allowUnknown });
  }

  getContainer(containerId: string): Promise<ContainerDetails> {
    return this.json('getContainerDetails', { containerId });
  }

  /** Deletes a container. Deleting one that is already deleted is not an error (BMW answers 208 CU-122). */
  async deleteContainer(containerId: string): Promise<{ containerId: string; deleted: true; alreadyDeleted: boolean }> {
    const id = checkContainerId(containerId);
    const res = await this.call('deleteContainer', { containerId: id });
    for (const [key, cached] of this.containerCache) if (cached === id) this.containerCache.delete(key);
    return { containerId: id, deleted: true, alreadyDeleted: res.status === 208 };
  }

  /** Reuses an ACTIVE container holding exactly these descriptors, or creates one. */
  async ensureContainer(descriptors: unknown, options: EnsureContainerOptions = {}): Promise<EnsuredContainer> {
    return ensureContainer(this, checkDescriptors(descriptors, options), options);
  }

  /**
   * Telematic values for descriptors, with the container managed: found or created once, then remembered. If
   * BMW no longer knows the remembered container (CU-105), it is found or created again, once.
   */
  async getTelematicValues(
    vin: string,
    descriptors: unknown,
    options: EnsureContainerOptions & ReadOptions = {},
  ): Promise<TelematicDataResponse & { containerId: string }> {
    const checkedVin = checkVin(vin);
    const ids = checkDescriptors(descriptors, options);
    const read: ReadOptions = { maxAgeMs: options.maxAgeMs, report: options.report };
    let ensured = await ensureContainer(this, ids, options);
    try {
      return { ...(await this.getTelematicData(checkedVin, ensured.containerId, read)), containerId: ensured.containerId };
    } catch (e) {
      if (!(e instanceof CarDataError) || e.exveErrorId !== 'CU-105' || !ensured.fromCache) throw e;
      this.containerCache.delete(ensured.key);
      ensured = await ensureContainer(this, ids, options);
      return { ...(await this.getTelematicData(checkedVin, ensured.containerId, read)), containerId: ensured.containerId };
    }
  }
}

/** The cache key of a request: the operation, its path (VIN, container) and its query in a fixed order. */
function answerKey(spec: OperationSpec, path: string, query: Record<string, string>): string {
  const q = Object.keys(query)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k])}`)
    .join('&');
  return `${spec.id} ${path}${q ? `?${q}` : ''}`;
}

function checkMaxAge(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw inputError('cacheMaxAge', 'The longest age of a cached answer must be 0 or more milliseconds');
  return value;
}

/** An answer as the cache keeps it: binary bodies as base64, only the headers a read looks at. */
function toKept(answer: CallResult, at: number): CachedAnswer {
  const contentType = answer.headers['content-type'];
  const kept: CachedAnswer = { at, status: answer.status, ...(contentType ? { contentType } : {}) };
  if (Buffer.isBuffer(answer.body)) kept.base64 = answer.body.toString('base64');
  else kept.body = answer.body;
  return kept;
}

function fromKept(kept: CachedAnswer): CallResult {
  return {
    status: kept.status,
    headers: kept.contentType ? { 'content-type': kept.contentType } : {},
    // A copy: a caller that changes what it got does not change the cache.
    body: kept.base64 !== undefined ? Buffer.from(kept.base64, 'base64') : structuredClone(kept.body),
    fromCache: { at: kept.at },
  };
}

function checkContainerRequest(raw: unknown, allowUnknown: boolean): CreateContainerRequest {
  if (!raw || typeof raw !== 'object') throw inputError('body', 'A container needs a name, a purpose and descriptors');
  const r = raw as Partial<CreateContainerRequest>;
  const name = typeof r.name === 'string' ? r.name.trim() : '';
  if (!name) throw inputError('name', 'A container name is required', 'Give the container a name you will recognise.');
  if (name.length > 64) throw inputError('name', 'A container name is at most 64 characters');
  const purpose = typeof r.purpose === 'string' && r.purpose.trim() ? r.purpose.trim() : name;
  return { name, purpose, technicalDescriptors: checkDescriptors(r.technicalDescriptors, { allowUnknown }) };
}

/** Mappings as an array, whether BMW answered an array, one object, or a wrapper. */
export function normaliseMappings(body: unknown): VehicleMapping[] {
  if (Array.isArray(body)) return body as VehicleMapping[];
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['mappings', 'vehicles', 'data']) if (Array.isArray(b[key])) return b[key] as VehicleMapping[];
    if (typeof b.vin === 'string') return [b as VehicleMapping];
  }
  return [];
}
