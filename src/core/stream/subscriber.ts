import { CarDataError } from '../errors';
import type { CompiledFilter, ReadingDeduplicator } from './message';
import type { StreamStatus, StreamSubscribeOptions, StreamTokenSource } from './types';

/** One subscriber of a shared stream connection: what it wants, the login it brings, where it is told things. */
export interface Subscriber {
  filter: CompiledFilter;
  tokens: StreamTokenSource;
  opts: StreamSubscribeOptions;
  waiters: Set<(s: StreamStatus) => void>;
  dedupe?: ReadingDeduplicator;
}

export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Hands an error to a subscriber; a subscriber whose error handler throws is not allowed to take the connection down. */
export function report(s: Subscriber, error: Error): void {
  try {
    s.opts.onError?.(error);
  } catch {
    // The subscriber's own handler failed; nothing more can be told to it.
  }
}

/** An error in a few words: the message, with a network error's code. */
export function describe(err: unknown): string {
  if (err instanceof CarDataError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
