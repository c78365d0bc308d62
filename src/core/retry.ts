export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is reported instead. */
  maxRetryAfterMs: number;
}

/** No attempt is started with less time than this left of its call's deadline. */
export const MIN_ATTEMPT_MS = 1_000;

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

/** Statuses worth another try on an idempotent request; the quota answer (403/429) never is. */
export function isRetryableStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}

/** Transport error codes that mean the request may not have arrived, so a GET can be sent again. */
export function isRetryableNetworkCode(code: string): boolean {
  return wasNotSent(code) || ['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'ERR_BAD_RESPONSE'].includes(code);
}

/** Transport error codes that mean no byte of the request left: no server can have counted it. */
export function wasNotSent(code: string): boolean {
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN'].includes(code);
}

/** Retry-After in milliseconds (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): exponential backoff with full jitter, never
 * shorter than what the server asked for. Returns undefined when no retry should follow.
 */
export function retryDelay(attempt: number, options: RetryOptions, retryAfterMs: number | undefined, random: () => number = Math.random): number | undefined {
  if (attempt >= options.maxAttempts) return undefined;
  if (retryAfterMs !== undefined && retryAfterMs > options.maxRetryAfterMs) return undefined;
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  const jittered = cap / 2 + random() * (cap / 2);
  return Math.max(retryAfterMs ?? 0, Math.round(jittered));
}
