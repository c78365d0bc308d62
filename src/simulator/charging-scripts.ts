import { createHash } from 'crypto';
import { findDescriptor } from '../core/catalogue';
import { cleanUnit } from '../core/telematic-values';
import type { StreamRawMessage } from '../core/stream/message';
import type { StreamControl } from './broker';
import type { StreamScalar } from './broker-scenarios';
import { SIM_VINS } from './vehicles';
import { CHARGING_STATUS as STATUS, SOC, TARGET, POWER, PORT, DC_PORT, PLUGGED, BATTERY, ENERGY, GRID, RANGE, TIME_TO_FULL } from './descriptor-names';

// Scripted charging streams as data: what a car sends during a charge, with BMW's habits (values seconds
// apart, the same message twice, messages out of order, no power once the charge ends, a PHEV without state of
// charge), plus the moments the stream drops or the host restarts. Tests feed them to the core; hosts and demos
// replay them through the simulated broker with playChargingScript().

export type ChargingScriptName = 'ac-session' | 'dc-session' | 'interrupted' | 'stream-drop' | 'restart' | 'duplicates-out-of-order' | 'phev-no-soc';

/**
 * One step, in delivery order. A message carries `data` measured `at` seconds after the script's start (its
 * timestamp); a step whose `at` is earlier than the one before arrived out of order. A marker says what happens
 * to the connection or the host at that point.
 */
export type ChargingScriptStep = { at: number; data: Record<string, StreamScalar> } | { at: number; marker: ChargingScriptMarker };

/**
 * - `stream-drop`: the connection drops; messages until `stream-back` are sent while nobody listens (lost);
 * - `host-restart`: the host stops here and starts again from its saved state (the connection survives).
 */
export type ChargingScriptMarker = 'stream-drop' | 'stream-back' | 'host-restart';

export interface ChargingScript {
  name: ChargingScriptName;
  description: string;
  vin: string;
  steps: ChargingScriptStep[];
}

const MIN = 60;

/** The i4 at home on an 11 kW wallbox, 48 % to its 80 % target; BMW stops sending power when it ends. */
const acSession: ChargingScript = {
  name: 'ac-session',
  description: 'AC at home, 11 kW: plugged in, 48 % to the 80 % target, charge ended, unplugged an hour later',
  vin: SIM_VINS.bev,
  steps: [
    { at: 0, data: { [PORT]: 'CONNECTED', [PLUGGED]: true, [STATUS]: 'INITIALIZATION', [SOC]: 48, [TARGET]: 80, [BATTERY]: 80.7 } },
    { at: 4, data: { [STATUS]: 'CHARGINGACTIVE', [POWER]: 10980, [TIME_TO_FULL]: 150 } },
    { at: 30 * MIN, data: { [SOC]: 55, [POWER]: 11040, [RANGE]: 231, [TIME_TO_FULL]: 118 } },
    { at: 60 * MIN, data: { [SOC]: 61, [POWER]: 11010, [RANGE]: 257, [TIME_TO_FULL]: 88 } },
    { at: 90 * MIN, data: { [SOC]: 68, [POWER]: 10990, [RANGE]: 287, [TIME_TO_FULL]: 56 } },
    { at: 120 * MIN, data: { [SOC]: 74, [POWER]: 9870, [RANGE]: 312, [TIME_TO_FULL]: 26 } },
    { at: 146 * MIN, data: { [SOC]: 80, [RANGE]: 338 } },
    { at: 146 * MIN + 3, data: { [STATUS]: 'CHARGINGENDED' } },
    { at: 206 * MIN, data: { [PORT]: 'DISCONNECTED', [PLUGGED]: false, [STATUS]: 'NOCHARGING' } },
  ],
};

/** A DC fast charger: the car reports its battery's energy content, so the energy added is measured. */
const dcSession: ChargingScript = {
  name: 'dc-session',
  description: 'DC fast charge on the road, up to 205 kW: 12 % to 79 %, stopped by the driver before the 80 % target',
  vin: SIM_VINS.bev,
  steps: [
    { at: 0, data: { [PORT]: 'CONNECTED', [DC_PORT]: 'CONNECTED', [PLUGGED]: true, [SOC]: 12, [ENERGY]: 9.2, [TARGET]: 80 } },
    { at: 20, data: { [STATUS]: 'CHARGINGACTIVE', [POWER]: 148000 } },
    { at: 8 * MIN, data: { [SOC]: 35, [ENERGY]: 28.1, [POWER]: 205000 } },
    { at: 16 * MIN, data: { [SOC]: 58, [ENERGY]: 46.6, [POWER]: 176000 } },
    { at: 24 * MIN, data: { [SOC]: 72, [ENERGY]: 57.9, [POWER]: 98000 } },
    { at: 28 * MIN, data: { [SOC]: 79, [ENERGY]: 63.8, [POWER]: 61000 } },
    { at: 29 * MIN, data: { [STATUS]: 'CHARGINGENDED' } },
    { at: 30 * MIN, data: { [PORT]: 'DISCONNECTED', [DC_PORT]: 'DISCONNECTED', [PLUGGED]: false } },
    { at: 30 * MIN + 2, data: { [STATUS]: 'NOCHARGING' } },
  ],
};

/** A public AC charger that loses the grid, resumes, fails, and is given up. */
const interrupted: ChargingScript = {
  name: 'interrupted',
  description: 'AC at a public charger: interrupted by the grid, resumed, then a charging error; the driver unplugs',
  vin: SIM_VINS.bev,
  steps: [
    { at: 0, data: { [PORT]: 'CONNECTED', [PLUGGED]: true, [SOC]: 30, [TARGET]: 90, [BATTERY]: 80.7 } },
    { at: 6, data: { [STATUS]: 'CHARGINGACTIVE', [POWER]: 7200 } },
    { at: 20 * MIN, data: { [SOC]: 33, [POWER]: 7150 } },
    { at: 31 * MIN, data: { [STATUS]: 'CHARGINGINTERRUPTED' } },
    { at: 45 * MIN, data: { [STATUS]: 'CHARGINGACTIVE', [POWER]: 7230 } },
    { at: 65 * MIN, data: { [SOC]: 38, [POWER]: 7190 } },
    { at: 70 * MIN, data: { [STATUS]: 'CHARGINGERROR' } },
    { at: 72 * MIN, data: { [STATUS]: 'NOCHARGING' } },
    { at: 75 * MIN, data: { [PORT]: 'DISCONNECTED', [PLUGGED]: false } },
  ],
};

/** The stream drops mid-charge; what the car sent meanwhile is lost; afterwards it re-sends what it knows. */
const streamDrop: ChargingScript = {
  name: 'stream-drop',
  description: 'AC at home with the stream down for 40 minutes in the middle; the charge ends after it is back',
  vin: SIM_VINS.bev,
  steps: [
    { at: 0, data: { [PORT]: 'CONNECTED', [SOC]: 52, [TARGET]: 80, [BATTERY]: 80.7 } },
    { at: 3, data: { [STATUS]: 'CHARGINGACTIVE', [POWER]: 11000 } },
    { at: 20 * MIN, data: { [SOC]: 56, [POWER]: 11020 } },
    { at: 25 * MIN, marker: 'stream-drop' },
    { at: 40 * MIN, data: { [SOC]: 60, [POWER]: 11200 } },
    { at: 65 * MIN, marker: 'stream-back' },
    { at: 65 * MIN, data: { [PORT]: 'CONNECTED', [STATUS]: 'CHARGINGACTIVE', [SOC]: 66, [POWER]: 11050 } },
    { at: 100 * MIN, data: { [SOC]: 72, [POWER]: 10100 } },
    { at: 118 * MIN, data: { [STATUS]: 'CHARGINGENDED', [SOC]: 75 } },
    { at: 150 * MIN, data: { [PORT]: 'DISCONNECTED', [STATUS]: 'NOCHARGING' } },
  ],
};

/** The host restarts mid-charge; the broker delivers the last message again (QoS 1) once it is back. */
const restart: ChargingScript = {
  name: 'restart',
  description: 'AC at home; the host restarts in the middle and gets the last message again; the charge ends after',
  vin: SIM_VINS.bev,
  steps: [
    { at: 0, data: { [PORT]: 'CONNECTED', [SOC]: 40, [TARGET]: 70, [BATTERY]: 80.7 } },
    { at: 3, data: { [STATUS]: 'CHARGINGACTIVE', [POWER]: 10900 } },
    { at: 30 * MIN, data: { [SOC]: 47, [POWER]: 11030 } },
    { at: 31 * MIN, marker: 'host-restart' },
    { at: 30 * MIN, data: { [SOC]: 47, [POWER]: 11030 } },
    { at: 60 * MIN, data: { [SOC]: 54, [POWER]: 11000 } },
    { at: 128 * MIN, data: { [SOC]: 70 } },
    { at: 128 * MIN + 2, data: { [STATUS]: 'CHARGINGENDED' } },
    { at: 140 * MIN, data: { [PORT]: 'DISCONNECTED', [STATUS]: 'NOCHARGING' } },
  ],
};

/** Every message of a plain session, some twice, some late: the events must be those of the plain session. */
const duplicatesOutOfOrder: ChargingScript = {
  name: 'duplicates-out-of-order',
  description: 'AC at home, with messages sent twice, values seconds apart and late messages older than what came before',
  vin: SIM_VINS.bev,
  steps: [
    { at: 0, data: { [PORT]: 'CONNECTED' } },
    { at: 0, data: { [PORT]: 'CONNECTED' } },
    { at: 2, data: { [SOC]: 20, [TARGET]: 60, [BATTERY]: 80.7, [POWER]: 11100 } },
    { at: 5, data: { [STATUS]: 'CHARGINGACTIVE' } },
    { at: 5, data: { [STATUS]: 'CHARGINGACTIVE' } },
    { at: 60 * MIN, data: { [SOC]: 33, [POWER]: 11000 } },
    { at: 30 * MIN, data: { [SOC]: 27, [POWER]: 11060 } },
    { at: 120 * MIN, data: { [SOC]: 46, [POWER]: 10950 } },
    { at: 180 * MIN, data: { [SOC]: 60 } },
    { at: 180 * MIN, data: { [SOC]: 60 } },
    { at: 180 * MIN + 4, data: { [STATUS]: 'CHARGINGENDED' } },
    { at: 150 * MIN, data: { [STATUS]: 'CHARGINGACTIVE', [SOC]: 53 } },
    { at: 240 * MIN, data: { [PORT]: 'DISCONNECTED', [STATUS]: 'NOCHARGING' } },
    { at: 170 * MIN, data: { [PORT]: 'CONNECTED' } },
    { at: 240 * MIN, data: { [PORT]: 'DISCONNECTED', [STATUS]: 'NOCHARGING' } },
  ],
};

/** A PHEV that never streams its state of charge (as an X3 30e does): its grid energy counter still moves. */
const phevNoSoc: ChargingScript = {
  name: 'phev-no-soc',
  description: 'PHEV on a 3.7 kW socket, streaming no state of charge and no battery size, but its grid energy counter',
  vin: SIM_VINS.phev,
  steps: [
    { at: 0, data: { [PORT]: 'CONNECTED', [TARGET]: 100, [GRID]: 1523.4 } },
    { at: 10, data: { [STATUS]: 'CHARGINGACTIVE', [POWER]: 3650 } },
    { at: 60 * MIN, data: { [POWER]: 3700, [GRID]: 1527.1 } },
    { at: 120 * MIN, data: { [POWER]: 3680, [GRID]: 1530.8 } },
    { at: 171 * MIN, data: { [STATUS]: 'CHARGINGENDED', [GRID]: 1533.9 } },
    { at: 12 * 60 * MIN, data: { [PORT]: 'DISCONNECTED', [STATUS]: 'NOCHARGING' } },
  ],
};

export const CHARGING_SCRIPTS: Readonly<Record<ChargingScriptName, ChargingScript>> = {
  'ac-session': acSession,
  'dc-session': dcSession,
  interrupted,
  'stream-drop': streamDrop,
  restart,
  'duplicates-out-of-order': duplicatesOutOfOrder,
  'phev-no-soc': phevNoSoc,
};

export const CHARGING_SCRIPT_NAMES = Object.keys(CHARGING_SCRIPTS) as ChargingScriptName[];

/** Default start of a script: an evening in November 2026. */
export const CHARGING_SCRIPT_START = Date.parse('2026-11-26T17:00:00.000Z');

/** A step as it goes out: a BMW stream message, or a marker. */
export type ChargingScriptItem = { at: string; message: StreamRawMessage } | { at: string; marker: ChargingScriptMarker };

function unitOf(descriptor: string): string | null {
  return cleanUnit(findDescriptor(descriptor)?.unit);
}

/** A UUID-shaped id that is the same for the same message, as a re-sent message keeps its id. */
function entityIdOf(vin: string, at: string, data: Record<string, StreamScalar>): string {
  const h = createHash('sha256')
    .update(JSON.stringify([vin, at, data]))
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A script's VIN and steps: what turns into messages (charging scripts, trip scripts). */
export type ScriptSteps = Pick<ChargingScript, 'vin' | 'steps'>;

/** The script's steps as BMW messages (`{vin, entityId, topic, timestamp, data}`) and markers. */
export function chargingScriptItems(script: ScriptSteps, opts: { vin?: string; start?: number } = {}): ChargingScriptItem[] {
  const vin = opts.vin ?? script.vin;
  const start = opts.start ?? CHARGING_SCRIPT_START;
  return script.steps.map((step) => {
    const at = new Date(start + step.at * 1000).toISOString();
    if ('marker' in step) return { at, marker: step.marker };
    const data: Record<string, { timestamp: string; value: StreamScalar; unit: string | null }> = {};
    for (const [descriptor, value] of Object.entries(step.data)) data[descriptor] = { timestamp: at, value, unit: unitOf(descriptor) };
    return { at, message: { vin, entityId: entityIdOf(vin, at, step.data), topic: vin, timestamp: at, data } };
  });
}

export interface PlayChargingScriptOptions {
  vin?: string;
  start?: number;
  /** Between two steps. Default 100 ms. */
  intervalMs?: number;
  /** Called at each marker, before the script goes on (for example to restart a host). */
  onMarker?: (marker: ChargingScriptMarker) => void | Promise<void>;
}

/**
 * Replays a script through the simulated stream: messages are published in order; at `stream-drop` every
 * connection of the account is dropped and the messages until `stream-back` go out to nobody, as BMW's do.
 * Subscribers that reconnect on their own (the core client does) receive the rest.
 */
export async function playChargingScript(stream: StreamControl, name: ChargingScriptName, opts: PlayChargingScriptOptions = {}): Promise<void> {
  const script = CHARGING_SCRIPTS[name];
  if (!script) throw new Error(`Unknown charging script "${String(name)}"; use ${CHARGING_SCRIPT_NAMES.join(', ')}`);
  await playScript(stream, script, opts);
}

/** Replays a script's steps through the simulated stream (see playChargingScript). */
export async function playScript(stream: StreamControl, script: ScriptSteps, opts: PlayChargingScriptOptions = {}): Promise<void> {
  const interval = opts.intervalMs ?? 100;
  const vin = opts.vin ?? script.vin;
  let dropped = false;
  for (const item of chargingScriptItems(script, { vin, start: opts.start })) {
    if ('marker' in item) {
      if (item.marker === 'stream-drop') {
        dropped = true;
        stream.kick();
      } else if (item.marker === 'stream-back') dropped = false;
      await opts.onMarker?.(item.marker);
    } else {
      // While dropped, kick again so a quick reconnect does not catch messages BMW would not deliver.
      if (dropped) stream.kick();
      await stream.publishRaw(vin, JSON.stringify(item.message));
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
