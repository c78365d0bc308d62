import type { StreamTimers } from '../core/stream/types';

/** Node's timers as the stream's timers port. */
export const nodeTimers: StreamTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
