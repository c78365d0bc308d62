import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { isDeadLogin } from './device-flow';
import { CarDataError } from './errors';
import { DEFAULT_STREAM_URL } from './stream-defaults';
import {
  compileFilter,
  filterStreamMessage,
  normalizeStreamMessage,
  parseStreamPayload,
  ReadingDeduplicator,
  type CompiledFilter,
  type StreamEvent,
  type StreamFilter,
  type StreamMessage,
} from './stream-message';
import type { TokenSet } from './types';
import { checkVin } from './validation';

// CarData streaming: one MQTT connection per account and process, shared by every subscriber.
// BMW allows a single stream connection per account; the password is the id_token, which lasts an hour, so the
// connection is renewed with a fresh id_token shortly before it expires.
// Whatever goes wrong on the way (the login service, the network, the broker refusing a login it should accept)
// is retried with backoff; only a login BMW refuses for good (the refresh token is dead) stops the stream.

export { DEFAULT_STREAM_URL };

export const STREAM_PORTAL_HINT =
  "In the BMW CarData portal, open 'Configure data stream', pick the data keys, save. Data then flows when the car sends it.";

/**
 * - `connecting`: first connection attempt under way.
 * - `connected`: logged in and subscribed; messages flow when the car sends them.
 * - `reconnecting`: the connection dropped, is being renewed, or an attempt failed; it is retried by itself
 *   (with backoff); `reason` and `error` say why.
 * - `not-configured`: BMW refused the subscription (no stream configured in the portal); looked at again later.
 * - `unauthorized`: the login is gone for good (BMW refused the refresh token, or the account has no login). The
 *   stream has stopped until the account is authorized again and `retry()` is called or a subscriber joins.
 * - `closed`: no subscribers left, or closed on purpose.
 */
export type StreamState = 'connecting' | 'connected' | 'reconnecting' | 'not-configured' | 'unauthorized' | 'closed';

export type StreamErrorCode = 'not-configured' | 'unauthorized' | 'no-login' | 'refresh-failed' | 'connection';

/** A stream problem: a CarDataError whose `code` is one of StreamErrorCode. */
export class StreamError extends CarDataError {
  readonly streamCode: StreamErrorCode;
  /** The MQTT return / reason code involved, if any (5 or 0x87: not authorized, 0x80: subscription refused). */
  readonly reasonCode?: number;

  constructor(init: {
    streamCode: StreamErrorCode;
    message: string;
    hint?: string;
    reasonCode?: number;
    kind?: 'bmw' | 'auth' | 'network';
    /** Default: only `connection` problems are retried. */
    retryable?: boolean;
    cause?: unknown;
  }) {
    super({ kind: init.kind ?? 'bmw', message: init.message, hint: init.hint, retryable: init.retryable ?? init.streamCode === 'connection', cause: init.cause });
    this.name = 'StreamError';
    this.streamCode = init.streamCode;
    this.reasonCode = init.reasonCode;
  }

  override get code(): string {
    return this.streamCode;
  }
}

export interface StreamStatus {
  state: StreamState;
  /** Plain words for status lines (never a token). */
  reason?: string;
  error?: StreamError;
  /** Clock time of the change. */
  at: number;
  /** Topics currently subscribed (`<gcid>/+` or `<gcid>/<VIN>`). */
  topics: string[];
}

/** What the stream needs from a login: the current tokens (id_token + gcid) and a refresh. `TokenManager` fits. */
export interface StreamTokenSource {
  current(): TokenSet | undefined;
  refresh(): Promise<TokenSet>;
}

export interface StreamTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Connection settings. The first subscriber of an account decides them; later subscribers share them. */
export interface StreamConnectionOptions {
  /** `mqtts://host:port` (TLS) or `mqtt://host:port`. Default: BMW's broker. */
  url?: string;
  /** Renew the connection this long before the id_token expires. Default 5 min. */
  refreshMarginMs?: number;
  /** Reconnect backoff: first delay and cap (jittered, doubling). Default 2 s and 60 s. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** A connection that stayed up at least this long resets the backoff. Default 60 s. */
  stableAfterMs?: number;
  /** Default 30 s. */
  keepaliveSec?: number;
  /** Default 30 s. */
  connectTimeoutMs?: number;
  /** After "not configured", look again this late (0 = only when asked). Default 15 min. */
  notConfiguredRetryMs?: number;
  /** Verify the broker's TLS certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** The clock, the jitter source and the timers of renewals and reconnects (tests drive them). Default: the real ones. */
  now?: () => number;
  random?: () => number;
  timers?: StreamTimers;
}

export interface StreamSubscribeOptions extends StreamFilter, StreamConnectionOptions {
  /** One call per descriptor that passes the filter. */
  onEvent?: (event: StreamEvent) => void;
  /**
   * BMW sends some readings more than once: with this, onEvent is not called again for a reading that repeats the
   * last one of its VIN and descriptor (same value and timestamp). onMessage is not affected. Default false.
   */
  deduplicate?: boolean;
  /** One call per BMW message that has at least one descriptor passing the filter. */
  onMessage?: (message: StreamMessage) => void;
  /** Every state change of the shared connection, and the current state right away. */
  onState?: (status: StreamStatus) => void;
  /** A message that could not be read (not JSON). The stream goes on. */
  onError?: (error: Error) => void;
}

export interface StreamSubscription {
  readonly status: StreamStatus;
  /** Leaves the stream; the connection closes with its last subscriber. */
  close(): Promise<void>;
  /** Resolves when the shared connection reaches `state` (now, if it is there already). */
  waitFor(state: StreamState, timeoutMs?: number): Promise<StreamStatus>;
  /** Connects again at once (after "not configured" or "unauthorized", once the cause is fixed). */
  retry(): void;
}

interface Subscriber {
  filter: CompiledFilter;
  tokens: StreamTokenSource;
  opts: StreamSubscribeOptions;
  waiters: Set<(s: StreamStatus) => void>;
  dedupe?: ReadingDeduplicator;
}

/** CONNACK codes of a refused login: bad user name or password, not authorized (3.1.1 and 5). */
const AUTH_CODES = new Set([4, 5, 0x86, 0x87]);
const SUBSCRIPTION_REFUSED = 0x80;
const RENEW_HINT = "If this goes on, check that the client ID is subscribed to 'CarData Stream' in the BMW CarData portal, then authorize the account again.";
const realTimers: StreamTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** True when a SUBACK refused a topic (0x80 and up): BMW's answer when no stream is configured. */
function subscriptionRefused(err: Error | null, packet?: unknown): boolean {
  const suback = (packet ?? (err as { packet?: unknown } | null)?.packet) as { granted?: unknown[] } | undefined;
  const codes = (suback?.granted ?? []).map((g) => (typeof g === 'number' ? g : (g as { qos?: number }).qos ?? 0));
  return codes.some((c) => (c & 0x80) !== 0) || (err as { code?: unknown } | null)?.code === 128;
}

function describe(err: unknown): string {
  if (err instanceof CarDataError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

/** One shared MQTT connection of one account to one broker. */
class StreamConnection {
  private readonly subs = new Set<Subscriber>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly timers: StreamTimers;
  private readonly margin: number;
  private readonly backoffMin: number;
  private readonly backoffMax: number;
  private readonly stableAfter: number;
  private statusValue: StreamStatus;
  private client?: MqttClient;
  /** The token set the current client logged in with. */
  private clientTokens?: TokenSet;
  /** Increases with every connection attempt; events of older clients are ignored. */
  private generation = 0;
  private attempt = 0;
  private timer?: unknown;
  private renewTimer?: unknown;
  private subscribedAt = 0;
  private topics = new Set<string>();
  private lastError?: string;
  /** The CONNACK code with which the broker refused the current client's login, if it did. */
  private loginRefusal?: number;
  /** An id_token the broker refused: never offered again, the next attempt refreshes first (no expiry margin). */
  private rejectedIdToken?: string;
  /** Refusals (login or subscription) in a row since the broker last accepted a subscription. */
  private refusals = 0;
  /** The broker accepted a subscription since this connection was made or retry() was called. */
  private subscribedOnce = false;
  private closing?: Promise<void>;
  private syncing = false;
  private resyncNeeded = false;

  constructor(
    readonly key: string,
    readonly gcid: string,
    readonly url: string,
    private readonly options: StreamConnectionOptions,
    private readonly onEmpty: (conn: StreamConnection) => void,
    private readonly after?: Promise<void>,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? realTimers;
    this.margin = options.refreshMarginMs ?? 5 * 60_000;
    this.backoffMin = options.backoffMinMs ?? 2_000;
    this.backoffMax = Math.max(options.backoffMaxMs ?? 60_000, this.backoffMin);
    this.stableAfter = options.stableAfterMs ?? 60_000;
    this.statusValue = { state: 'connecting', at: this.now(), topics: [] };
  }

  get status(): StreamStatus {
    return { ...this.statusValue, topics: [...this.topics] };
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  add(sub: Subscriber): void {
    const first = this.subs.size === 0 && !this.client && this.timer === undefined;
    this.subs.add(sub);
    try {
      sub.opts.onState?.(this.status);
    } catch {
      // As in setStatus: a host's status handler must not break the connection (nor leave it without a closer).
    }
    if (first) {
      if (this.after) void this.after.then(() => this.open());
      else void this.open();
    } else if (this.statusValue.state === 'not-configured' || this.statusValue.state === 'unauthorized') {
      // A new subscriber (a redeploy, a re-activated workflow) is the moment to look again.
      this.retry();
    } else {
      this.syncTopics();
    }
  }

  async remove(sub: Subscriber): Promise<void> {
    if (!this.subs.delete(sub)) return this.closing;
    if (this.subs.size > 0) {
      this.syncTopics();
      return;
    }
    this.onEmpty(this);
    this.closing = this.shutdown();
    return this.closing;
  }

  retry(): void {
    if (this.subs.size === 0) return;
    this.attempt = 0;
    this.refusals = 0;
    this.subscribedOnce = false;
    this.clearTimer();
    void this.open();
  }

  private tokens(): StreamTokenSource {
    let last: Subscriber | undefined;
    for (const s of this.subs) last = s;
    if (!last) throw new Error('stream without subscribers');
    return last.tokens;
  }

  private setStatus(state: StreamState, reason?: string, error?: StreamError): void {
    this.statusValue = { state, reason, error, at: this.now(), topics: [...this.topics] };
    const snapshot = this.status;
    for (const s of [...this.subs]) {
      try {
        s.opts.onState?.(snapshot);
      } catch {
        // A host's status handler must not break the connection.
      }
      for (const w of [...s.waiters]) w(snapshot);
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private clearRenewTimer(): void {
    if (this.renewTimer !== undefined) this.timers.clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
  }

  private schedule(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      fn();
    }, Math.max(0, ms));
  }

  /** The topics the subscribers need: `<gcid>/+` if anyone wants every VIN, else one topic per VIN. */
  private desiredTopics(): Set<string> {
    const out = new Set<string>();
    for (const s of this.subs) {
      if (s.filter.allVins) return new Set([`${this.gcid}/+`]);
      for (const v of s.filter.vins) out.add(`${this.gcid}/${v}`);
    }
    return out;
  }

  /** The next reconnect delay: doubling from the minimum up to the maximum, each drawn from its upper half. */
  private backoffDelay(): number {
    const base = Math.min(this.backoffMax, this.backoffMin * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  /** A connection that stayed up long enough starts the backoff from the beginning again. */
  private resetBackoffIfStable(): void {
    if (this.subscribedAt && this.now() - this.subscribedAt >= this.stableAfter) this.attempt = 0;
  }

  /**
   * The token set to log in with: the current one while its id_token is good for longer than the margin, was not
   * refused by the broker and is not the one being `replacing`, else a refreshed one. With `orCurrent`, a failed
   * refresh falls back to a current id_token that is still valid and was not refused (a login-service hiccup need
   * not stop a reconnect).
   */
  private async loginTokens(opts: { orCurrent: boolean; replacing?: string }): Promise<TokenSet> {
    const { orCurrent, replacing } = opts;
    const source = this.tokens();
    const current = source.current();
    const valid = !!current?.idToken && !!current.gcid && current.idToken !== this.rejectedIdToken;
    const usable = valid && current.idToken !== replacing;
    if (usable && current.expiresAt - this.margin > this.now()) return current;
    if (!current?.refreshToken) throw this.noLogin();
    let fresh: TokenSet;
    try {
      fresh = await source.refresh();
    } catch (e) {
      if (orCurrent && valid && !isDeadLogin(e) && current.expiresAt - 5_000 > this.now()) return current;
      throw e;
    }
    if (!fresh.idToken || !fresh.gcid) throw this.noLogin();
    return fresh;
  }

  private noLogin(): StreamError {
    return new StreamError({
      streamCode: 'no-login',
      kind: 'auth',
      message: 'The account has no stream login (id_token and GCID)',
      hint: 'Authorize the account again with the scopes openid and cardata:streaming:read.',
    });
  }

  private async open(reason?: string): Promise<void> {
    if (this.subs.size === 0) return;
    const gen = ++this.generation;
    this.clearTimer();
    this.clearRenewTimer();
    this.dropClient();
    const next = reason ?? 'connecting again';
    const st = this.statusValue;
    if (st.state !== 'connecting' && !(st.state === 'reconnecting' && st.reason === next)) this.setStatus('reconnecting', next);

    let tokens: TokenSet;
    try {
      tokens = await this.loginTokens({ orCurrent: true });
    } catch (e) {
      if (gen !== this.generation || this.subs.size === 0) return;
      this.loginFailed(e);
      return;
    }
    if (gen !== this.generation || this.subs.size === 0) return;
    if (tokens.gcid !== this.gcid) {
      this.stop(new StreamError({ streamCode: 'unauthorized', kind: 'auth', message: 'The login belongs to another BMW account than this stream', hint: 'Use one account node per BMW account.' }));
      return;
    }

    const opts: IClientOptions = {
      protocolVersion: 4,
      clean: true,
      clientId: `cardata-${this.gcid}`,
      username: this.gcid,
      password: tokens.idToken,
      keepalive: this.options.keepaliveSec ?? 30,
      connectTimeout: this.options.connectTimeoutMs ?? 30_000,
      reconnectPeriod: 0,
      resubscribe: false,
      rejectUnauthorized: this.options.rejectUnauthorized ?? true,
    };
    this.loginRefusal = undefined;
    this.lastError = undefined;
    let client: MqttClient;
    try {
      client = mqttConnect(this.url, opts);
    } catch (e) {
      this.setStatus('reconnecting', describe(e), new StreamError({ streamCode: 'connection', kind: 'network', message: `Cannot open the stream: ${describe(e)}`, cause: e }));
      this.schedule(this.backoffDelay(), () => void this.open());
      return;
    }
    this.client = client;
    this.clientTokens = tokens;
    client.on('connect', () => {
      if (gen !== this.generation) return;
      this.topics = new Set();
      this.subscribe(gen, client, [...this.desiredTopics()], tokens);
    });
    client.on('message', (topic, payload) => {
      if (gen === this.generation) this.dispatch(topic, payload);
    });
    client.on('error', (err) => {
      if (gen !== this.generation) return;
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && AUTH_CODES.has(code)) this.loginRefusal = code;
      this.lastError = describe(err);
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      this.client = undefined;
      client.removeAllListeners();
      client.on('error', () => undefined);
      this.onClosed(tokens);
    });
  }

  private subscribe(gen: number, client: MqttClient, topics: string[], tokens: TokenSet): void {
    if (topics.length === 0) return;
    client.subscribe(topics, { qos: 1 }, (err, _granted, packet) => {
      if (gen !== this.generation) return;
      if (subscriptionRefused(err ?? null, packet)) {
        this.subscriptionRefused(tokens);
        return;
      }
      if (err) {
        // The client closes itself on other subscribe errors; the close handler reconnects.
        this.lastError = describe(err);
        return;
      }
      const first = this.statusValue.state !== 'connected';
      for (const t of topics) this.topics.add(t);
      if (first) {
        this.subscribedAt = this.now();
        this.scheduleRenewal(tokens.expiresAt);
      }
      this.refusals = 0;
      this.subscribedOnce = true;
      this.setStatus('connected');
      this.syncTopics();
    });
  }

  /** Brings the broker subscriptions in line with the subscribers (after one joined or left). */
  private syncTopics(): void {
    const client = this.client;
    if (!client || this.statusValue.state !== 'connected') return;
    if (this.syncing) {
      this.resyncNeeded = true;
      return;
    }
    const desired = this.desiredTopics();
    const add = [...desired].filter((t) => !this.topics.has(t));
    const drop = [...this.topics].filter((t) => !desired.has(t));
    if (add.length === 0 && drop.length === 0) return;
    const gen = this.generation;
    const tokens = this.clientTokens;
    this.syncing = true;
    const finish = (): void => {
      this.syncing = false;
      if (this.resyncNeeded) {
        this.resyncNeeded = false;
        this.syncTopics();
      }
    };
    const unsubscribe = (): void => {
      if (drop.length === 0 || gen !== this.generation) return finish();
      for (const t of drop) this.topics.delete(t);
      client.unsubscribe(drop, () => finish());
    };
    if (add.length === 0) return unsubscribe();
    client.subscribe(add, { qos: 1 }, (err, _granted, packet) => {
      if (gen !== this.generation) return finish();
      if (subscriptionRefused(err ?? null, packet)) {
        this.syncing = false;
        if (tokens) this.subscriptionRefused(tokens);
        return;
      }
      if (!err) for (const t of add) this.topics.add(t);
      unsubscribe();
    });
  }

  /** Forgets the current client: its events are ignored from now on, and it is closed. */
  private abandonClient(): void {
    this.generation++;
    this.clearRenewTimer();
    this.dropClient();
    this.topics = new Set();
    this.resetBackoffIfStable();
    this.subscribedAt = 0;
  }

  /**
   * SUBACK 0x80. BMW's answer when no stream is configured in the portal, but also seen right after an accepted
   * login in the nights when the broker refuses valid logins. So it counts as a refused login (drop the client,
   * refresh, try again) unless it comes again with a fresh login on a stream that never subscribed: not configured.
   */
  private subscriptionRefused(tokens: TokenSet): void {
    this.abandonClient();
    if (!this.subscribedOnce && this.refusals > 0) this.notConfigured();
    else this.refused(tokens, SUBSCRIPTION_REFUSED);
  }

  private notConfigured(): void {
    this.setStatus(
      'not-configured',
      'no data stream configured in the BMW CarData portal',
      new StreamError({
        streamCode: 'not-configured',
        reasonCode: SUBSCRIPTION_REFUSED,
        message: 'BMW refused the stream subscription (0x80): no data stream is configured for this account',
        hint: STREAM_PORTAL_HINT,
      }),
    );
    const later = this.options.notConfiguredRetryMs ?? 15 * 60_000;
    if (later > 0) this.schedule(later, () => void this.open('checking the stream configuration again'));
  }

  private scheduleRenewal(expiresAt: number): void {
    this.clearRenewTimer();
    const delay = Math.max(1_000, expiresAt - this.margin - this.now());
    this.renewTimer = this.timers.setTimeout(() => {
      this.renewTimer = undefined;
      void this.renew();
    }, delay);
  }

  /** Renews the login before the broker closes the connection at the id_token's expiry. */
  private async renew(): Promise<void> {
    const gen = this.generation;
    const client = this.client;
    try {
      // Refresh while still connected, so the switch-over is short (unless someone else refreshed already).
      await this.loginTokens({ orCurrent: false, replacing: this.clientTokens?.idToken });
    } catch (e) {
      if (gen !== this.generation) return;
      if (isDeadLogin(e)) {
        this.loginFailed(e);
        return;
      }
      // The current id_token is still valid for a while: try again later, staying connected. Should the broker
      // close the connection at its expiry first, the reconnect goes on trying.
      this.resetBackoffIfStable();
      this.renewTimer = this.timers.setTimeout(() => {
        this.renewTimer = undefined;
        void this.renew();
      }, this.backoffDelay());
      return;
    }
    if (gen !== this.generation || !client) return;
    this.setStatus('reconnecting', 'renewing the stream login');
    // Unsubscribing first lets the broker finish delivering what it already sent before the connection goes.
    const topics = [...this.topics];
    await new Promise<void>((resolve) => {
      const t = this.timers.setTimeout(resolve, 5_000);
      if (topics.length === 0 || !client.connected) return resolve();
      client.unsubscribe(topics, () => {
        this.timers.clearTimeout(t);
        resolve();
      });
    });
    if (gen !== this.generation) return;
    this.topics = new Set();
    void this.open('renewing the stream login');
  }

  /** The login could not be had: stop if BMW refused it for good, else try again after the backoff. */
  private loginFailed(e: unknown): void {
    if (isDeadLogin(e)) {
      // The refresh token is gone, or the account has no login: only authorizing the account again helps.
      this.stop(
        e instanceof StreamError
          ? e
          : new StreamError({
              streamCode: 'refresh-failed',
              kind: 'auth',
              message: `The stream login could not be renewed: ${describe(e)}`,
              hint: e instanceof CarDataError && e.hint ? e.hint : 'Authorize the account again.',
              cause: e,
            }),
      );
      return;
    }
    const err = new StreamError({
      streamCode: 'connection',
      kind: 'network',
      message: `The stream login could not be renewed: ${describe(e)}`,
      hint: e instanceof CarDataError && e.hint ? e.hint : 'Check the network; the stream retries by itself.',
      cause: e,
    });
    this.setStatus('reconnecting', err.message, err);
    this.schedule(this.backoffDelay(), () => void this.open(err.message));
  }

  /** Stops for good (until retry() or a new subscriber): the login is gone. */
  private stop(error: StreamError): void {
    this.abandonClient();
    this.clearTimer();
    this.setStatus('unauthorized', error.message, error);
  }

  /**
   * The broker refused a login (CONNACK 4 or 5, or SUBACK 0x80 right after it), also one whose id_token is still
   * valid, as BMW does in some nights. That id_token is not offered again: the next attempt refreshes first, at
   * once after the first refusal, then with backoff.
   */
  private refused(tokens: TokenSet, code: number): void {
    this.rejectedIdToken = tokens.idToken;
    const delay = this.refusals === 0 ? 0 : this.backoffDelay();
    this.refusals++;
    const subscription = code === SUBSCRIPTION_REFUSED;
    const what = subscription ? `BMW refused the stream subscription (0x80)` : `BMW refused the stream login (${code === 4 ? 'bad user name or password' : 'not authorized'})`;
    const error = new StreamError({
      streamCode: subscription ? 'not-configured' : 'unauthorized',
      kind: subscription ? 'bmw' : 'auth',
      reasonCode: code,
      retryable: true,
      message: what,
      hint: subscription ? STREAM_PORTAL_HINT : RENEW_HINT,
    });
    const reason = `${what}; trying again with a renewed login`;
    this.setStatus('reconnecting', reason, error);
    this.schedule(delay, () => void this.open(reason));
  }

  private onClosed(tokens: TokenSet): void {
    if (this.subs.size === 0) return;
    this.clearRenewTimer();
    this.topics = new Set();
    this.resetBackoffIfStable();
    this.subscribedAt = 0;

    if (this.loginRefusal !== undefined) {
      this.refused(tokens, this.loginRefusal);
      return;
    }

    // The broker closes the connection when the id_token expires: renew at once in that case.
    const expired = tokens.expiresAt - this.margin <= this.now();
    const reason = this.lastError ?? (expired ? 'the stream login expired' : 'the connection was closed by the broker');
    this.setStatus('reconnecting', reason, new StreamError({ streamCode: 'connection', kind: 'network', message: `Stream connection lost: ${reason}` }));
    this.schedule(expired ? 0 : this.backoffDelay(), () => void this.open(reason));
  }

  private dispatch(topic: string, payload: Buffer): void {
    const raw = parseStreamPayload(payload);
    if (!raw) {
      const err = new Error(`A stream message on ${topic} is not JSON; skipped`);
      for (const s of this.subs) s.opts.onError?.(err);
      return;
    }
    const events = normalizeStreamMessage(raw, topic);
    for (const s of [...this.subs]) {
      const message = filterStreamMessage(raw, topic, events, s.filter);
      if (!message) continue;
      try {
        s.opts.onMessage?.(message);
        if (s.opts.onEvent) for (const e of message.events) if (!s.dedupe || s.dedupe.pass(e)) s.opts.onEvent(e);
      } catch (e) {
        s.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  private dropClient(): void {
    const client = this.client;
    this.client = undefined;
    this.clientTokens = undefined;
    if (!client) return;
    client.removeAllListeners();
    client.on('error', () => undefined);
    // A connected client says goodbye (DISCONNECT); one still connecting is just dropped.
    client.end(!client.connected);
  }

  private async shutdown(): Promise<void> {
    this.generation++;
    this.clearTimer();
    this.clearRenewTimer();
    const client = this.client;
    this.client = undefined;
    this.topics = new Set();
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        const t = this.timers.setTimeout(() => {
          client.end(true);
          resolve();
        }, 2_000);
        client.end(false, {}, () => {
          this.timers.clearTimeout(t);
          resolve();
        });
      });
    }
    this.statusValue = { state: 'closed', at: this.now(), topics: [] };
  }
}

const registry = new Map<string, StreamConnection>();
const closingByKey = new Map<string, Promise<void>>();

function keyOf(url: string, gcid: string): string {
  return `${url}#${gcid}`;
}

function normalizeUrl(url: string | undefined): string {
  const u = (url ?? '').trim() || DEFAULT_STREAM_URL;
  if (!/^(mqtts?|wss?|tcp|ssl|tls):\/\//i.test(u)) {
    throw new CarDataError({ kind: 'input', parameter: 'streamUrl', message: `The stream URL must start with mqtts:// or mqtt://, got "${u}"`, hint: `BMW's stream is ${DEFAULT_STREAM_URL}.` });
  }
  return u;
}

/**
 * Subscribes to the CarData stream of the account behind `tokens`. Every subscriber of one account (and broker)
 * shares one MQTT connection; VIN and descriptor filters are applied locally. Throws a CarDataError (`input`) for
 * a bad VIN or URL before anything connects.
 */
export function subscribeStream(tokens: StreamTokenSource, options: StreamSubscribeOptions = {}): StreamSubscription {
  const url = normalizeUrl(options.url);
  const vins = (options.vins ?? []).map((v) => checkVin(v));
  const filter = compileFilter({ vins, descriptors: options.descriptors });
  const sub: Subscriber = { filter, tokens, opts: options, waiters: new Set(), dedupe: options.deduplicate ? new ReadingDeduplicator() : undefined };
  const now = options.now ?? Date.now;

  const gcid = tokens.current()?.gcid;
  if (!gcid) {
    // Not logged in: no connection at all, a status that says why.
    const error = new StreamError({
      streamCode: 'no-login',
      kind: 'auth',
      message: 'The account is not authorized, so the stream cannot log in',
      hint: 'Authorize the account (device login) first.',
    });
    const status: StreamStatus = { state: 'unauthorized', reason: error.message, error, at: now(), topics: [] };
    options.onState?.(status);
    return {
      status,
      close: () => Promise.resolve(),
      waitFor: (state) => (state === 'unauthorized' ? Promise.resolve(status) : Promise.reject(error)),
      retry: () => undefined,
    };
  }

  const key = keyOf(url, gcid);
  let conn = registry.get(key);
  if (!conn) {
    const after = closingByKey.get(key);
    conn = new StreamConnection(key, gcid, url, options, (c) => {
      if (registry.get(c.key) === c) registry.delete(c.key);
    }, after);
    registry.set(key, conn);
  }
  const connection = conn;
  connection.add(sub);
  let closed = false;

  return {
    get status(): StreamStatus {
      return closed ? { state: 'closed', at: now(), topics: [] } : connection.status;
    },
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      for (const w of [...sub.waiters]) w({ state: 'closed', at: now(), topics: [] });
      const done = connection.remove(sub) ?? Promise.resolve();
      if (connection.subscriberCount === 0 && registry.get(key) !== connection) {
        const p = done.finally(() => {
          if (closingByKey.get(key) === p) closingByKey.delete(key);
        });
        closingByKey.set(key, p);
        return p;
      }
      return done;
    },
    waitFor: (state, timeoutMs = 30_000) => {
      const current = closed ? 'closed' : connection.status.state;
      if (current === state) return Promise.resolve(connection.status);
      return new Promise<StreamStatus>((resolve, reject) => {
        const timer = setTimeout(() => {
          sub.waiters.delete(waiter);
          reject(new Error(`The stream did not reach "${state}" within ${timeoutMs} ms (it is "${closed ? 'closed' : connection.status.state}")`));
        }, timeoutMs);
        const waiter = (s: StreamStatus): void => {
          if (s.state !== state && s.state !== 'closed') return;
          clearTimeout(timer);
          sub.waiters.delete(waiter);
          if (s.state === state) resolve(s);
          else reject(new Error(`The stream closed while waiting for "${state}"`));
        };
        sub.waiters.add(waiter);
      });
    },
    retry: () => {
      if (!closed) connection.retry();
    },
  };
}

/** Open stream connections of this process (for diagnostics and tests). Never includes tokens. */
export function streamConnections(): Array<{ url: string; gcid: string; subscribers: number; status: StreamStatus }> {
  return [...registry.values()].map((c) => ({ url: c.url, gcid: c.gcid, subscribers: c.subscriberCount, status: c.status }));
}
