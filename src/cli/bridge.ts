import { randomBytes } from 'crypto';
import { promises as fs, readFileSync } from 'fs';
import * as path from 'path';
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  CarDataError,
  checkVin,
  FileOutbox,
  createLiveFeed,
  isVin,
  nodeTimers,
  restoreLiveDataState,
  subscribeStream,
  TripLog,
  writePrivateJson,
  type Account,
  type LoggedTrip,
  type LiveDataState,
  type LiveUpdate,
  type StreamStatus,
  type TripFinishedEvent,
  type Tariff,
} from '../node';
import { readConfig, readTariff } from './config';
import { checkPrefix, DEFAULT_PREFIX, eventId, eventPayload, retainedTopics, statusTopic, SUBTOPICS, vehicleTopic } from './bridge-topics';
import { DEFAULT_DISCOVERY_PREFIX, discoveryConfigs, type VehicleInfo } from './ha-discovery';

// `bmw-cardata bridge`: holds the account's one BMW stream connection and republishes it to the user's own MQTT
// broker, so Home Assistant, evcc, openWB and Node-RED can all read the car without competing for the stream.
// The stream client and the live-data pipeline are core's; this file only wires them to a second MQTT client.

export const BRIDGE_OPTIONS = {
  broker: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  insecure: { type: 'boolean' },
  prefix: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'ha-discovery': { type: 'boolean' },
  'ha-discovery-remove': { type: 'boolean' },
  'ha-prefix': { type: 'string' },
  'stream-url': { type: 'string' },
  state: { type: 'string' },
  tariff: { type: 'string' },
  'import-history': { type: 'string' },
} as const;

export const BRIDGE_HELP = `Usage: bmw-cardata bridge --broker URL [options]
       bmw-cardata bridge --dry-run [options]

Holds the account's one BMW stream connection (BMW allows one per account) and republishes it to your own MQTT
broker, where Home Assistant, evcc, openWB or Node-RED read it. Runs until stopped (Ctrl-C or SIGTERM), then
publishes "offline" and closes both connections. Uses no API calls, except with --ha-discovery one basic-data
call per vehicle, once, for the device model.

Topics (retained unless said otherwise):
  <prefix>/status                        online / offline (the last will says offline)
  <prefix>/<VIN>/<data key>              the latest value of each data key, as text
  <prefix>/<VIN>/state                   the car's state as JSON, on change
  <prefix>/<VIN>/charging                plug, charging status and power as JSON
  <prefix>/<VIN>/location                latitude, longitude (and heading) as JSON
  <prefix>/<VIN>/event                   charging events as JSON (not retained), each with an "id": a
                                         repeated event has the same id
  <prefix>/<VIN>/trip                    trip events (trip-started, trip-finished) as JSON, the same way
  <prefix>/<VIN>/trip/last               the last finished trip as JSON (retained)
  <prefix>/<VIN>/energy                  kWh charged, only ever increasing (from the car's first finished charge)
  <prefix>/<VIN>/month                   this month's figures as JSON: sessions, kwh, trips, distanceKm, per
                                         100 km, and with a tariff cost and currency (months in its time zone)
  <prefix>/<VIN>/evcc/soc|plugged|charging|range|odometer   for evcc; only values that are known

Options:
  --broker URL          Your broker: mqtt://host:1883, mqtts://host:8883, ws://..., wss://...
  --username NAME       Broker user name (or in the URL)
  --password PASSWORD   Broker password (or $BMW_CARDATA_BROKER_PASSWORD, which keeps it out of ps)
  --ca FILE             CA certificate(s) that signed the broker's TLS certificate (PEM)
  --cert FILE           Client certificate (PEM), with --key FILE
  --key FILE            Its private key (PEM)
  --insecure            Do not check the broker's TLS certificate
  --prefix TOPIC        Topic prefix (default ${DEFAULT_PREFIX})
  --vin VIN[,VIN...]    Only these vehicles (default every vehicle of the account)
  --ha-discovery        Publish Home Assistant MQTT discovery configs: one device per vehicle
  --ha-discovery-remove Remove those configs again (empty retained configs), then exit
  --ha-prefix TOPIC     Home Assistant's discovery prefix (default ${DEFAULT_DISCOVERY_PREFIX})
  --stream-url URL      The CarData stream (default the one saved by login --stream-url, else BMW's)
  --state FILE          The saved live data (default bridge-state.json beside the account file); the events
                        the broker has not yet acknowledged wait beside it (bridge-state.outbox.json), and
                        the finished trips of the last year are logged beside it (bridge-state.trips.jsonl,
                        one JSON line each; bmw-cardata trips writes them as CSV)
  --tariff JSON         What charging costs, e.g. '{"currency":"EUR","pricePerKwh":0.32}' (also perSession,
                        timeOfUse, timeZone); default the "tariff" of the account file; none: no cost
  --import-history RANGE
                        Once per car, add the charging history of the last RANGE (1m to 24m, or 1d to 730d)
                        read over REST to the energy counter; sessions the stream counted already are left
                        out. Costs 1 call per page of 25 sessions (a car charging every day: about 15 for 12m),
                        said before it starts; refused when it could touch the calls kept in reserve (tried
                        again at the next start). Remembered in --state: a restart imports nothing again
  --dry-run             Print what would be published, one JSON line each, and connect to nothing but
                        BMW's stream (the saved live data is read, never written)

A status line on standard error shows the BMW stream, the broker and the messages relayed. A VIN from the stream
that is not a VIN (17 letters and digits, no I, O or Q) is skipped with a warning.`;

type Values = Record<string, string | boolean | undefined>;

export interface BridgeContext {
  values: Values;
  configFile: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  openAccount: () => Account;
  /** The stream to connect to (undefined: BMW's); throws when the saved login cannot use one. */
  streamUrl: () => string | undefined;
}

/** A car announced to Home Assistant, with what basic data said of it. */
interface SavedVehicle extends VehicleInfo {
  /** When basic data was read; absent while the call has not succeeded yet. */
  basicDataAt?: string;
}

/** The bridge's file: the live data (values, open charging sessions) and the cars announced to Home Assistant. */
interface BridgeState {
  version: 1;
  live: LiveDataState;
  vehicles: Record<string, SavedVehicle>;
}

interface Publication {
  topic: string;
  payload: string;
  retain: boolean;
  /**
   * 1 for the status and events: kept and sent again until the broker has them. Retained values go at QoS 0: a
   * reconnect publishes them all afresh, and a stored older value must never be sent again after a newer one.
   */
  qos: 0 | 1;
}

/** Where publications go: the user's broker, or standard output for --dry-run. */
interface Publisher {
  readonly connected: boolean;
  /** `done` is told once the publication is delivered (QoS 1: the broker acknowledged it), or why not. */
  publish(p: Publication, done?: (error?: Error) => void): void;
  /** Publishes `last` (the offline status), then closes. */
  close(last?: Publication): Promise<void>;
}

function bad(message: string, hint?: string): CarDataError {
  return new CarDataError({ kind: 'input', message: `bridge: ${message}`, hint });
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function readPem(values: Values, name: string): Buffer | undefined {
  const file = str(values, name);
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (e) {
    throw bad(`cannot read --${name} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** scheme://host:port of a broker URL, without user name or password, for status lines. */
function brokerLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the broker';
  }
}

/** How often the bridge tries the broker again; after a refusal this doubles, up to MAX_RETRY_MS. */
const RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;
/** CONNACK codes that refuse the user name and password (MQTT 3.1.1: 4, 5; MQTT 5: 0x86, 0x87). */
const CREDENTIAL_REFUSALS: ReadonlySet<number> = new Set([4, 5, 0x86, 0x87]);

/** The broker's CONNACK refusal in an mqtt.js error: its code, and whether it is about the credentials. */
function refusalOf(e: unknown): { code: number; credentials: boolean } | undefined {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'number' || !/^Connection refused/.test((e as Error).message ?? '')) return undefined;
  return { code, credentials: CREDENTIAL_REFUSALS.has(code) };
}

interface BrokerSettings {
  url: string;
  options: IClientOptions;
}

function brokerSettings(values: Values, prefix: string, withWill: boolean): BrokerSettings {
  const url = str(values, 'broker');
  if (!url) throw bad('--broker URL is required (or --dry-run)', 'For example: bmw-cardata bridge --broker mqtt://localhost:1883');
  if (!/^(mqtts?|wss?|tcp|ssl|tls):\/\/[^/]/i.test(url)) throw bad(`--broker must be an mqtt://, mqtts://, ws:// or wss:// URL, not "${brokerLabel(url)}"`);
  const cert = readPem(values, 'cert');
  const key = readPem(values, 'key');
  if (!cert !== !key) throw bad('--cert and --key go together');
  const options: IClientOptions = {
    clientId: `bmw-cardata-bridge-${randomBytes(4).toString('hex')}`,
    clean: true,
    keepalive: 30,
    reconnectPeriod: RETRY_MS,
    // A broker that refuses the connection is asked again too, less and less often (see BrokerPublisher).
    reconnectOnConnackError: true,
    connectTimeout: 10_000,
    queueQoSZero: false,
    rejectUnauthorized: !values.insecure,
  };
  const username = str(values, 'username');
  const password = str(values, 'password') ?? process.env.BMW_CARDATA_BROKER_PASSWORD;
  if (username !== undefined) options.username = username;
  if (password !== undefined && password !== '') options.password = password;
  const ca = readPem(values, 'ca');
  if (ca) options.ca = ca;
  if (cert && key) Object.assign(options, { cert, key });
  if (withWill) options.will = { topic: statusTopic(prefix), payload: Buffer.from('offline'), qos: 1, retain: true };
  return { url, options };
}

function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code && typeof err.code === 'string' && !err.message.includes(err.code) ? `${err.message} (${err.code})` : (err?.message ?? String(e));
}

/** The user's broker; reconnects by itself (mqtt.js) after the broker restarts. */
class BrokerPublisher implements Publisher {
  private lastError?: string;
  private closing = false;
  /** Refusals since the last connection: each doubles the wait before the next try. */
  private refusals = 0;
  /** What the status says while the broker refuses the bridge. */
  private refusal?: string;
  private credentialsSaid = false;

  /** mqtt is loaded when the bridge connects, so the other commands never load it. */
  static async open(settings: BrokerSettings, events: BrokerEvents): Promise<BrokerPublisher> {
    const { connect } = await import('mqtt');
    return new BrokerPublisher(connect(settings.url, settings.options), brokerLabel(settings.url), events);
  }

  private constructor(
    private readonly client: MqttClient,
    private readonly label: string,
    private readonly events: BrokerEvents,
  ) {
    this.client.on('connect', () => {
      this.lastError = undefined;
      this.refusal = undefined;
      this.refusals = 0;
      this.credentialsSaid = false;
      this.client.options.reconnectPeriod = RETRY_MS;
      this.events.onState?.('connected');
      this.events.onConnect?.();
    });
    // Errors (refused, unreachable, a certificate not trusted) are reported with the close that follows them.
    this.client.on('error', (e) => {
      this.lastError = describeError(e);
      const refused = refusalOf(e);
      if (!refused) {
        this.refusal = undefined;
        return;
      }
      // The broker is there and says no: asking every 2 s changes nothing, so wait longer each time (up to a
      // minute), in case its user list changes. mqtt.js reads the period when it schedules the next try.
      this.refusals += 1;
      const wait = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** (this.refusals - 1));
      this.client.options.reconnectPeriod = wait;
      const next = `next try in ${wait / 1000} s`;
      if (refused.credentials) {
        this.refusal = `refuses the user name and password (${this.lastError}); ${next}`;
        if (!this.credentialsSaid) {
          this.credentialsSaid = true;
          this.events.warn?.(
            `bridge: the broker ${this.label} refuses the user name and password (${this.lastError}). Check --username and --password ` +
              "(or $BMW_CARDATA_BROKER_PASSWORD) and the broker's user list; the bridge tries again, less often each time, then once a minute.",
          );
        }
      } else {
        this.refusal = `refuses the connection (${this.lastError}); ${next}`;
      }
    });
    this.client.on('close', () => {
      if (!this.closing) this.events.onState?.(this.refusal ?? (this.lastError ? `reconnecting (${this.lastError})` : 'reconnecting'));
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  publish(p: Publication, done?: (error?: Error) => void): void {
    // QoS 1: kept by mqtt.js through reconnects until the broker acknowledges it, then `done`.
    this.client.publish(p.topic, p.payload, { qos: p.qos, retain: p.retain }, (e) => done?.(e ?? undefined));
  }

  close(last?: Publication): Promise<void> {
    this.closing = true;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.end(true);
        resolve();
      }, 3_000);
      if (this.client.connected && last) this.publish(last);
      // end(false) waits for the publications in flight (the offline status among them).
      this.client.end(!this.client.connected, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Resolves once connected; rejects after `ms`, or at once when the broker refuses the user name and password. */
  waitConnected(ms: number): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (e?: CarDataError): void => {
        clearTimeout(timer);
        this.client.removeListener('connect', connected);
        this.client.removeListener('error', failed);
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new CarDataError({ kind: 'network', message: `bridge: cannot reach the broker${this.lastError ? `: ${this.lastError}` : ''}` })),
        ms,
      );
      const connected = (): void => finish();
      const failed = (e: unknown): void => {
        if (!refusalOf(e)?.credentials) return;
        finish(
          new CarDataError({
            kind: 'auth',
            message: `bridge: the broker ${this.label} refuses the user name and password (${describeError(e)})`,
            hint: 'Check --username and --password.',
          }),
        );
      };
      this.client.once('connect', connected);
      this.client.on('error', failed);
    });
  }
}

interface BrokerEvents {
  onConnect?: () => void;
  onState?: (state: string) => void;
  warn?: (message: string) => void;
}

/** --dry-run: one JSON line per publication on standard output. */
class PrintPublisher implements Publisher {
  readonly connected = true;
  constructor(private readonly out: NodeJS.WritableStream) {}
  publish(p: Publication, done?: (error?: Error) => void): void {
    this.out.write(`${JSON.stringify({ topic: p.topic, payload: p.payload, retain: p.retain })}\n`);
    done?.();
  }
  close(last?: Publication): Promise<void> {
    if (last) this.publish(last);
    return Promise.resolve();
  }
}

/** One line on standard error: rewritten in place on a terminal, a new line on each change otherwise. */
class StatusLine {
  bmw = 'connecting';
  broker = 'connecting';
  relayed = 0;
  private printed = '';
  private printedCount = 0;
  private readonly tty: boolean;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly err: NodeJS.WritableStream,
    private readonly brokerName: string,
  ) {
    this.tty = Boolean((err as NodeJS.WriteStream).isTTY);
    // Off a terminal (a service's log), the count goes out at most once a minute.
    this.timer = setInterval(() => {
      if (this.relayed !== this.printedCount) this.show(true);
    }, 60_000);
    this.timer.unref();
  }

  private text(): string {
    return `BMW stream: ${this.bmw} · ${this.brokerName}: ${this.broker} · ${this.relayed} ${this.relayed === 1 ? 'message' : 'messages'} relayed`;
  }

  show(force = false): void {
    const states = `${this.bmw}|${this.broker}`;
    if (this.tty) {
      this.err.write(`\r\x1b[K${this.text()}`);
    } else if (force || states !== this.printed) {
      this.err.write(`${this.text()}\n`);
      this.printedCount = this.relayed;
    }
    this.printed = states;
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty) this.err.write('\n');
  }
}

function streamState(s: StreamStatus): string {
  switch (s.state) {
    case 'connected':
      return 'connected';
    case 'not-configured':
      return `not configured in the BMW portal (${s.error?.hint ?? ''})`.replace(' ()', '');
    case 'unauthorized':
      return `unauthorized: ${s.reason ?? ''}${s.error?.hint ? ` (${s.error.hint})` : ''}`;
    default:
      return s.reason ? `${s.state} (${s.reason})` : s.state;
  }
}

async function loadState(file: string, warn: (m: string) => void): Promise<BridgeState> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, live: { version: 1, vehicles: {} }, vehicles: {} };
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const saved = JSON.parse(text) as Partial<BridgeState>;
    const vehicles: Record<string, SavedVehicle> = {};
    const asText = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
    // A name that is not a VIN (kept by an older version) would become a broken topic on every start: dropped.
    const dropped = new Set<string>();
    const keep = (vin: string): boolean => isVin(vin) || (dropped.add(vin), false);
    for (const [vin, v] of Object.entries(saved.vehicles ?? {})) {
      if (v && typeof v === 'object' && keep(vin)) vehicles[vin] = { brand: asText(v.brand), model: asText(v.model), basicDataAt: asText(v.basicDataAt) };
    }
    const live = saved.live as { vehicles?: unknown } | undefined;
    if (live && typeof live.vehicles === 'object' && live.vehicles !== null) {
      live.vehicles = Object.fromEntries(Object.entries(live.vehicles).filter(([vin]) => keep(vin)));
    }
    for (const vin of dropped) warn(`bridge: dropping ${shown(vin)} from ${file}: not a VIN`);
    return { version: 1, live: restoreLiveDataState(saved.live), vehicles };
  } catch (e) {
    warn(`bridge: ignoring ${file} (${(e as Error).message}); starting without saved live data`);
    return { version: 1, live: { version: 1, vehicles: {} }, vehicles: {} };
  }
}

/** A name from the stream or a file, for a warning: quoted, short, control characters escaped. */
function shown(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}

/** The outbox of the bridge's events: beside its state file. */
function outboxFile(stateFile: string): string {
  return `${stateFile.replace(/\.json$/i, '')}.outbox.json`;
}

/** The log of the finished trips the bridge saw: beside its state file (bmw-cardata trips reads it). */
export function tripLogFile(stateFile: string): string {
  return `${stateFile.replace(/\.json$/i, '')}.trips.jsonl`;
}

/**
 * An event waiting in the outbox: its id, its car, its payload (JSON, with the id) and, for a trip event, its
 * sub-topic (a charging event has none: outboxes written before trips were published hold only those).
 */
interface PendingEvent {
  id: string;
  vin: string;
  payload: string;
  topic?: typeof SUBTOPICS.trip;
}

function isPendingEvent(e: Record<string, unknown>): boolean {
  return typeof e.payload === 'string' && isVin(e.vin) && (e.topic === undefined || e.topic === SUBTOPICS.trip);
}

function vinList(values: Values): string[] {
  const text = str(values, 'vin');
  if (!text) return [];
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .filter(Boolean)
        .map((v) => checkVin(v)),
    ),
  ];
}

/** The charging history's page size at BMW: a page is one call. */
const SESSIONS_PER_PAGE = 25;

/** --import-history: its range in days (a month taken as 30.5 days); undefined without the option. */
function importHistoryDays(values: Values): number | undefined {
  const text = str(values, 'import-history');
  if (text === undefined) return undefined;
  const m = /^\s*(\d{1,3})\s*([dm])\s*$/i.exec(text);
  const days = m ? (m[2].toLowerCase() === 'm' ? Math.round(Number(m[1]) * 30.5) : Number(m[1])) : NaN;
  if (!(days >= 1 && days <= 732))
    throw bad(`--import-history ${JSON.stringify(text)}: give months (1m to 24m) or days (1d to 730d)`, 'For example --import-history 12m');
  return days;
}

function topicOption(values: Values, name: string, fallback: string): string {
  const value = str(values, name) ?? fallback;
  const problem = checkPrefix(value);
  if (problem) throw bad(`--${name} ${problem}`);
  return value;
}

/** Resolves on the first SIGTERM or SIGINT (a second one ends the process the usual way). */
function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.removeListener('SIGTERM', done);
      process.removeListener('SIGINT', done);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}

/** Runs the bridge until SIGTERM or SIGINT (or, with --ha-discovery-remove, removes the configs and returns). */
export async function runBridge(ctx: BridgeContext): Promise<void> {
  const { values, stderr } = ctx;
  const prefix = topicOption(values, 'prefix', DEFAULT_PREFIX);
  const discoveryPrefix = topicOption(values, 'ha-prefix', DEFAULT_DISCOVERY_PREFIX);
  const vins = vinList(values);
  const dryRun = Boolean(values['dry-run']);
  const stateFile = str(values, 'state') ?? path.join(path.dirname(ctx.configFile), 'bridge-state.json');
  const warn = (m: string): void => void stderr.write(`${m}\n`);
  const saved = await loadState(stateFile, warn);
  const wanted = (vin: string): boolean => vins.length === 0 || vins.includes(vin);
  const tariff = await tariffOf(ctx);
  const currency = tariff?.currency;
  const importDays = importHistoryDays(values);

  if (values['ha-discovery-remove']) {
    const announced = vins.length > 0 ? vins : [...new Set([...Object.keys(saved.vehicles), ...Object.keys(saved.live.vehicles)])];
    return removeDiscovery(ctx, { prefix, discoveryPrefix, dryRun, vins: announced, currency });
  }

  // Everything that can be refused is checked before anything connects.
  const settings = dryRun ? undefined : brokerSettings(values, prefix, true);
  const account = ctx.openAccount();
  const streamUrl = ctx.streamUrl();
  if (!account.tokens.current()?.gcid) {
    throw new CarDataError({
      kind: 'auth',
      message: 'bridge: the saved login has no stream access (no GCID)',
      hint: 'Run: bmw-cardata login --client-id <your client ID>',
    });
  }
  const stop = stopSignal();
  // Events wait on disk until the broker has them (in memory only for --dry-run, which writes nothing).
  const outbox = await FileOutbox.open<PendingEvent>({
    file: dryRun ? undefined : outboxFile(stateFile),
    warn: (m) => warn(`bridge: ${m}`),
    accept: isPendingEvent,
  });
  // The finished trips, logged before they are announced (read for the last trip of each car, never written by --dry-run).
  const tripLog = await TripLog.open({ file: tripLogFile(stateFile), readOnly: dryRun, warn: (m) => warn(`bridge: ${m}`) });
  // Core's live feed, as for the Node-RED node and the n8n trigger: each message's readings into the live data, every
  // change saved at once, a finish or a month's end on its timer. The bridge's topics and outbox are its subscriber.
  const feed = createLiveFeed({
    saved: saved.live,
    tariff,
    vins,
    timers: nodeTimers,
    saveAfterMs: 0,
    // The state is taken when it is written, after the outbox's writes (as for the cars' names from basic data).
    save: () => save(),
    subscriber: { beforeSave: (u) => persist(u), afterSave: (u) => relay(u) },
    onProblem: (m) => warn(`bridge: ${m}`),
  });
  const live = feed.live;
  const info = saved.vehicles;
  const haDiscovery = Boolean(values['ha-discovery']);
  const version = packageVersion();
  const status = new StatusLine(stderr, settings ? `broker ${brokerLabel(settings.url)}` : 'broker');

  /** What the broker holds from this connection: topic -> payload. Cleared on every (re)connect. */
  const published = new Map<string, string>();
  /** The cars to publish: the chosen VINs, the saved ones, and every one the stream brings. */
  const known = new Set<string>([...vins, ...live.vins().filter(wanted)]);
  const fetching = new Map<string, Promise<void>>();
  /** Names from the stream that are not VINs, each said once (up to a hundred of them). */
  const notVins = new Set<string>();
  /** Events handed to the broker's client and not yet acknowledged: mqtt.js sends them again after a reconnect. */
  const inFlight = new Set<string>();
  let publisher: Publisher | undefined;

  const send = (p: Publication): void => publisher?.publish(p);
  /** Sends what waits in the outbox, oldest first; each event leaves it when the broker acknowledged it. */
  const deliver = (): void => {
    if (!publisher?.connected) return;
    for (const e of outbox.pending()) {
      if (inFlight.has(e.id)) continue;
      inFlight.add(e.id);
      publisher.publish({ topic: vehicleTopic(prefix, e.vin, e.topic ?? SUBTOPICS.event), payload: e.payload, retain: false, qos: 1 }, (error) => {
        inFlight.delete(e.id);
        if (!error) outbox.remove(e.id);
      });
    }
  };
  const syncVehicle = (vin: string): void => {
    const record = live.vehicle(vin);
    if (!record || !publisher?.connected) return;
    const last = tripLog.last(vin);
    for (const [topic, payload] of retainedTopics(prefix, record, { lastTrip: last ? JSON.stringify(last) : undefined })) {
      if (published.get(topic) === payload) continue;
      published.set(topic, payload);
      send({ topic, payload, retain: true, qos: 0 });
    }
  };
  const announce = (vin: string): void => {
    if (!haDiscovery || !publisher?.connected) return;
    if (!info[vin]) {
      // Remembered, so that --ha-discovery-remove finds it even if it never sent data.
      info[vin] = {};
      void save();
    }
    for (const d of discoveryConfigs({ prefix, discoveryPrefix, vin, info: info[vin], version, currency })) {
      send({ topic: d.topic, payload: JSON.stringify(d.config), retain: true, qos: 1 });
    }
  };
  const onBrokerConnect = (): void => {
    published.clear();
    send({ topic: statusTopic(prefix), payload: 'online', retain: true, qos: 1 });
    // What waited (from before a restart, or through the outage) goes before anything new.
    deliver();
    for (const vin of known) {
      if (!fetching.has(vin)) announce(vin);
      syncVehicle(vin);
    }
  };

  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    if (dryRun) return Promise.resolve();
    const write = async (): Promise<void> => {
      // The state never says an event happened before the event is on disk: the outbox's writes come first, and
      // the state is taken right after them, before another message can be handled.
      while (outbox.busy) await outbox.settled();
      await writePrivateJson(stateFile, { version: 1, live: live.serialize(), vehicles: info } satisfies BridgeState);
    };
    saving = saving.then(write, write);
    return saving.catch((e: unknown) => warn(`bridge: cannot save ${stateFile}: ${describeError(e)}`));
  };

  // Home Assistant's device model comes from basic data: one call per car, once (kept in the state file).
  const learn = (vin: string): Promise<void> => {
    const pending = fetching.get(vin);
    if (pending) return pending;
    if (!haDiscovery || dryRun || info[vin]?.basicDataAt) return Promise.resolve();
    const p = account.client
      .getBasicData(vin)
      .then(
        (data) => {
          info[vin] = { brand: data.brand || undefined, model: data.modelName || undefined, basicDataAt: new Date().toISOString() };
          return save();
        },
        (e: unknown) => warn(`bridge: no basic data for ${vin} (${describeError(e)}); Home Assistant shows it without a model`),
      )
      .finally(() => fetching.delete(vin));
    fetching.set(vin, p);
    return p;
  };

  /**
   * A finished trip goes to the trip log, and its events to the outbox (both on disk), before the state that says
   * they happened is saved: a crash at any moment can send an event twice (with the same id, logged once), never lose it.
   */
  const persist = async (u: LiveUpdate): Promise<void> => {
    const finished = u.trips.filter((e): e is TripFinishedEvent => e.kind === 'trip-finished').map((e): LoggedTrip => ({ id: eventId(e), ...e }));
    if (finished.length > 0)
      await tripLog.append(finished).catch((e: unknown) => warn(`bridge: cannot log the trip in ${tripLogFile(stateFile)}: ${describeError(e)}`));
    const events = [
      ...u.events.map((e): PendingEvent => ({ id: eventId(e), vin: u.vin, payload: eventPayload(e) })),
      ...u.trips.map((e): PendingEvent => ({ id: eventId(e), vin: u.vin, payload: eventPayload(e), topic: SUBTOPICS.trip })),
    ];
    if (events.length > 0)
      await outbox.add(events).catch((e: unknown) => warn(`bridge: cannot save the events in ${outboxFile(stateFile)}: ${describeError(e)}`));
  };

  /** Once the state is saved: a new car is announced, the car's retained topics and the waiting events go out. */
  const relay = (u: LiveUpdate): void => {
    if (!known.has(u.vin)) {
      known.add(u.vin);
      void learn(u.vin).then(() => announce(u.vin));
      void importHistory(u.vin);
    }
    syncVehicle(u.vin);
    deliver();
  };

  // --import-history: the charging history read over REST, added to the energy counter once per car (the live
  // state remembers it). It costs a call per page; it is said before, and never spends the calls kept in reserve.
  const importing = new Map<string, Promise<void>>();
  const importHistory = (vin: string): Promise<void> => {
    if (importDays === undefined || importing.has(vin) || live.vehicle(vin)?.ledger?.historyImportedAt) return importing.get(vin) ?? Promise.resolve();
    const p = readHistory(vin).catch((e: unknown) =>
      warn(`bridge: ${vin}: the charging history is not imported (${describeError(e)}); it is tried again at the next start`),
    );
    importing.set(vin, p);
    return p;
  };
  const readHistory = async (vin: string): Promise<void> => {
    const days = importDays as number;
    const to = new Date();
    const from = new Date(to.getTime() - days * 86_400_000);
    const range = `${from.toISOString().slice(0, 10)} to ${to.toISOString().slice(0, 10)}`;
    if (dryRun) return warn(`bridge: ${vin}: --dry-run reads no charging history (${range}) and saves no energy counter`);
    // A car charging once a day fills a page of 25 sessions in 25 days: the calls asked for up front.
    const expected = Math.max(1, Math.ceil(days / SESSIONS_PER_PAGE));
    const q = await account.client.quotaState();
    const reserve = account.quota.reserve;
    const free = q ? Math.max(0, q.limit - reserve - q.used) : account.quota.limit - reserve;
    const quotaText = q
      ? `${q.remaining} of the day's ${q.limit} calls left, ${reserve} kept in reserve`
      : `${account.quota.limit} calls a day, ${reserve} kept in reserve`;
    if (free < expected) {
      warn(
        `bridge: ${vin}: the charging history of ${range} is not imported: it may cost ${expected} calls (1 per page of ${SESSIONS_PER_PAGE} sessions), and only ${free} are left today before the reserve (${quotaText}); it is tried again at the next start, or give a shorter --import-history`,
      );
      return;
    }
    warn(
      `bridge: ${vin}: importing the charging history of ${range} into the energy counter: 1 call per page of ${SESSIONS_PER_PAGE} sessions, about ${expected} if the car charged every day (${quotaText})`,
    );
    let pages = 0;
    const sessions = await account.client
      .forRun({ attended: false })
      .paginate('getChargingHistory', { vin, from: from.toISOString(), to: to.toISOString() }, { onPage: (page) => void (pages = page.pages), maxAgeMs: 0 });
    // Counted in turn with the stream's messages, so that a charge finishing meanwhile is seen by one or the other;
    // saved, and the car's topics published, before the next message.
    const result = await feed
      .importChargingHistory(vin, sessions)
      .catch((e: unknown) => void warn(`bridge: ${vin}: the charging history is not imported (${describeError(e)})`));
    if (!result || result.alreadyImported) return;
    warn(
      `bridge: ${vin}: imported the charging history of ${range} (${pages} ${pages === 1 ? 'call' : 'calls'}): ${result.counted} sessions, ${result.kwh} kWh added, ` +
        `${result.skipped} left out (counted already, overlapping, or unfinished); energy counter ${result.energyCounterKwh} kWh`,
    );
  };

  await Promise.all([...known].map(learn));

  if (settings) {
    publisher = await BrokerPublisher.open(settings, {
      onConnect: onBrokerConnect,
      onState: (s) => {
        status.broker = s;
        status.show();
      },
      warn,
    });
  } else {
    publisher = new PrintPublisher(ctx.stdout);
    status.broker = 'dry run, printing to standard output';
    onBrokerConnect();
  }

  const stream = subscribeStream(account.tokens, {
    url: streamUrl,
    vins,
    onState: (s) => {
      status.bmw = streamState(s);
      status.show();
    },
    onMessage: (m) => {
      // The VIN becomes a topic level and a key of the saved state: a wildcard or a slash in it would make the
      // broker drop the bridge, or give Home Assistant broken topics, again after every restart.
      if (!isVin(m.vin)) {
        if (!notVins.has(m.vin) && notVins.size < 100) {
          notVins.add(m.vin);
          warn(`bridge: skipping the messages of ${shown(m.vin)}: not a VIN`);
        }
        return;
      }
      status.relayed += 1;
      if (status.relayed === 1) status.show(true);
      void feed.push(m);
    },
    onError: (e) => warn(`bridge: ${e.message}`),
  });
  for (const vin of known) void importHistory(vin);

  await stop;
  // Clean shutdown: no more timers or messages, the last ones handled and saved, "offline", both connections closed;
  // the events the broker did not acknowledge stay in the outbox for the next start.
  void feed.close();
  await stream.close();
  await feed.flush();
  await Promise.all([...fetching.values(), ...importing.values()]);
  await feed.flush();
  await save();
  await publisher.close({ topic: statusTopic(prefix), payload: 'offline', retain: true, qos: 1 });
  await outbox.settled();
  await tripLog.settled();
  status.bmw = 'closed';
  status.broker = 'closed';
  status.show(true);
  status.stop();
}

/** The tariff of --tariff, else of the account file; none when neither has one. An unreadable one is refused. */
async function tariffOf(ctx: BridgeContext): Promise<Tariff | undefined> {
  const given = str(ctx.values, 'tariff');
  if (given !== undefined) return readTariff(given, 'bridge: --tariff');
  return readTariff((await readConfig(ctx.configFile)).tariff, `bridge: the "tariff" of ${ctx.configFile}`);
}

async function removeDiscovery(
  ctx: BridgeContext,
  opts: { prefix: string; discoveryPrefix: string; dryRun: boolean; vins: string[]; currency?: string },
): Promise<void> {
  if (opts.vins.length === 0) throw bad('no vehicles known to remove; give them with --vin');
  const removals = opts.vins.flatMap((vin) =>
    discoveryConfigs({ prefix: opts.prefix, discoveryPrefix: opts.discoveryPrefix, vin, currency: opts.currency }).map((d) => d.topic),
  );
  let publisher: Publisher;
  if (opts.dryRun) publisher = new PrintPublisher(ctx.stdout);
  else {
    const broker = await BrokerPublisher.open(brokerSettings(ctx.values, opts.prefix, false), {});
    try {
      await broker.waitConnected(15_000);
    } catch (e) {
      await broker.close();
      throw e;
    }
    publisher = broker;
  }
  // An empty retained config removes the entity (and the device with its last entity) from Home Assistant.
  for (const topic of removals) publisher.publish({ topic, payload: '', retain: true, qos: 1 });
  await publisher.close();
  ctx.stderr.write(`removed ${removals.length} Home Assistant discovery configs of ${opts.vins.join(', ')}\n`);
}
