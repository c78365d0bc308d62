'use strict';
// Fakes of the stream's ports for core's connection state machine: a clock whose timers run only when the test
// advances it, an MQTT connection port whose broker answers as the test says, and a login whose refresh can fail.

/** Lets every pending promise callback run (no timer of the stream's is involved). */
async function settle() {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A clock and the timers port on it: `advance(ms)` runs the timers that fall due, in order, and nothing else does. */
function fakeClock(start = Date.parse('2026-01-01T08:00:00Z')) {
  let now = start;
  let seq = 0;
  const pending = new Map();
  const asked = [];
  return {
    now: () => now,
    /** Every delay asked for, in order. */
    asked,
    timers: {
      setTimeout: (fn, ms) => {
        seq += 1;
        pending.set(seq, { at: now + ms, fn });
        asked.push(ms);
        return seq;
      },
      clearTimeout: (id) => pending.delete(id),
    },
    /** The delays until the pending timers fall due, shortest first. */
    pending: () => [...pending.values()].map((t) => t.at - now).sort((a, b) => a - b),
    async advance(ms) {
      const end = now + ms;
      await settle();
      for (;;) {
        let next;
        for (const entry of pending) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
        if (!next) break;
        pending.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

/**
 * The MQTT connection port on a broker the test steers. `answer` decides how connection attempts end: 'accept',
 * a CONNACK code (a refused login), or a network error code such as 'ECONNREFUSED'. `refuseSubscriptions` SUBACKs
 * are refused (0x80).
 */
function fakeBroker() {
  const broker = {
    answer: 'accept',
    refuseSubscriptions: 0,
    /** Every connection attempt, in order. */
    connections: [],
    /** The connection that is up, if one is. */
    current: () => broker.connections.find((c) => c.connected),
    connect(url, login, events) {
      const c = {
        url,
        login,
        connected: false,
        topics: new Set(),
        /** How the stream closed it: 'disconnected' (with goodbye) or 'dropped'. */
        ended: undefined,
        async subscribe(topics) {
          if (broker.refuseSubscriptions > 0) {
            broker.refuseSubscriptions -= 1;
            return { refused: true };
          }
          for (const t of topics) c.topics.add(t);
          return { refused: false };
        },
        async unsubscribe(topics) {
          for (const t of topics) c.topics.delete(t);
        },
        async end(force) {
          if (c.ended) return;
          c.ended = force ? 'dropped' : 'disconnected';
          c.connected = false;
        },
        /** The broker delivers a message on `topic` (as the MQTT client hands it on). */
        receive(topic, payload) {
          events.message(topic, payload);
        },
        /** The broker or the network closes the connection. */
        drop() {
          c.connected = false;
          if (!c.ended) events.close();
        },
      };
      broker.connections.push(c);
      const answer = broker.answer;
      void Promise.resolve().then(() => {
        if (c.ended) return;
        if (answer === 'accept') {
          c.connected = true;
          events.connect();
          return;
        }
        const message =
          typeof answer === 'number'
            ? `Connection refused: ${answer === 4 ? 'Bad username or password' : 'Not authorized'}`
            : `connect ${answer} 127.0.0.1:1883`;
        events.error(Object.assign(new Error(message), { code: answer }));
        events.close();
      });
      return c;
    },
  };
  broker.connect = broker.connect.bind(broker);
  return broker;
}

/** A login of one account: every refresh issues new tokens valid for `ttlMs`; `failNext` refreshes fail with `failWith`. */
function fakeLogin(clock, { ttlMs = 3_600_000 } = {}) {
  let n = 0;
  const issue = () => {
    n += 1;
    return { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, idToken: `id-token-${n}`, gcid: 'gcid-fake', expiresAt: clock.now() + ttlMs };
  };
  let tokens = issue();
  const login = {
    refreshes: 0,
    failNext: 0,
    failWith: () => new Error('the login service is unavailable'),
    current: () => tokens,
    async refresh() {
      login.refreshes += 1;
      if (login.failNext > 0) {
        login.failNext -= 1;
        throw login.failWith();
      }
      tokens = issue();
      return tokens;
    },
  };
  return login;
}

module.exports = { fakeClock, fakeBroker, fakeLogin, settle };
