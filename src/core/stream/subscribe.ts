import { CarDataError } from '../errors';
import { compileFilter, ReadingDeduplicator } from './message';
import { StreamConnection, type Subscriber } from './connection';
import {
  DEFAULT_STREAM_URL,
  StreamError,
  type StreamPorts,
  type StreamStatus,
  type StreamSubscribeOptions,
  type StreamSubscription,
  type StreamTokenSource,
} from './types';
import { realClock } from '../transport';
import { checkVin } from '../validation';

// CarData streaming: one MQTT connection per account and process, shared by every subscriber.
// BMW allows a single stream connection per account; the password is the id_token, which lasts an hour, so the
// connection is renewed with a fresh id_token shortly before it expires (see stream-connection.ts).

const registry = new Map<string, StreamConnection>();
const closingByKey = new Map<string, Promise<void>>();

function keyOf(url: string, gcid: string): string {
  return `${url}#${gcid}`;
}

function normalizeUrl(url: string | undefined): string {
  const u = (url ?? '').trim() || DEFAULT_STREAM_URL;
  if (!/^(mqtts?|wss?|tcp|ssl|tls):\/\//i.test(u)) {
    throw new CarDataError({
      kind: 'input',
      parameter: 'streamUrl',
      message: `The stream URL must start with mqtts:// or mqtt://, got "${u}"`,
      hint: `BMW's stream is ${DEFAULT_STREAM_URL}.`,
    });
  }
  return u;
}

/**
 * Subscribes to the CarData stream of the account behind `tokens`. Every subscriber of one account (and broker)
 * shares one MQTT connection; VIN and descriptor filters are applied locally. Throws a CarDataError (`input`) for
 * a bad VIN or URL before anything connects. The MQTT connection and the timers are ports (`connect`, `timers`);
 * src/node's `subscribeStream` fills them in.
 */
export function subscribeStream(tokens: StreamTokenSource, options: StreamSubscribeOptions & StreamPorts): StreamSubscription {
  const url = normalizeUrl(options.url);
  const vins = (options.vins ?? []).map((v) => checkVin(v));
  const filter = compileFilter({ vins, descriptors: options.descriptors });
  const sub: Subscriber = { filter, tokens, opts: options, waiters: new Set(), dedupe: options.deduplicate ? new ReadingDeduplicator() : undefined };
  const now = options.now ?? realClock;
  const { timers } = options;

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
    conn = new StreamConnection(
      key,
      gcid,
      url,
      options,
      (c) => {
        if (registry.get(c.key) === c) registry.delete(c.key);
      },
      after,
    );
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
        const timer = timers.setTimeout(() => {
          sub.waiters.delete(waiter);
          reject(new Error(`The stream did not reach "${state}" within ${timeoutMs} ms (it is "${closed ? 'closed' : connection.status.state}")`));
        }, timeoutMs);
        const waiter = (s: StreamStatus): void => {
          if (s.state !== state && s.state !== 'closed') return;
          timers.clearTimeout(timer);
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
