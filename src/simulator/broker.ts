import { randomUUID } from 'crypto';
import { createServer, type Server, type Socket } from 'net';
import type { AddressInfo } from 'net';
import type { Aedes, AedesOptions, AuthenticateError, Client } from 'aedes';
import { CATALOGUE_BY_ID } from './catalogue';
import type { StreamTokenStore } from './broker-tokens';
import { initialCarState, scenarioSteps, SCENARIO_NAMES, type CarStreamState, type ScenarioName, type StreamScalar } from './broker-scenarios';

// The simulated CarData stream: an MQTT 3.1.1 broker on loopback with BMW's rules. Username = GCID, password =
// a valid id_token of that account, only the account's own topics, one connection per account, the connection
// closed when its id_token expires, and SUBSCRIBE refused with 0x80 when no stream is configured.

export type { ScenarioName } from './broker-scenarios';

/** A value for publish(): a bare value, or BMW's {value, unit, timestamp} (unit and timestamp filled in if left out). */
export type StreamInput = StreamScalar | { value: StreamScalar; unit?: string | null; timestamp?: string | number | null };

export interface StreamPublishedMessage {
  vin: string;
  entityId: string;
  topic: string;
  /** ISO 8601 unless publish() was given an epoch number. */
  timestamp: string | number;
  data: Record<string, { timestamp: string | number | null; value: StreamScalar; unit: string | null }>;
}

export type StreamLogEvent =
  | 'connect'
  | 'refused'
  | 'replaced'
  | 'subscribe'
  | 'subscribe-refused'
  | 'topic-refused'
  | 'publish-refused'
  | 'unsubscribe'
  | 'expired'
  | 'kicked'
  | 'disconnect';

/** What the broker saw, for tests. Never contains a password. */
export interface StreamLogEntry {
  at: number;
  event: StreamLogEvent;
  clientId?: string;
  gcid?: string;
  topic?: string;
  /** CONNACK return code for `refused`. */
  returnCode?: number;
}

export interface ScenarioOptions {
  /** Default: the BEV. */
  vin?: string;
  /** Between two messages. Default 1000 ms. */
  intervalMs?: number;
  /** Start again after the last message until stopped. Default false. */
  repeat?: boolean;
}

export interface ScenarioHandle {
  readonly name: ScenarioName;
  stop(): void;
  /** Resolves after the last message was published (or when stopped). */
  readonly done: Promise<void>;
  /** Messages published so far. */
  readonly published: StreamPublishedMessage[];
}

/** `sim.stream`: drive the simulated stream from tests and the CLI. */
export interface StreamControl {
  readonly url: string;
  /** Publishes one BMW stream message for `vin` to `<gcid>/<vin>` at QoS 1. */
  publish(vin: string, data: Record<string, StreamInput>, opts?: { timestamp?: string | number; gcid?: string }): Promise<StreamPublishedMessage>;
  /** Publishes any payload as is (for malformed-message tests). */
  publishRaw(vin: string, payload: string | Buffer, opts?: { gcid?: string }): Promise<void>;
  startScenario(name: ScenarioName, opts?: ScenarioOptions): ScenarioHandle;
  stopScenarios(): void;
  /** Open connections of the account (default: the simulator's account). */
  connections(gcid?: string): number;
  /** Drops every connection of the account (as a broker restart would); returns how many. */
  kick(gcid?: string): number;
  setConfigured(configured: boolean): void;
  readonly configured: boolean;
  /**
   * The next `count` logins are refused with `returnCode` (default 5, not authorized) although their id_token is
   * valid, as BMW's broker does in overnight bursts.
   */
  refuseNextLogins(count: number, returnCode?: 4 | 5): void;
  /** The next `count` subscribed topics are refused with 0x80 although a stream is configured. */
  refuseNextSubscriptions(count: number): void;
  /** An outage: stops listening and drops every connection; new connections are refused until resume(). */
  pause(): Promise<void>;
  /** Listens again on the same port after pause(). */
  resume(): Promise<void>;
  readonly paused: boolean;
  readonly log: StreamLogEntry[];
  clearLog(): void;
}

export interface StreamBrokerOptions {
  host: string;
  port: number;
  now: () => number;
  tokens: StreamTokenStore;
  /** The simulator's account; default target of publish(). */
  gcid: string;
  defaultVin: string;
  /** How often connections are checked for an expired id_token. Default 250 ms. */
  checkIntervalMs?: number;
  configured?: boolean;
}

interface Session {
  gcid: string;
  idToken: string;
}

type AedesModule = { Aedes: { createBroker(opts?: AedesOptions): Promise<Aedes> } };

/** aedes is an ES module: require() works on current Node 20/22, an import() fallback covers older 20.x. */
export async function loadAedes(): Promise<AedesModule> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('aedes') as AedesModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw e;
    const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<AedesModule>;
    return dynamicImport('aedes');
  }
}

const UNIT_OVERRIDES: Record<string, string> = {
  'vehicle.vehicle.travelledDistance': 'km',
  'vehicle.trip.segment.end.travelledDistance': 'km',
  'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange': 'km',
};

function unitOf(descriptor: string): string | null {
  const unit = UNIT_OVERRIDES[descriptor] ?? CATALOGUE_BY_ID.get(descriptor)?.unit;
  if (!unit || unit === 'null') return null;
  return unit === 'percent' ? '%' : unit;
}

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  // 4: bad user name or password; 5: not authorized.
  (err as { returnCode: number }).returnCode = returnCode;
  return err;
}

export class StreamBroker implements StreamControl {
  readonly url: string;
  readonly log: StreamLogEntry[] = [];
  private configuredFlag: boolean;
  private readonly sessions = new Map<Client, Session>();
  private readonly sockets = new Set<Socket>();
  private readonly scenarios = new Set<{ stop(): void }>();
  private readonly cars = new Map<string, CarStreamState>();
  private readonly checkTimer: NodeJS.Timeout;
  private readonly address: AddressInfo;
  private loginRefusals: Array<{ remaining: number; returnCode: 4 | 5 }> = [];
  private subscribeRefusals = 0;
  private pausedFlag = false;

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    private readonly opts: StreamBrokerOptions,
  ) {
    this.address = server.address() as AddressInfo;
    const { port } = this.address;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    this.url = `mqtt://${host}:${port}`;
    this.configuredFlag = opts.configured ?? true;
    this.checkTimer = setInterval(() => this.closeExpired(), opts.checkIntervalMs ?? 250);
    this.checkTimer.unref();
  }

  static async start(opts: StreamBrokerOptions): Promise<StreamBroker> {
    const { Aedes: AedesClass } = await loadAedes();
    const holder: { broker?: StreamBroker } = {};
    const aedes = await AedesClass.createBroker({
      heartbeatInterval: 60_000,
      authenticate: (client, username, password, done) => {
        if (holder.broker) holder.broker.authenticate(client, username, password, done);
        else done(authError('starting', 5), null);
      },
      authorizeSubscribe: (client, sub, done) => {
        if (!holder.broker) return done(new Error('starting'));
        holder.broker.authorizeSubscribe(client, sub.topic, (err, ok) => done(err, ok ? { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 } : null));
      },
      authorizePublish: (client, packet, done) => {
        // Clients only read: BMW accepts no publications on the stream.
        if (client) holder.broker?.record('publish-refused', client, packet.topic);
        done(new Error('publishing is not allowed'));
      },
    });
    const server = createServer((socket) => {
      holder.broker?.track(socket);
      aedes.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw e;
    }
    const broker = new StreamBroker(aedes, server, opts);
    holder.broker = broker;
    aedes.on('clientReady', (client) => broker.onReady(client));
    aedes.on('clientDisconnect', (client) => broker.onGone(client, true));
    aedes.on('unsubscribe', (topics, client) => topics.forEach((t) => broker.record('unsubscribe', client, t)));
    aedes.on('clientError', () => undefined);
    aedes.on('connectionError', () => undefined);
    return broker;
  }

  get configured(): boolean {
    return this.configuredFlag;
  }

  setConfigured(configured: boolean): void {
    this.configuredFlag = configured;
  }

  clearLog(): void {
    this.log.length = 0;
  }

  record(event: StreamLogEvent, client?: Client, topic?: string, returnCode?: number): void {
    const entry: StreamLogEntry = { at: this.opts.now(), event };
    if (client?.id) entry.clientId = client.id;
    const gcid = client ? this.sessions.get(client)?.gcid : undefined;
    if (gcid) entry.gcid = gcid;
    if (topic !== undefined) entry.topic = topic;
    if (returnCode !== undefined) entry.returnCode = returnCode;
    this.log.push(entry);
    if (this.log.length > 5000) this.log.splice(0, this.log.length - 5000);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const token = password ? password.toString('utf8') : '';
    const check = token ? this.opts.tokens.checkIdToken(token) : ({ ok: false, reason: 'unknown' } as const);
    let refusal: AuthenticateError | undefined;
    if (!username || (!check.ok && check.reason === 'unknown')) refusal = authError('bad user name or password', 4);
    else if (!check.ok) refusal = authError('not authorized: the id_token expired', 5);
    else if (check.gcid !== username) refusal = authError('not authorized: the id_token belongs to another account', 5);
    else if (!check.streaming) refusal = authError('not authorized: the token has no cardata:streaming:read scope', 5);
    else if (this.loginRefusals.length > 0) {
      const rule = this.loginRefusals[0];
      if (--rule.remaining <= 0) this.loginRefusals.shift();
      refusal = authError('not authorized', rule.returnCode);
    }
    if (refusal) {
      this.record('refused', client, undefined, (refusal as { returnCode: number }).returnCode);
      done(refusal, false);
      return;
    }
    this.sessions.set(client, { gcid: username as string, idToken: token });
    done(null, true);
  }

  /** After CONNACK: BMW allows one connection per account, so an older one is dropped. */
  private onReady(client: Client): void {
    const session = this.sessions.get(client);
    if (!session) return;
    this.record('connect', client);
    for (const [other, s] of this.sessions) {
      if (other !== client && s.gcid === session.gcid) {
        this.record('replaced', other);
        this.sessions.delete(other);
        other.close();
      }
    }
  }

  private onGone(client: Client, log: boolean): void {
    if (!this.sessions.has(client)) return;
    if (log) this.record('disconnect', client);
    this.sessions.delete(client);
  }

  private authorizeSubscribe(client: Client, topic: string, done: (err: Error | null, ok: boolean) => void): void {
    const session = this.sessions.get(client);
    const own = session && (topic === `${session.gcid}/+` || new RegExp(`^${session.gcid.replace(/[-]/g, '\\-')}/[A-Z0-9]{17}$`).test(topic));
    if (!own) {
      // BMW answers a foreign or malformed topic by dropping the whole connection.
      this.record('topic-refused', client, topic);
      done(new Error('topic not allowed'), false);
      return;
    }
    if (!this.configuredFlag || this.subscribeRefusals > 0) {
      if (this.configuredFlag) this.subscribeRefusals--;
      this.record('subscribe-refused', client, topic, 0x80);
      done(null, false);
      return;
    }
    this.record('subscribe', client, topic);
    done(null, true);
  }

  private closeExpired(): void {
    const now = this.opts.now();
    for (const [client, s] of [...this.sessions]) {
      const exp = this.opts.tokens.idTokenExpiry(s.idToken);
      if (exp === undefined || now >= exp) {
        this.record('expired', client);
        this.sessions.delete(client);
        client.close();
      }
    }
  }

  refuseNextLogins(count: number, returnCode: 4 | 5 = 5): void {
    if (returnCode !== 4 && returnCode !== 5) throw new Error('refuseNextLogins: returnCode must be 4 or 5');
    if (count > 0) this.loginRefusals.push({ remaining: count, returnCode });
  }

  refuseNextSubscriptions(count: number): void {
    if (count > 0) this.subscribeRefusals += count;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  async pause(): Promise<void> {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const client of [...this.sessions.keys()]) client.close();
    this.sessions.clear();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async resume(): Promise<void> {
    if (!this.pausedFlag) return;
    const { port } = this.address;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.pausedFlag = false;
  }

  connections(gcid = this.opts.gcid): number {
    let n = 0;
    for (const [client, s] of this.sessions) if (s.gcid === gcid && !client.closed) n++;
    return n;
  }

  kick(gcid = this.opts.gcid): number {
    let n = 0;
    for (const [client, s] of [...this.sessions]) {
      if (s.gcid !== gcid) continue;
      this.record('kicked', client);
      this.sessions.delete(client);
      client.close();
      n++;
    }
    return n;
  }

  publish(vin: string, data: Record<string, StreamInput>, opts: { timestamp?: string | number; gcid?: string } = {}): Promise<StreamPublishedMessage> {
    const at = new Date(this.opts.now()).toISOString();
    const message: StreamPublishedMessage = {
      vin,
      entityId: randomUUID(),
      topic: vin,
      timestamp: opts.timestamp ?? at,
      data: {},
    };
    for (const [descriptor, input] of Object.entries(data)) {
      const point = input !== null && typeof input === 'object' ? input : { value: input };
      message.data[descriptor] = {
        timestamp: point.timestamp !== undefined ? point.timestamp : at,
        value: point.value,
        unit: point.unit !== undefined ? point.unit : unitOf(descriptor),
      };
    }
    return this.publishRaw(vin, JSON.stringify(message), opts).then(() => message);
  }

  publishRaw(vin: string, payload: string | Buffer, opts: { gcid?: string } = {}): Promise<void> {
    const topic = `${opts.gcid ?? this.opts.gcid}/${vin}`;
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: 1, retain: false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  startScenario(name: ScenarioName, opts: ScenarioOptions = {}): ScenarioHandle {
    if (!SCENARIO_NAMES.includes(name)) throw new Error(`Unknown stream scenario "${String(name)}"; use ${SCENARIO_NAMES.join(', ')}`);
    const vin = opts.vin ?? this.opts.defaultVin;
    const interval = opts.intervalMs ?? 1000;
    let car = this.cars.get(vin);
    if (!car) {
      car = initialCarState();
      this.cars.set(vin, car);
    }
    const carState = car;
    const published: StreamPublishedMessage[] = [];
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const control = {
      stop: (): void => {
        stopped = true;
        if (timer) clearTimeout(timer);
        this.scenarios.delete(control);
        finish();
      },
    };
    this.scenarios.add(control);
    let steps = scenarioSteps(name, carState);
    let i = 0;
    const tick = (): void => {
      if (stopped) return;
      if (i >= steps.length) {
        if (!opts.repeat) return control.stop();
        steps = scenarioSteps(name, carState);
        i = 0;
      }
      const step = steps[i++];
      // One message after the other: the next is scheduled once this one is out, and `done` follows the last.
      // A step without values is an interval without a message.
      const sent = Object.keys(step).length === 0 ? Promise.resolve() : this.publish(vin, step).then((m) => void published.push(m));
      sent
        .catch(() => undefined)
        .then(() => {
          if (stopped) return;
          if (i >= steps.length && !opts.repeat) control.stop();
          else timer = setTimeout(tick, interval);
        });
    };
    timer = setTimeout(tick, 0);
    return { name, stop: control.stop, done, published };
  }

  stopScenarios(): void {
    for (const s of [...this.scenarios]) s.stop();
  }

  async close(): Promise<void> {
    this.stopScenarios();
    clearInterval(this.checkTimer);
    for (const client of this.sessions.keys()) client.close();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    if (!this.pausedFlag) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
