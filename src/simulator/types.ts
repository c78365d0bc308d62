// Public shapes of the simulator. Kept apart from the implementation so the CLI, the tests and other packages can
// depend on them without pulling in the server.

export interface SimulatorOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** REST calls per account and UTC day. Default 50 (BMW's limit); Infinity allowed for benchmarks. */
  dailyQuota?: number;
  /** Lifetime of access and id tokens. Default 3599 s, like GCDM. */
  accessTokenTtlSec?: number;
  /** Default 1209600 s (two weeks). */
  refreshTokenTtlSec?: number;
  /** Default 300 s. */
  deviceCodeTtlSec?: number;
  /** Minimum seconds between two polls of one device code. Default 5; 0 disables slow_down. */
  pollIntervalSec?: number;
  /** Approve device codes the moment they are issued. Default false. */
  autoApprove?: boolean;
  /** Charging sessions of the BEV. Default 400; the PHEV gets a third of that. */
  chargingSessions?: number;
  /** Default 25. */
  chargingPageSize?: number;
  /** Default 2. */
  settingsPageSize?: number;
  /** Page tokens older than this answer CU-125. Default 600 s. */
  pageTokenTtlSec?: number;
  /** Clock in epoch ms for every expiry and for the quota day. Default Date.now. */
  now?: () => number;
  /** Seed of the fixture generator. Default 1. */
  seed?: number;
  /**
   * Also run the CarData stream (an MQTT broker on loopback, see `sim.streamUrl` and `sim.stream`). Default off.
   * `port` 0 (default) picks a free port; `checkIntervalMs` is how often id_token expiry is checked (250 ms);
   * `configured: false` starts with no data stream configured (SUBSCRIBE refused with 0x80).
   */
  stream?: boolean | { port?: number; host?: string; checkIntervalMs?: number; configured?: boolean };
  /**
   * The sandbox's story (default off): a 40-day-old ACTIVE container named `old-soc-export` for the housekeeping
   * example, and a BEV whose state of charge is below 20 % for the first 20 minutes of every hour since the start
   * (17 % falling to 15 %), then charges to 80 % (REST values; the stream plays its own scenarios).
   */
  demo?: boolean;
  /** Called after each request has been answered (or dropped); the CLI uses it for its access log. */
  onRequest?: (entry: RequestLogEntry) => void;
}

export type RequestKind = 'rest' | 'auth' | 'page';

export interface RequestLogEntry {
  /** Clock time (options.now) when the request arrived. */
  at: number;
  kind: RequestKind;
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Raw bearer token sent, if any. */
  bearer?: string;
  /** HTTP status answered; 0 when the connection was dropped on purpose. */
  status: number;
  exveErrorId?: string;
  oauthError?: string;
  grantType?: string;
  /** Refresh token sent to /oauth/token. */
  refreshToken?: string;
}

/** The token answer of GCDM (TokenResponse in the device-code-flow spec). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
  /** Only present when the scope contains `openid`, as GCDM does. */
  id_token?: string;
  gcid: string;
}

export type DeviceCodeState = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

export interface FaultControl {
  /** Added to every REST answer. */
  latencyMs: number;
  /** The next `count` REST requests (matching `path`) answer `status` with a CU-500 / CU-503 body. */
  failNext(count: number, status?: 500 | 503, opts?: { retryAfterSec?: number; path?: RegExp }): void;
  /** The next `count` REST requests (matching `path`) get their socket destroyed without an answer. */
  dropNext(count: number, opts?: { path?: RegExp }): void;
  /**
   * The next `count` refreshes (refresh-grant token requests that carry a refresh token) answer `status` (default
   * 500) with an OAuth `server_error` body, as BMW's login service sometimes does; the refresh token stays valid.
   */
  failNextRefresh(count: number, status?: 500 | 502 | 503): void;
  /** The next `count` refreshes get their socket destroyed without an answer (the refresh token stays valid). */
  dropNextRefresh(count: number): void;
  /**
   * The next `count` requests (REST, or login ones when `path` matches them) get exactly this answer, after
   * `skip` matching requests were let through (e.g. page 4 of a read).
   */
  answerNext(count: number, answer: RawAnswer, opts?: { path?: RegExp; skip?: number }): void;
  /** The next `count` requests get no answer at all: the connection stays open and silent. */
  hangNext(count: number, opts?: { path?: RegExp }): void;
  /** The next `count` requests get their real answer one byte every `intervalMs` (default 5000). */
  dripNext(count: number, opts?: { intervalMs?: number; path?: RegExp }): void;
  reset(): void;
}

/** An answer given as it is: any status, body and content type. */
export interface RawAnswer {
  status?: number;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface QuotaSnapshot {
  used: number;
  limit: number;
  /** ISO 8601, the next 00:00 UTC of the simulator clock. */
  resetsAt: string;
}
