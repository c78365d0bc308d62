import type { IncomingMessage, Server, ServerResponse } from 'http';
import type { ChargingSession } from '../core/types';
import { createServer } from 'http';
import type { AddressInfo } from 'net';
import { DeviceCodeStore } from './accounts';
import { ContainerStore } from './containers';
import { DEMO_STALE_CONTAINER } from './demo';
import { FixtureData } from './data';
import { Faults } from './faults';
import type { GcdmDeps } from './gcdm';
import { deviceCode, token } from './gcdm';
import { decide, indexPage, linkPage } from './pages';
import { PageTokenStore } from './paging';
import { QuotaCounter } from './quota';
import { rngFor } from './random';
import type { Reply } from './reply';
import { cuError, isFormEncoded, oauthError, parseForm, readBody, send } from './reply';
import type { RestDeps } from './rest';
import { handleRest } from './rest';
import { StreamBroker, type StreamControl } from './broker';
import { StreamTokenStore } from './broker-tokens';
import { FULL_SCOPE } from './tokens';
import type { DeviceCodeState, FaultControl, QuotaSnapshot, RequestKind, RequestLogEntry, SimulatorOptions, TokenResponse } from './types';
import { SIM_VINS } from './vehicles';

export { SIM_VINS } from './vehicles';
export { playScenarios } from './scenario-loop';
export { startPlainBroker, type PlainBroker } from './plain-broker';
export { PLUGGED_WAITING_INTERVALS, SCENARIO_NAMES } from './broker-scenarios';
export type {
  ScenarioHandle,
  ScenarioName,
  ScenarioOptions,
  StreamControl,
  StreamInput,
  StreamLogEntry,
  StreamLogEvent,
  StreamPublishedMessage,
} from './broker';
export type { DeviceCodeState, FaultControl, QuotaSnapshot, RequestKind, RequestLogEntry, SimulatorOptions, TokenResponse } from './types';

/** A well-formed container id that exists but belongs to another account: answers CU-105. */
export const SIM_FOREIGN_CONTAINER_ID = 'CFOREIGN00001';

function classify(path: string): RequestKind {
  if (path.startsWith('/gcdm/oauth/')) return 'auth';
  if (path === '/' || path === '/favicon.ico' || path.startsWith('/gcdm/')) return 'page';
  return 'rest';
}

/**
 * The session after the newest of `list` (newest first), with the figures and the length of the newest finished
 * one: half an hour after the newest ended (or, while that one is still in progress, an hour and a half after it
 * started) unless `startTime` says when, and 42 km further.
 */
function nextSession(list: ChargingSession[], startTime?: number): ChargingSession {
  const ended = (s: ChargingSession): boolean => typeof s.endTime === 'number' && s.endTime > s.startTime;
  const newest = list[0];
  const template = list.find(ended) ?? newest;
  const start = startTime ?? (ended(newest) ? (newest.endTime as number) : newest.startTime + 3600) + 1800;
  const shift = start - template.startTime;
  const endTime = ended(template) ? (template.endTime as number) + shift : start + 3600;
  const session: ChargingSession = { ...template, startTime: start, endTime, mileage: newest.mileage + 42 };
  if (template.chargingBlocks)
    session.chargingBlocks = template.chargingBlocks.map((b) => ({ ...b, startTime: b.startTime + shift, endTime: b.endTime + shift }));
  return session;
}

/** Puts `session` into `list` (newest first) at the place of its start time. */
function insertByStart(list: ChargingSession[], session: ChargingSession): void {
  const index = list.findIndex((s) => s.startTime < session.startTime);
  list.splice(index < 0 ? list.length : index, 0, session);
}

function bearerOf(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}

/** A local BMW CarData: GCDM device flow and the Customer API on one loopback port. */
export class Simulator {
  readonly url: string;
  readonly apiBaseUrl: string;
  readonly authBaseUrl: string;
  readonly gcid: string;
  readonly requests: RequestLogEntry[] = [];
  readonly faults: FaultControl;

  private readonly faultState: Faults;
  private readonly now: () => number;
  private readonly tokens: StreamTokenStore;
  private broker?: StreamBroker;
  private readonly devices: DeviceCodeStore;
  private readonly quotaCounter: QuotaCounter;
  private readonly pageTokens: PageTokenStore;
  private readonly gcdmDeps: GcdmDeps;
  private readonly restDeps: RestDeps;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly onRequest?: (entry: RequestLogEntry) => void;
  /** The final figures of the sessions startChargingSession() began, by `${vin}:${startTime}`. */
  private readonly finals = new Map<string, ChargingSession>();

  private constructor(
    private readonly server: Server,
    url: string,
    opts: SimulatorOptions,
  ) {
    this.url = url;
    this.apiBaseUrl = url;
    this.authBaseUrl = `${url}/gcdm`;
    this.now = opts.now ?? Date.now;
    this.onRequest = opts.onRequest;
    const seed = opts.seed ?? 1;
    this.gcid = rngFor(seed, 'gcid').uuid();
    const accessTtlSec = opts.accessTokenTtlSec ?? 3599;
    const deviceCodeTtlSec = opts.deviceCodeTtlSec ?? 300;
    this.faultState = new Faults();
    this.faults = this.faultState;
    this.tokens = new StreamTokenStore({
      now: this.now,
      accessTtlSec,
      refreshTtlSec: opts.refreshTokenTtlSec ?? 1_209_600,
      issuer: `${this.authBaseUrl}/oauth2`,
    });
    this.devices = new DeviceCodeStore(this.now, deviceCodeTtlSec, opts.autoApprove ?? false);
    this.quotaCounter = new QuotaCounter(this.now, opts.dailyQuota ?? 50);
    this.pageTokens = new PageTokenStore(this.now, opts.pageTokenTtlSec ?? 600);
    const containers = new ContainerStore(this.now);
    containers.addForeign(rngFor(seed, 'other-account').uuid(), SIM_FOREIGN_CONTAINER_ID);
    if (opts.demo) containers.addOld(this.gcid, DEMO_STALE_CONTAINER);
    this.gcdmDeps = {
      now: this.now,
      gcid: this.gcid,
      devices: this.devices,
      tokens: this.tokens,
      pollIntervalSec: opts.pollIntervalSec ?? 5,
      deviceCodeTtlSec,
      verificationUri: `${this.authBaseUrl}/oneid/link`,
    };
    this.restDeps = {
      tokens: this.tokens,
      quota: this.quotaCounter,
      containers,
      data: new FixtureData(seed, this.now(), opts.chargingSessions ?? 400, this.gcid, opts.demo ? this.now : undefined),
      pages: this.pageTokens,
      chargingPageSize: opts.chargingPageSize ?? 25,
      settingsPageSize: opts.settingsPageSize ?? 2,
    };
  }

  static async start(opts: SimulatorOptions = {}): Promise<Simulator> {
    validateOptions(opts);
    // The server must exist before the simulator knows its URL; requests cannot arrive before listen() resolves.
    const holder: { sim?: Simulator } = {};
    const server = createServer((req, res) => {
      if (holder.sim) void holder.sim.handle(req, res);
      else res.destroy();
    });
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const sim = new Simulator(server, `http://${urlHost}:${port}`, opts);
    holder.sim = sim;
    if (opts.stream) {
      const streamOpts = typeof opts.stream === 'object' ? opts.stream : {};
      try {
        sim.broker = await StreamBroker.start({
          host: streamOpts.host ?? host,
          port: streamOpts.port ?? 0,
          now: sim.now,
          tokens: sim.tokens,
          gcid: sim.gcid,
          defaultVin: SIM_VINS.bev,
          checkIntervalMs: streamOpts.checkIntervalMs,
          configured: streamOpts.configured,
        });
      } catch (e) {
        await sim.close();
        throw e;
      }
    }
    return sim;
  }

  /** `mqtt://host:port` of the simulated CarData stream; undefined unless started with `stream`. */
  get streamUrl(): string | undefined {
    return this.broker?.url;
  }

  /** The simulated stream (publish, scenarios, connections, kick). Needs `startSimulator({ stream: true })`. */
  get stream(): StreamControl {
    if (!this.broker) throw new Error('The stream broker is off: start the simulator with { stream: true }');
    return this.broker;
  }

  /** false: SUBSCRIBE is refused with 0x80, as BMW does when no data stream is configured in the portal. */
  setStreamConfigured(configured: boolean): void {
    this.stream.setConfigured(configured);
  }

  /** Every id_token issued so far expires now; the broker closes their connections within its check interval. */
  expireIdTokens(): void {
    this.tokens.expireIdTokens();
  }

  restCalls(): RequestLogEntry[] {
    return this.requests.filter((r) => r.kind === 'rest');
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  /** A token set as GCDM would answer it, without the device flow. */
  issueTokens(opts: { scope?: string; clientId?: string } = {}): TokenResponse {
    return this.tokens.issue(this.gcid, opts.scope ?? FULL_SCOPE, opts.clientId);
  }

  expireAccessTokens(): void {
    this.tokens.expireAccessTokens();
  }

  approve(userCode: string): void {
    this.devices.decide(userCode, 'approved');
  }

  deny(userCode: string): void {
    this.devices.decide(userCode, 'denied');
  }

  expireDeviceCode(userCode: string): void {
    this.devices.expire(userCode);
  }

  setAutoApprove(on: boolean): void {
    this.devices.autoApprove = on;
  }

  lastDeviceCode(): { userCode: string; state: DeviceCodeState } | undefined {
    return this.devices.last();
  }

  quota(): QuotaSnapshot {
    return this.quotaCounter.snapshot(this.gcid);
  }

  setQuotaUsed(n: number): void {
    this.quotaCounter.setUsed(this.gcid, n);
  }

  setDailyQuota(limit: number): void {
    if (!(limit >= 0)) throw new Error('setDailyQuota: limit must be a number >= 0');
    this.quotaCounter.limit = limit;
  }

  expirePageTokens(): void {
    this.pageTokens.expireAll();
  }

  /**
   * The car has just charged: a session after the newest one is added to the vehicle's history (copied from the
   * newest finished one, as long as that one, half an hour after the newest ended, unless `changes` says otherwise)
   * and returned. With an older `startTime` in `changes` the session takes its place in the history, as when BMW
   * reports a session late.
   */
  addChargingSession(vin: string, changes: Partial<ChargingSession> = {}): ChargingSession {
    const list = this.historyOf(vin, 'addChargingSession');
    const session: ChargingSession = { ...nextSession(list, changes.startTime), ...changes };
    insertByStart(list, session);
    return { ...session };
  }

  /**
   * The car has just been plugged in: a session still in progress is added after the newest one, as BMW lists it
   * while it lasts (`endTime` null, no energy, no charging blocks yet; `changes` can say `endTime: 0` instead).
   * finishChargingSession() later turns it into the finished session. Returns the ongoing session.
   */
  startChargingSession(vin: string, changes: Partial<ChargingSession> = {}): ChargingSession {
    const list = this.historyOf(vin, 'startChargingSession');
    const final = nextSession(list, changes.startTime);
    const ongoing: ChargingSession = { ...final, endTime: null, totalChargingDurationSec: 0, displayedSoc: final.displayedStartSoc };
    for (const field of ['energyConsumedFromPowerGridKwh', 'energyDecreaseHvbKwh', 'energyDischargedKwh', 'businessErrors', 'chargingBlocks'] as const)
      delete ongoing[field];
    Object.assign(ongoing, changes);
    this.finals.set(`${vin}:${ongoing.startTime}`, final);
    insertByStart(list, ongoing);
    return { ...ongoing };
  }

  /** The ongoing session that started at `startTime` has finished: it gets its final figures (and `changes`). */
  finishChargingSession(vin: string, startTime: number, changes: Partial<ChargingSession> = {}): ChargingSession {
    const final = this.finals.get(`${vin}:${startTime}`);
    if (!final) throw new Error(`finishChargingSession: ${vin} has no ongoing session that started at ${startTime}`);
    this.finals.delete(`${vin}:${startTime}`);
    return this.updateChargingSession(vin, startTime, { ...final, ...changes });
  }

  /** BMW corrects a session afterwards (its mileage, say): the session that started at `startTime` gets `changes`. */
  updateChargingSession(vin: string, startTime: number, changes: Partial<ChargingSession>): ChargingSession {
    const list = this.historyOf(vin, 'updateChargingSession');
    const index = list.findIndex((s) => s.startTime === startTime);
    if (index < 0) throw new Error(`updateChargingSession: ${vin} has no session that started at ${startTime}`);
    const [old] = list.splice(index, 1);
    const session: ChargingSession = { ...old, ...changes };
    insertByStart(list, session);
    return { ...session };
  }

  private historyOf(vin: string, caller: string): ChargingSession[] {
    const vehicle = this.restDeps.data.vehicle(vin);
    if (!vehicle) throw new Error(`${caller}: ${vin} is not a simulated vehicle`);
    const list = this.restDeps.data.sessions(vehicle);
    if (!list.length) throw new Error(`${caller}: ${vin} has no charging history`);
    return list;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const broker = this.broker;
    this.broker = undefined;
    if (broker) await broker.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Sends the headers, then the body one byte per interval (a connection that never goes quiet long enough to time out). */
  private drip(res: ServerResponse, reply: Reply, intervalMs: number): void {
    const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
    res.writeHead(reply.status, {
      ...(reply.headers ?? {}),
      ...(reply.contentType ? { 'Content-Type': reply.contentType } : {}),
      'Content-Length': body.length,
    });
    let sent = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (sent >= body.length) {
        res.end();
        return;
      }
      res.write(body.subarray(sent, sent + 1));
      sent += 1;
      const t = setTimeout(() => {
        this.timers.delete(t);
        next();
      }, intervalMs);
      this.timers.add(t);
    };
    next();
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const entry: RequestLogEntry = {
      at: this.now(),
      kind: classify(url.pathname),
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    const bearer = bearerOf(req);
    if (bearer) entry.bearer = bearer;
    this.requests.push(entry);

    let reply: Reply;
    const fault = entry.kind === 'page' ? undefined : this.faultState.take(url.pathname, entry.kind);
    try {
      if (fault?.kind === 'hang') {
        this.onRequest?.(entry);
        return;
      }
      if (entry.kind === 'rest') await this.delay(this.faultState.latencyMs);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        this.onRequest?.(entry);
        return;
      }
      if (fault?.kind === 'answer') {
        const a = fault.answer;
        reply = { status: a.status ?? 200, body: a.body, contentType: a.contentType, headers: a.headers };
      } else if (fault?.kind === 'fail') {
        reply = cuError(fault.status === 503 ? 'CU-503' : 'CU-500', {
          headers: fault.retryAfterSec !== undefined ? { 'Retry-After': String(fault.retryAfterSec) } : undefined,
        });
      } else if (entry.kind === 'rest') {
        reply = await handleRest(
          { method, path: url.pathname, query: url.searchParams, headers: req.headers, bearer, readBody: () => readBody(req) },
          this.restDeps,
        );
      } else if (entry.kind === 'auth') {
        const answer = await this.handleAuth(req, method, url.pathname, entry);
        if (answer === 'drop') {
          req.socket.destroy();
          this.onRequest?.(entry);
          return;
        }
        reply = answer;
      } else {
        reply = await this.handlePage(req, method, url.pathname, entry.query);
      }
    } catch {
      reply = entry.kind === 'auth' ? oauthError(500, 'server_error', 'Internal server error.') : cuError('CU-500');
    }

    if (fault?.kind === 'drip') {
      entry.status = reply.status;
      this.onRequest?.(entry);
      this.drip(res, reply, fault.intervalMs);
      return;
    }
    entry.status = reply.status;
    if (reply.exveErrorId) entry.exveErrorId = reply.exveErrorId;
    if (reply.oauthError) entry.oauthError = reply.oauthError;
    if (!res.destroyed) send(res, reply);
    this.onRequest?.(entry);
  }

  /** The login service's answer, or 'drop' for a refresh fault that gives no answer at all. */
  private async handleAuth(req: IncomingMessage, method: string, path: string, entry: RequestLogEntry): Promise<Reply | 'drop'> {
    const isDeviceCode = path === '/gcdm/oauth/device/code';
    const isToken = path === '/gcdm/oauth/token';
    if (!isDeviceCode && !isToken) return oauthError(404, 'invalid_request', 'Unknown endpoint');
    if (method !== 'POST') return oauthError(405, 'invalid_request', 'Use POST');
    let body: Buffer;
    try {
      body = await readBody(req, 64 * 1024);
    } catch {
      return oauthError(400, 'invalid_request', 'The request body is too large');
    }
    if (!isFormEncoded(req)) {
      return oauthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = parseForm(body);
    if (isDeviceCode) return deviceCode(form, this.gcdmDeps);
    if (form.grant_type) entry.grantType = form.grant_type;
    if (form.refresh_token) entry.refreshToken = form.refresh_token;
    const fault = form.grant_type === 'refresh_token' && form.refresh_token ? this.faultState.takeRefresh() : undefined;
    if (fault?.kind === 'drop') return 'drop';
    if (fault) return oauthError(fault.status, 'server_error', 'Internal server error.');
    return token(form, this.gcdmDeps);
  }

  private async handlePage(req: IncomingMessage, method: string, path: string, query: Record<string, string>): Promise<Reply> {
    if (path === '/favicon.ico') return { status: 204 };
    if (path === '/' && method === 'GET') {
      return indexPage({ apiBaseUrl: this.apiBaseUrl, authBaseUrl: this.authBaseUrl, vins: { ...SIM_VINS } });
    }
    if (path === '/gcdm/oneid/link' && method === 'GET') return linkPage(query, this.devices);
    if ((path === '/gcdm/oneid/approve' || path === '/gcdm/oneid/deny') && method === 'POST') {
      const form = parseForm(await readBody(req));
      return decide(form, path.endsWith('approve') ? 'approved' : 'denied', this.devices);
    }
    return cuError('CU-400', { status: 404, note: `No page ${method} ${path}.` });
  }
}

function validateOptions(opts: SimulatorOptions): void {
  const nonNegative: Array<keyof SimulatorOptions> = [
    'dailyQuota',
    'accessTokenTtlSec',
    'refreshTokenTtlSec',
    'deviceCodeTtlSec',
    'pollIntervalSec',
    'chargingSessions',
    'pageTokenTtlSec',
  ];
  for (const key of nonNegative) {
    const v = opts[key];
    if (v !== undefined && !(typeof v === 'number' && v >= 0)) throw new Error(`SimulatorOptions.${key} must be a number >= 0`);
  }
  for (const key of ['chargingPageSize', 'settingsPageSize'] as const) {
    const v = opts[key];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`SimulatorOptions.${key} must be a positive integer`);
  }
}

export function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return Simulator.start(options);
}
