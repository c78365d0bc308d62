import { isDeadLogin } from '../login/device-flow';
import { CarDataError } from '../errors';
import {
  STREAM_PORTAL_HINT,
  StreamError,
  type MqttConnection,
  type StreamConnectionOptions,
  type StreamPorts,
  type StreamState,
  type StreamStatus,
  type StreamTimers,
  type StreamTokenSource,
} from './types';
import { MessageDispatch } from './dispatch';
import { StreamLogin, loginFailure } from './login';
import { describe, type Subscriber } from './subscriber';
import { TopicSync, desiredTopics } from './topics';
import { realClock } from '../transport';
import type { TokenSet } from '../types';

export type { Subscriber } from './subscriber';

// The state machine of one shared stream connection: login with the id_token (refreshed shortly before it
// expires), subscriptions for every subscriber's VINs, reconnects with backoff, status reports. Whatever goes
// wrong on the way (the login service, the network, the broker refusing a login it should accept) is retried;
// only a login BMW refuses for good (the refresh token is dead) stops the stream. The MQTT connection and the
// timers are ports.

/** CONNACK codes of a refused login: bad user name or password, not authorized (3.1.1 and 5). */
const AUTH_CODES = new Set([4, 5, 0x86, 0x87]);
const SUBSCRIPTION_REFUSED = 0x80;
/** A longer Retry-After from the login service is not believed: the stream looks again after an hour. */
const MAX_LOGIN_RETRY_AFTER_MS = 3_600_000;
const RENEW_HINT = "If this goes on, check that the client ID is subscribed to 'CarData Stream' in the BMW CarData portal, then authorize the account again.";

/**
 * BMW allows one stream connection per account: a second client that logs in with the same account (Home Assistant,
 * evcc, a second bridge) pushes the first out. Closes this many times in a row, each soon after the subscription,
 * with nothing wrong on our side, are taken as that.
 */
const TAKEOVERS_TO_TELL = 3;
const TAKEN_OVER = 'another client of this BMW account (Home Assistant, evcc, a second bridge) seems to take the stream over';
const TAKEN_OVER_HINT =
  'BMW allows one stream connection per account: let only one program stream this account, or stop the other one. This stream keeps trying.';

/** One shared MQTT connection of one account to one broker. */
export class StreamConnection {
  private readonly subs = new Set<Subscriber>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly timers: StreamTimers;
  private readonly backoffMin: number;
  private readonly backoffMax: number;
  private readonly stableAfter: number;
  private statusValue: StreamStatus;
  private client?: MqttConnection;
  /** The token set the current client logged in with. */
  private clientTokens?: TokenSet;
  /** Increases with every connection attempt; events of older clients are ignored. */
  private generation = 0;
  private attempt = 0;
  private timer?: unknown;
  private renewTimer?: unknown;
  private subscribedAt = 0;
  private readonly topicSync = new TopicSync();
  private readonly login: StreamLogin;
  private readonly messages: MessageDispatch;
  private lastError?: string;
  /** The CONNACK code with which the broker refused the current client's login, if it did. */
  private loginRefusal?: number;
  /** Refusals (login or subscription) in a row since the broker last accepted a subscription. */
  private refusals = 0;
  /** The broker accepted a subscription since this connection was made or retry() was called. */
  private subscribedOnce = false;
  private closing?: Promise<void>;
  /** Connections in a row the broker closed soon after the subscription, for no reason of ours (see TAKEOVERS_TO_TELL). */
  private takeovers = 0;

  constructor(
    readonly key: string,
    readonly gcid: string,
    readonly url: string,
    private readonly options: StreamConnectionOptions & StreamPorts,
    private readonly onEmpty: (conn: StreamConnection) => void,
    private readonly after?: Promise<void>,
  ) {
    this.now = options.now ?? realClock;
    this.random = options.random ?? Math.random;
    this.timers = options.timers;
    this.login = new StreamLogin(() => this.tokens(), options.refreshMarginMs ?? 5 * 60_000, this.now);
    this.messages = new MessageDispatch(this.subs, this.now);
    this.backoffMin = options.backoffMinMs ?? 2_000;
    this.backoffMax = Math.max(options.backoffMaxMs ?? 60_000, this.backoffMin);
    this.stableAfter = options.stableAfterMs ?? 60_000;
    this.statusValue = { state: 'connecting', at: this.now(), topics: [] };
  }

  get status(): StreamStatus {
    return { ...this.statusValue, topics: [...this.topicSync.topics] };
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
    this.takeovers = 0;
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
    this.statusValue = { state, reason, error, at: this.now(), topics: [...this.topicSync.topics] };
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
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        fn();
      },
      Math.max(0, ms),
    );
  }

  /** The next reconnect delay: doubling from the minimum up to the maximum, each drawn from its upper half. */
  private backoffDelay(): number {
    const base = Math.min(this.backoffMax, this.backoffMin * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  /** The backoff, or longer when the login service asked to wait longer (its Retry-After, up to an hour). */
  private loginRetryDelay(e: unknown): number {
    const asked = e instanceof CarDataError ? (e.retryAfterMs ?? 0) : 0;
    return Math.max(this.backoffDelay(), Math.min(asked, MAX_LOGIN_RETRY_AFTER_MS));
  }

  /** A connection that stayed up long enough starts the backoff from the beginning again. */
  private resetBackoffIfStable(): void {
    if (this.subscribedAt && this.now() - this.subscribedAt >= this.stableAfter) this.attempt = 0;
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
      tokens = await this.login.tokens({ orCurrent: true });
    } catch (e) {
      if (gen !== this.generation || this.subs.size === 0) return;
      this.loginFailed(e);
      return;
    }
    if (gen !== this.generation || this.subs.size === 0) return;
    if (tokens.gcid !== this.gcid) {
      this.stop(
        new StreamError({
          streamCode: 'unauthorized',
          kind: 'auth',
          message: 'The login belongs to another BMW account than this stream',
          hint: 'Use one account node per BMW account.',
        }),
      );
      return;
    }

    this.loginRefusal = undefined;
    this.lastError = undefined;
    const login = {
      clientId: `cardata-${this.gcid}`,
      username: this.gcid,
      // loginTokens returns only token sets with an id_token.
      password: tokens.idToken as string,
      keepaliveSec: this.options.keepaliveSec ?? 30,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 30_000,
      rejectUnauthorized: this.options.rejectUnauthorized ?? true,
    };
    let client: MqttConnection;
    try {
      client = this.options.connect(this.url, login, {
        connect: () => {
          if (gen !== this.generation) return;
          this.topicSync.reset();
          this.subscribe(gen, client, [...desiredTopics(this.gcid, this.subs)], tokens);
        },
        message: (topic, payload) => {
          if (gen === this.generation) this.messages.dispatch(topic, payload);
        },
        error: (err) => {
          if (gen !== this.generation) return;
          if (typeof err.code === 'number' && AUTH_CODES.has(err.code)) this.loginRefusal = err.code;
          this.lastError = describe(err);
        },
        close: () => {
          if (gen !== this.generation) return;
          this.client = undefined;
          this.onClosed(tokens);
        },
      });
    } catch (e) {
      this.setStatus(
        'reconnecting',
        describe(e),
        new StreamError({ streamCode: 'connection', kind: 'network', message: `Cannot open the stream: ${describe(e)}`, cause: e }),
      );
      this.schedule(this.backoffDelay(), () => void this.open());
      return;
    }
    this.client = client;
    this.clientTokens = tokens;
  }

  private subscribe(gen: number, client: MqttConnection, topics: string[], tokens: TokenSet): void {
    if (topics.length === 0) return;
    void client.subscribe(topics).then(({ refused, error }) => {
      if (gen !== this.generation) return;
      if (refused) {
        this.subscriptionRefused(tokens);
        return;
      }
      if (error) {
        // The client closes itself on other subscribe errors; the close handler reconnects.
        this.lastError = describe(error);
        return;
      }
      const first = this.statusValue.state !== 'connected';
      for (const t of topics) this.topicSync.topics.add(t);
      if (first) {
        this.subscribedAt = this.now();
        this.scheduleRenewal(tokens);
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
    const gen = this.generation;
    const tokens = this.clientTokens;
    this.topicSync.sync(client, desiredTopics(this.gcid, this.subs), {
      current: () => gen === this.generation,
      refused: () => {
        if (tokens) this.subscriptionRefused(tokens);
      },
      again: () => this.syncTopics(),
    });
  }

  /** Forgets the current client: its events are ignored from now on, and it is closed. */
  private abandonClient(): void {
    this.generation++;
    this.clearRenewTimer();
    this.dropClient();
    this.topicSync.reset();
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

  private scheduleRenewal(tokens: TokenSet): void {
    this.clearRenewTimer();
    const delay = this.login.renewDelay(tokens);
    this.renewTimer = this.timers.setTimeout(() => {
      this.renewTimer = undefined;
      void this.renew();
    }, delay);
  }

  /** Renews the login before the broker closes the connection at the id_token's expiry. */
  private async renew(retry = false): Promise<void> {
    const gen = this.generation;
    const client = this.client;
    try {
      // Refresh while still connected, so the switch-over is short (unless someone else refreshed already).
      await this.login.tokens({ orCurrent: false, replacing: this.clientTokens?.idToken });
    } catch (e) {
      if (gen !== this.generation) return;
      if (isDeadLogin(e)) {
        this.loginFailed(e);
        return;
      }
      // The current id_token is still valid for a while: try again later, staying connected. Should the broker
      // close the connection at its expiry first, the reconnect goes on trying. A stable connection starts the
      // retries from the first delay once; they then double (the connection stays stable while they run).
      if (!retry) this.resetBackoffIfStable();
      this.renewTimer = this.timers.setTimeout(() => {
        this.renewTimer = undefined;
        void this.renew(true);
      }, this.loginRetryDelay(e));
      return;
    }
    if (gen !== this.generation || !client) return;
    this.setStatus('reconnecting', 'renewing the stream login');
    // Unsubscribing first lets the broker finish delivering what it already sent before the connection goes.
    const topics = [...this.topicSync.topics];
    await new Promise<void>((resolve) => {
      const t = this.timers.setTimeout(resolve, 5_000);
      if (topics.length === 0 || !client.connected) return resolve();
      const done = (): void => {
        this.timers.clearTimeout(t);
        resolve();
      };
      void client.unsubscribe(topics).then(done, done);
    });
    if (gen !== this.generation) return;
    this.topicSync.reset();
    void this.open('renewing the stream login');
  }

  /** The login could not be had: stop if BMW refused it for good, else try again after the backoff. */
  private loginFailed(e: unknown): void {
    const err = loginFailure(e);
    if (isDeadLogin(e)) {
      // The refresh token is gone, or the account has no login: only authorizing the account again helps.
      this.stop(err);
      return;
    }
    this.setStatus('reconnecting', err.message, err);
    this.schedule(this.loginRetryDelay(e), () => void this.open(err.message));
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
    this.login.reject(tokens);
    const delay = this.refusals === 0 ? 0 : this.backoffDelay();
    this.refusals++;
    const subscription = code === SUBSCRIPTION_REFUSED;
    const what = subscription
      ? `BMW refused the stream subscription (0x80)`
      : `BMW refused the stream login (${code === 4 ? 'bad user name or password' : 'not authorized'})`;
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
    this.topicSync.reset();
    // The broker closing a subscribed connection soon, with no error and a login still valid: another client, maybe.
    const expired = this.login.expiring(tokens);
    const lived = this.subscribedAt ? this.now() - this.subscribedAt : undefined;
    if (lived !== undefined && lived >= this.stableAfter) this.takeovers = 0;
    else if (lived !== undefined && !expired && this.lastError === undefined && this.loginRefusal === undefined) this.takeovers++;
    this.resetBackoffIfStable();
    this.subscribedAt = 0;

    if (this.loginRefusal !== undefined) {
      this.refused(tokens, this.loginRefusal);
      return;
    }

    // The broker closes the connection when the id_token expires: renew at once in that case.
    const takenOver = this.takeovers >= TAKEOVERS_TO_TELL;
    const reason = this.lastError ?? (expired ? 'the stream login expired' : takenOver ? TAKEN_OVER : 'the connection was closed by the broker');
    this.setStatus(
      'reconnecting',
      reason,
      new StreamError({
        streamCode: 'connection',
        kind: 'network',
        message: `Stream connection lost: ${reason}`,
        hint: takenOver ? TAKEN_OVER_HINT : undefined,
      }),
    );
    this.schedule(expired ? 0 : this.backoffDelay(), () => void this.open(reason));
  }

  private dropClient(): void {
    const client = this.client;
    this.client = undefined;
    this.clientTokens = undefined;
    if (!client) return;
    // A connected client says goodbye (DISCONNECT); one still connecting is just dropped.
    void client.end(!client.connected);
  }

  private async shutdown(): Promise<void> {
    this.generation++;
    this.clearTimer();
    this.clearRenewTimer();
    const client = this.client;
    this.client = undefined;
    this.topicSync.reset();
    if (client) {
      await new Promise<void>((resolve) => {
        const t = this.timers.setTimeout(() => {
          void client.end(true);
          resolve();
        }, 2_000);
        void client.end(false).then(() => {
          this.timers.clearTimeout(t);
          resolve();
        });
      });
    }
    this.statusValue = { state: 'closed', at: this.now(), topics: [] };
  }
}
