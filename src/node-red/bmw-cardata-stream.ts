import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { CarDataError, subscribeStream, type StreamEvent, type StreamMessage, type StreamStatus, type StreamSubscription } from '../core';
import { ACCOUNT_TYPE, type AccountNode } from './account-types';

// Live data from the CarData stream (MQTT): no input, one message per descriptor change or per BMW message.
// The connection belongs to core and is shared by every stream node of the same account.

interface StreamConfig extends NodeDef {
  account?: string;
  /** One or more VINs, separated by commas or spaces; empty = every vehicle of the account. */
  vin?: string;
  descriptors?: string[] | string;
  /** `event`: one message per descriptor; `message`: one message per BMW message. */
  output?: 'event' | 'message';
  /** Per descriptor: pass a reading BMW sends again (same VIN, descriptor, value, timestamp) once. Default on. */
  dedupe?: boolean;
  /** Broker URL; empty = the account's stream URL, else BMW's broker. */
  streamUrl?: string;
}

/** An account node may carry a stream URL of its own (e.g. the simulator's). */

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
  if (typeof value === 'string') return value.split(/[\s,;]+/).map((v) => v.trim()).filter(Boolean);
  return [];
}

function clock(iso: string | null): string {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? '' : d.toTimeString().slice(0, 8);
}

function eventMessage(e: StreamEvent): NodeMessage {
  const msg: NodeMessage & Record<string, unknown> = {
    topic: e.descriptor,
    payload: e.value,
    vin: e.vin,
    descriptor: e.descriptor,
    unit: e.unit,
    timestamp: e.timestamp,
  };
  if (e.numericValue !== undefined) msg.numericValue = e.numericValue;
  return msg;
}

function wholeMessage(m: StreamMessage): NodeMessage {
  const msg: NodeMessage & Record<string, unknown> = {
    topic: m.vin,
    payload: m.data,
    vin: m.vin,
    timestamp: m.timestamp,
    events: m.events,
    raw: m.raw,
  };
  return msg;
}

export = function (RED: NodeAPI): void {
  function StreamNode(this: Node, config: StreamConfig): void {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node: Node, config: StreamConfig): void {
    const accountNode = config.account ? (RED.nodes.getNode(config.account) as AccountNode | null) : null;
    if (!accountNode || accountNode.type !== ACCOUNT_TYPE) {
      node.status({ fill: 'red', shape: 'ring', text: 'no account' });
      return;
    }
    let subscription: StreamSubscription | undefined;
    let lastState: StreamStatus['state'] | undefined;
    let lastData = '';

    const show = (s: StreamStatus): void => {
      const changed = s.state !== lastState;
      lastState = s.state;
      switch (s.state) {
        case 'connecting':
          node.status({ fill: 'yellow', shape: 'ring', text: 'connecting…' });
          break;
        case 'connected':
          node.status({ fill: 'green', shape: 'dot', text: lastData ? `connected · ${lastData}` : 'connected' });
          break;
        case 'reconnecting':
          node.status({ fill: 'yellow', shape: 'ring', text: `reconnecting: ${s.reason ?? ''}`.trim() });
          break;
        case 'not-configured':
          node.status({ fill: 'red', shape: 'ring', text: 'stream not configured in the BMW portal' });
          if (changed) node.warn(`${s.error?.message ?? 'The CarData stream is not configured'}. ${s.error?.hint ?? ''}`.trim());
          break;
        case 'unauthorized':
          node.status({ fill: 'red', shape: 'ring', text: s.error?.code === 'no-login' ? 'not authorized' : 'authorize again' });
          if (changed) node.warn(`${s.error?.message ?? 'BMW refused the stream login'}. ${s.error?.hint ?? ''}`.trim());
          break;
        case 'closed':
          node.status({});
          break;
      }
    };

    const seen = (timestamp: string | null): void => {
      lastData = clock(timestamp);
      if (lastState === 'connected') node.status({ fill: 'green', shape: 'dot', text: `connected · ${lastData}` });
    };

    try {
      const account = accountNode.account();
      const ownUrl = typeof config.streamUrl === 'string' ? config.streamUrl.trim() : '';
      const accountUrl = accountNode.streamUrl;
      const perMessage = config.output === 'message';
      subscription = subscribeStream(account.tokens, {
        url: ownUrl || accountUrl || undefined,
        vins: list(config.vin),
        descriptors: list(config.descriptors),
        deduplicate: !perMessage && config.dedupe !== false,
        onState: show,
        onEvent: perMessage
          ? undefined
          : (e) => {
              node.send(eventMessage(e));
              seen(e.timestamp);
            },
        onMessage: perMessage
          ? (m) => {
              node.send(wholeMessage(m));
              seen(m.timestamp);
            }
          : undefined,
        onError: (e) => node.warn(e.message),
      });
    } catch (e) {
      const text = e instanceof CarDataError ? (e.kind === 'input' && e.parameter ? `input: ${e.parameter}` : e.code) : 'error';
      node.status({ fill: 'red', shape: 'ring', text });
      node.error(e instanceof CarDataError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      const s = subscription;
      subscription = undefined;
      if (!s) return done();
      s.close().then(done, done);
    });
  }

  RED.nodes.registerType('bmw-cardata-stream', StreamNode);
};
