import type * as Mqtt from 'mqtt';
import type { MqttConnect, MqttConnection, MqttSubscribeResult } from '../core/stream/types';

// The mqtt adapter of the stream's connection port: the only code that holds a connection to BMW's broker.
// mqtt is loaded with the first connection, so code that only uses the REST client never loads it.

let loading: Promise<typeof Mqtt> | undefined;

/** True when the SUBACK refused a topic (a code of 0x80 or more): BMW's answer when no stream is configured. */
function refusedIn(err: Error | null | undefined, packet?: unknown): boolean {
  const suback = (packet ?? (err as { packet?: unknown } | null | undefined)?.packet) as { granted?: unknown[] } | undefined;
  const codes = (suback?.granted ?? []).map((g) => (typeof g === 'number' ? g : ((g as { qos?: number }).qos ?? 0)));
  return codes.some((c) => (c & 0x80) !== 0) || (err as { code?: unknown } | null | undefined)?.code === 0x80;
}

/** Stops telling: no listener of ours is left, and a late error is swallowed. */
function detach(client: Mqtt.MqttClient): void {
  client.removeAllListeners();
  client.on('error', () => undefined);
}

/** Opens an MQTT 3.1.1 connection (clean session, no reconnects of its own) with mqtt.js. */
export const mqttConnect: MqttConnect = (url, login, events) => {
  let client: Mqtt.MqttClient | undefined;
  let ended = false;
  // A failed load is not kept: the next attempt loads again.
  loading ??= import('mqtt').catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  const opened = loading
    .then((mqtt) => {
      if (ended) return;
      const c = mqtt.connect(url, {
        protocolVersion: 4,
        clean: true,
        clientId: login.clientId,
        username: login.username,
        password: login.password,
        keepalive: login.keepaliveSec,
        connectTimeout: login.connectTimeoutMs,
        reconnectPeriod: 0,
        resubscribe: false,
        rejectUnauthorized: login.rejectUnauthorized,
      });
      client = c;
      c.on('connect', () => events.connect());
      c.on('message', (topic, payload) => events.message(topic, payload));
      c.on('error', (err) => events.error(err));
      c.on('close', () => {
        detach(c);
        events.close();
      });
    })
    .catch((e: unknown) => {
      // mqtt could not be loaded, or refused the URL: a failed attempt, retried like any other.
      if (ended) return;
      events.error(e instanceof Error ? e : new Error(String(e)));
      events.close();
    });
  const connection: MqttConnection = {
    get connected() {
      return client?.connected ?? false;
    },
    subscribe: (topics) =>
      new Promise<MqttSubscribeResult>((resolve) => {
        if (!client) return resolve({ refused: false, error: new Error('not connected') });
        client.subscribe(topics, { qos: 1 }, (err, _granted, packet) =>
          resolve(refusedIn(err, packet) ? { refused: true } : { refused: false, error: err ?? undefined }),
        );
      }),
    unsubscribe: (topics) =>
      new Promise<void>((resolve) => {
        if (!client) return resolve();
        client.unsubscribe(topics, () => resolve());
      }),
    end: async (force) => {
      ended = true;
      await opened;
      const c = client;
      if (!c) return;
      detach(c);
      await new Promise<void>((resolve) => c.end(force, {}, () => resolve()));
    },
  };
  return connection;
};
