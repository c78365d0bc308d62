import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  CarDataError,
  createLiveFeed,
  liveStateFromCars,
  FINISH_SETTLE_MS,
  type ChargingEvent,
  type ChargingEventKind,
  type LiveFeed,
  type StreamEvent,
  type StreamMessage,
  type StreamStatus,
  type StreamSubscription,
  type LedgerEvent,
  type TripEvent,
  type TripEventKind,
  type VehicleRecord,
} from '../core';
import { writePrivateText } from '../node/private-file';
import { subscribeStream } from '../node/stream';
import { nodeTimers } from '../node/timers';
import { ACCOUNT_TYPE, type AccountNode } from './account-types';
import { primaryVins, statusCode } from './action';

// Live data from the CarData stream (MQTT): no input, one message per descriptor change or per BMW message.
// The connection belongs to core (on Node's mqtt and timers) and is shared by every stream node of the same account.

interface StreamConfig extends NodeDef {
  account?: string;
  /** One or more VINs, separated by commas or spaces; empty = every vehicle of the account. */
  vin?: string;
  descriptors?: string[] | string;
  /**
   * `event`: one message per descriptor; `message`: one message per BMW message; `state`: the car's whole state
   * when it changed; `charging`: charging events (msg.topic = the event kind); `trips`: trip events (msg.topic =
   * `<VIN>/<event kind>`).
   */
  output?: 'event' | 'message' | 'state' | 'charging' | 'trips' | 'summary';
  /** For `charging`: the event kinds to send; empty = all. */
  kinds?: string[] | string;
  /** For `trips`: the trip event kinds to send (trip-started, trip-finished); empty = both. */
  tripKinds?: string[] | string;
  /** Per descriptor: pass a reading BMW sends again (same VIN, descriptor, value, timestamp) once. Default on. */
  dedupe?: boolean;
  /** For `state`: seed each car's state with one REST telematics read of the values picked at start (costs calls). */
  seed?: boolean;
  /** Broker URL; empty = the account's stream URL, else BMW's broker. */
  streamUrl?: string;
  /** For `charging` and `trips`: seconds a finished charge or trip waits for late readings; default 300. */
  settle?: number | string;
}

/** The late-readings wait of the node, in seconds: a number from 0 up, else the default (five minutes). */
function settleSeconds(value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : FINISH_SETTLE_MS / 1000;
}

/** An account node may carry a stream URL of its own (e.g. the simulator's). */

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
  if (typeof value === 'string')
    return value
      .split(/[\s,;]+/)
      .map((v) => v.trim())
      .filter(Boolean);
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

function stateMessage(v: VehicleRecord, changes: string[]): NodeMessage {
  return { topic: v.vin, payload: v, vin: v.vin, changes } as NodeMessage;
}

function chargingMessage(e: ChargingEvent): NodeMessage {
  return { topic: e.kind, payload: e, vin: e.vin, timestamp: e.at } as NodeMessage;
}

function tripMessage(e: TripEvent): NodeMessage {
  return { topic: `${e.vin}/${e.kind}`, payload: e, vin: e.vin, timestamp: e.at } as NodeMessage;
}

function summaryMessage(e: LedgerEvent): NodeMessage {
  return { topic: `${e.vin}/${e.kind}`, payload: e, vin: e.vin, timestamp: e.at } as NodeMessage;
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
  // The state, charging and trip trackers of each node in state, charging or trips mode, kept across restarts: one
  // file per car in a folder per node, so a save writes the cars that changed, not every car.
  const liveDir = path.join(RED.settings.userDir || path.join(os.homedir(), '.node-red'), 'bmw-cardata-live');
  const safe = (name: string): string => name.replace(/[^A-Za-z0-9_.-]/g, '_');
  const nodeDir = (id: string): string => path.join(liveDir, safe(id));
  /** Where earlier versions kept a node's whole state in one file. */
  const oneFile = (id: string): string => path.join(liveDir, `${safe(id)}.json`);

  function readCars(node: Node): { saved?: unknown; migrate: boolean } {
    try {
      return { saved: JSON.parse(fs.readFileSync(oneFile(node.id), 'utf8')), migrate: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') node.warn(RED._('bmw-cardata-stream.warn.stateUnreadable', { error: (e as Error).message }));
    }
    let names: string[];
    try {
      names = fs.readdirSync(nodeDir(node.id)).filter((f) => f.endsWith('.json'));
    } catch {
      return { migrate: false };
    }
    const cars: Record<string, string> = {};
    for (const name of names) {
      try {
        const text = fs.readFileSync(path.join(nodeDir(node.id), name), 'utf8');
        const vin = (JSON.parse(text) as { vin?: unknown }).vin;
        if (typeof vin === 'string') cars[vin] = text;
        else throw new Error('no VIN');
      } catch (e) {
        node.warn(RED._('bmw-cardata-stream.warn.carUnreadable', { file: name, error: (e as Error).message }));
      }
    }
    const { saved, broken } = liveStateFromCars(cars);
    for (const vin of broken) node.warn(RED._('bmw-cardata-stream.warn.carUnusable', { vin }));
    return { saved, migrate: false };
  }

  async function writeCars(id: string, cars: Record<string, string>): Promise<void> {
    await Promise.all(Object.entries(cars).map(([vin, text]) => writePrivateText(path.join(nodeDir(id), `${safe(vin)}.json`), text)));
  }

  function StreamNode(this: Node, config: StreamConfig): void {
    RED.nodes.createNode(this, config);
    setup(this, config);
  }

  function setup(node: Node, config: StreamConfig): void {
    const accountNode = config.account ? (RED.nodes.getNode(config.account) as AccountNode | null) : null;
    if (!accountNode || accountNode.type !== ACCOUNT_TYPE) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('bmw-cardata-stream.status.noAccount') });
      return;
    }
    let subscription: StreamSubscription | undefined;
    let feed: LiveFeed | undefined;
    let lastState: StreamStatus['state'] | undefined;
    let lastData = '';
    // Every message says which car in words too (msg.vehicleName), so a chat message can say "iX" rather than a VIN.
    const send = (msg: NodeMessage): void => {
      const vin = (msg as { vin?: unknown }).vin;
      node.send(typeof vin === 'string' && vin ? Object.assign(msg, { vehicleName: accountNode.vehicleName(vin) }) : msg);
    };

    // The car's state carries the account's calls left today (msg.quota), read from the local count (no call), so a
    // dashboard shows them at no cost; a chain keeps the messages in the order the state changed.
    let quotaChain: Promise<void> = Promise.resolve();
    const withQuota = (msg: NodeMessage): void => {
      quotaChain = quotaChain.then(async () => {
        try {
          const quota = await accountNode.account().client.quotaState();
          if (quota) Object.assign(msg, { quota });
        } catch {
          // no quota figures: the state goes out without them
        }
        send(msg);
      });
    };

    const show = (s: StreamStatus): void => {
      const changed = s.state !== lastState;
      lastState = s.state;
      switch (s.state) {
        case 'connecting':
          node.status({ fill: 'yellow', shape: 'ring', text: RED._('bmw-cardata-stream.status.connecting') });
          break;
        case 'connected':
          node.status({
            fill: 'green',
            shape: 'dot',
            text: lastData ? RED._('bmw-cardata-stream.status.connectedAt', { time: lastData }) : RED._('bmw-cardata-stream.status.connected'),
          });
          break;
        case 'reconnecting':
          node.status({ fill: 'yellow', shape: 'ring', text: RED._('bmw-cardata-stream.status.reconnecting', { reason: s.reason ?? '' }).trim() });
          break;
        case 'not-configured':
          node.status({ fill: 'red', shape: 'ring', text: RED._('bmw-cardata-stream.status.notConfigured') });
          if (changed) node.warn(`${s.error?.message ?? RED._('bmw-cardata-stream.warn.notConfigured')}. ${s.error?.hint ?? ''}`.trim());
          break;
        case 'unauthorized':
          node.status({
            fill: 'red',
            shape: 'ring',
            text: s.error?.code === 'no-login' ? RED._('bmw-cardata-stream.status.notAuthorized') : RED._('bmw-cardata-stream.status.authorizeAgain'),
          });
          if (changed) node.warn(`${s.error?.message ?? RED._('bmw-cardata-stream.warn.refused')}. ${s.error?.hint ?? ''}`.trim());
          break;
        case 'closed':
          node.status({});
          break;
      }
    };

    const seen = (timestamp: string | null): void => {
      lastData = clock(timestamp);
      if (lastState === 'connected') node.status({ fill: 'green', shape: 'dot', text: RED._('bmw-cardata-stream.status.connectedAt', { time: lastData }) });
    };

    /** One REST read per car of the values picked (a container: 1 call, 3 the first time), fed in as if streamed. */
    const seed = async (feed: LiveFeed, descriptors: string[]): Promise<void> => {
      try {
        if (descriptors.length === 0)
          throw new CarDataError({
            kind: 'input',
            parameter: 'descriptors',
            message: RED._('bmw-cardata-stream.error.seedNeedsValues'),
            hint: RED._('bmw-cardata-stream.error.seedNeedsValuesHint'),
          });
        const configured = list(config.vin);
        const vins = configured.length > 0 ? configured : await primaryVins(accountNode);
        for (const vin of vins) {
          const read = await accountNode.account().client.getTelematicValues(vin, descriptors);
          await feed.seed(vin, read.telematicData);
        }
      } catch (e) {
        node.warn(
          RED._('bmw-cardata-stream.warn.seedFailed', { error: e instanceof CarDataError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e) }),
        );
      }
    };

    try {
      const account = accountNode.account();
      const ownUrl = typeof config.streamUrl === 'string' ? config.streamUrl.trim() : '';
      const accountUrl = accountNode.streamUrl;
      const output = config.output ?? 'event';
      const perMessage = output === 'message';
      const descriptors = list(config.descriptors);
      if (output === 'state' || output === 'charging' || output === 'trips' || output === 'summary') {
        const { saved, migrate } = readCars(node);
        feed = createLiveFeed({
          saved,
          // Readings are written every 30 s, events at once, each car to its own file: the SD card of a home server
          // is spared.
          saveCars: (cars) => writeCars(node.id, cars),
          timers: nodeTimers,
          settleMs: settleSeconds(config.settle) * 1000,
          descriptors: output === 'state' ? descriptors : undefined,
          kinds: list(config.kinds) as ChargingEventKind[],
          onVehicle: output === 'state' ? (v, u) => withQuota(stateMessage(v, u.changes)) : undefined,
          onChargingEvent: output === 'charging' ? (e) => send(chargingMessage(e)) : undefined,
          tripKinds: list(config.tripKinds) as TripEventKind[],
          onTripEvent: output === 'trips' ? (e) => send(tripMessage(e)) : undefined,
          onLedgerEvent: output === 'summary' ? (e) => send(summaryMessage(e)) : undefined,
          tariff: accountNode.tariff,
          onProblem: (message) => node.warn(message),
        });
        if (migrate) {
          const live = feed.live;
          void writeCars(node.id, live.serializeCars(live.vins())).then(
            () => fs.rmSync(oneFile(node.id), { force: true }),
            (e: unknown) => node.warn(RED._('bmw-cardata-stream.warn.notSaved', { error: (e as Error).message })),
          );
        }
        if (output === 'state' && config.seed === true) void seed(feed, descriptors);
      }
      subscription = subscribeStream(account.tokens, {
        url: ownUrl || accountUrl || undefined,
        vins: list(config.vin),
        // The trackers need the status, plug, charge, power and motion readings: a feed gets every message whole.
        descriptors: feed ? [] : descriptors,
        deduplicate: output === 'event' && config.dedupe !== false,
        onState: show,
        onEvent:
          output === 'event'
            ? (e) => {
                send(eventMessage(e));
                seen(e.timestamp);
              }
            : undefined,
        onMessage:
          perMessage || feed
            ? (m) => {
                if (feed) void feed.push(m);
                else send(wholeMessage(m));
                seen(m.timestamp);
              }
            : undefined,
        onError: (e) => node.warn(e.message),
      });
    } catch (e) {
      const text = statusCode(e);
      node.status({ fill: 'red', shape: 'ring', text });
      node.error(e instanceof CarDataError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e));
    }

    node.on('close', (removed: boolean, done: () => void) => {
      const s = subscription;
      subscription = undefined;
      // The stream first, so no message comes after the last save; then what the batch still holds.
      void (async () => {
        await s?.close().catch(() => undefined);
        await feed?.close();
        if (removed) {
          fs.rmSync(nodeDir(node.id), { recursive: true, force: true });
          fs.rmSync(oneFile(node.id), { force: true });
        }
      })().then(done, done);
    });
  }

  RED.nodes.registerType('bmw-cardata-stream', StreamNode);
};
