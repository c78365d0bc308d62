import { createHash } from 'crypto';
import { CarDataClient, DEFAULT_API_BASE_URL } from './client';
import { DEFAULT_AUTH_BASE_URL } from '../login/device-flow';
import { QuotaLedger, type QuotaStore } from './quota';
import { TokenManager } from '../login/tokens';
import type { RememberedContainers } from './containers';
import type { Clock, Sleep, Transport } from '../transport';
import type { TokenSet } from '../types';

export interface AccountOptions {
  clientId: string;
  apiBaseUrl?: string;
  authBaseUrl?: string;
  tokens?: TokenSet;
  onTokens?: (tokens: TokenSet) => void | Promise<void>;
  onPersistError?: (error: unknown) => void;
  /** Checks before each refresh that the new tokens can be stored (see TokenManagerOptions.checkStore). */
  checkTokenStore?: () => Promise<void>;
  /** Reads the stored token set again (see TokenManagerOptions.reload). */
  reloadTokens?: () => Promise<TokenSet | undefined>;
  dailyQuota?: number;
  quotaStore?: QuotaStore;
  /** The host's ports: the network and a timer (src/node's createAccount passes axios and Node's timers). */
  transport: Transport;
  sleep: Sleep;
  now?: Clock;
  /** Total time of one attempt (to the API or the login service), and of one call with its login and retries. */
  timeoutMs?: number;
  deadlineMs?: number;
  /** Containers kept from before, and who hears of every change (see ContainerMemory). */
  containers?: RememberedContainers;
  onContainers?: (containers: RememberedContainers) => void;
}

/** Everything one BMW account needs in a process: the token manager, the quota ledger and the client. */
export interface Account {
  client: CarDataClient;
  tokens: TokenManager;
  quota: QuotaLedger;
}

/**
 * The quota key of an account: its GCID once known, else a hash of the client ID (the client ID itself is a
 * secret and is never written anywhere in clear).
 */
export function accountKey(clientId: string, gcid?: string): string {
  return gcid || `client-${createHash('sha256').update(clientId.trim()).digest('hex').slice(0, 16)}`;
}

/** Wires a client for one account on the host's ports: token manager with refresh, quota ledger, client. */
export function createAccount(options: AccountOptions): Account {
  const transport = options.transport;
  const tokens = new TokenManager({
    transport,
    clientId: options.clientId,
    authBaseUrl: options.authBaseUrl ?? DEFAULT_AUTH_BASE_URL,
    tokens: options.tokens,
    onTokens: options.onTokens,
    onPersistError: options.onPersistError,
    checkStore: options.checkTokenStore,
    reload: options.reloadTokens,
    now: options.now,
    sleep: options.sleep,
    timeoutMs: options.timeoutMs,
  });
  const quota = new QuotaLedger({ limit: options.dailyQuota, store: options.quotaStore, now: options.now });
  const client = new CarDataClient({
    transport,
    apiBaseUrl: options.apiBaseUrl ?? DEFAULT_API_BASE_URL,
    tokens,
    quota,
    accountId: () => accountKey(options.clientId, tokens.gcid),
    sleep: options.sleep,
    now: options.now,
    timeoutMs: options.timeoutMs,
    deadlineMs: options.deadlineMs,
    containers: options.containers,
    onContainers: options.onContainers,
  });
  return { client, tokens, quota };
}
