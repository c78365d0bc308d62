import { CarDataError } from '../errors';
import type { StreamEvent, StreamFilter, StreamMessage } from './message';
import type { TokenSet } from '../types';

// The stream's public types, its errors, and the ports it runs on: the MQTT connection and the timers come from
// the host (src/node has Node's), so this part of core opens nothing and waits for nothing by itself.

/** BMW's CarData stream broker (MQTT over TLS). */
export const DEFAULT_STREAM_URL = 'mqtts://customer.streaming-cardata.bmwgroup.com:9000';

export const STREAM_PORTAL_HINT = "In the BMW CarData portal, open 'Configure data stream', pick the data keys, save. Data then flows when the car sends it.";

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
    super({
      kind: init.kind ?? 'bmw',
      message: init.message,
      hint: init.hint,
      retryable: init.retryable ?? init.streamCode === 'connection',
      cause: init.cause,
    });
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

/** The timers port: renewals, reconnect waits and timeouts. */
export interface StreamTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What an MQTT connection logs in with (MQTT 3.1.1, clean session, no reconnects of its own). */
export interface MqttLogin {
  clientId: string;
  username: string;
  password: string;
  keepaliveSec: number;
  connectTimeoutMs: number;
  /** Verify the broker's TLS certificate. */
  rejectUnauthorized: boolean;
}

/** What an MQTT connection tells the stream. */
export interface MqttEvents {
  /** Logged in (CONNACK accepted). */
  connect(): void;
  message(topic: string, payload: Buffer | string): void;
  /**
   * Something went wrong; `close` follows when the connection is gone. A refused login carries the CONNACK code
   * as a number in `code` (4, 5, 0x86, 0x87); a network error Node's code (a string).
   */
  error(error: Error & { code?: unknown }): void;
  /** The connection is gone (closed by the broker, the network, or a failed attempt); it is not reopened. */
  close(): void;
}

/** The answer to a SUBSCRIBE: `refused` when the broker refused a topic (a SUBACK code of 0x80 or more). */
export interface MqttSubscribeResult {
  refused: boolean;
  /** Any other failure on the way; the connection then closes by itself. */
  error?: Error;
}

/** One MQTT connection, as the stream uses it. */
export interface MqttConnection {
  readonly connected: boolean;
  /** Subscribes at QoS 1. */
  subscribe(topics: string[]): Promise<MqttSubscribeResult>;
  unsubscribe(topics: string[]): Promise<void>;
  /**
   * Closes the connection and tells nothing more: `force` drops it at once, otherwise it says goodbye
   * (DISCONNECT) first. Resolves once it is closed.
   */
  end(force: boolean): Promise<void>;
}

/** The MQTT connection port: opens one connection to `url` and reports to `events`. */
export type MqttConnect = (url: string, login: MqttLogin, events: MqttEvents) => MqttConnection;

/**
 * The ports the stream runs on. src/node's `subscribeStream` fills them with mqtt and Node's timers. Like the
 * connection settings, those of an account's first subscriber serve every later one.
 */
export interface StreamPorts {
  connect: MqttConnect;
  timers: StreamTimers;
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
  /** The clock and the jitter source (tests drive them). Default: the real ones. */
  now?: () => number;
  random?: () => number;
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
  /** Messages that could not be read (told at most once a minute, without their content), or an error thrown by this subscriber's own onMessage or onEvent. The stream goes on. */
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
