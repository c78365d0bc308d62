import type { StreamScalar } from './broker-scenarios';
import { chargingScriptItems, playScript, type ChargingScriptItem, type ChargingScriptStep, type PlayChargingScriptOptions } from './charging-scripts';
import type { StreamControl } from './broker';
import { HOME, WORK } from './places';
import { SIM_VINS } from './vehicles';
import { IGNITION, ENGINE_ACTIVE as ENGINE, MOVING, ODOMETER, LAT, LON, SOC, BATTERY, ENERGY, FUEL, FUEL_LEVEL, LOCK } from './descriptor-names';

// Scripted drives as data, beside the charging scripts and in their format: what a car sends on a trip, with BMW's
// habits (latitude and longitude in separate messages with the same time, bursts of the same fix, the last fix
// and odometer after the ignition went off, nothing in a tunnel and the buffered readings late after it), plus
// the moments the stream drops or the host restarts. Tests feed them to the core and replay them through the
// simulated broker with playTripScript().

export type TripScriptName = 'commute' | 'tunnel' | 'stop' | 'phev' | 'stream-drop' | 'restart';

export interface TripScript {
  name: TripScriptName;
  description: string;
  vin: string;
  steps: ChargingScriptStep[];
}

const MIN = 60;

interface Point {
  lat: number;
  lon: number;
}

/** Munich airport, the end of the long trip. */
const AIRPORT: Point = { lat: 48.35378, lon: 11.78609 };
/** A petrol station on the way north. */
const FREISING: Point = { lat: 48.40303, lon: 11.74876 };

/** A point the fraction `f` of the way from `a` to `b`. */
function on(a: Point, b: Point, f: number): Point {
  return { lat: Math.round((a.lat + (b.lat - a.lat) * f) * 1e5) / 1e5, lon: Math.round((a.lon + (b.lon - a.lon) * f) * 1e5) / 1e5 };
}

/** A fix as BMW sends it: latitude and longitude in two messages with the same time. */
function fix(at: number, p: Point): ChargingScriptStep[] {
  return [
    { at, data: { [LAT]: p.lat } },
    { at, data: { [LON]: p.lon } },
  ];
}

function step(at: number, data: Record<string, StreamScalar>): ChargingScriptStep {
  return { at, data };
}

/** The i4 from home to work, 6 km: a burst of the same fix, the last fix after the ignition went off. */
const commute: TripScript = {
  name: 'commute',
  description: 'BEV from home to work, 6 km in 17 minutes; the same fix sent twice; the last fix comes after the ignition is off',
  vin: SIM_VINS.bev,
  steps: [
    step(0, { [LOCK]: 'UNLOCKED' }),
    step(20, { [IGNITION]: true, [SOC]: 80, [BATTERY]: 80.7, [ODOMETER]: 23418 }),
    ...fix(20, HOME),
    step(35, { [MOVING]: true }),
    ...fix(4 * MIN, on(HOME, WORK, 0.25)),
    step(6 * MIN, { [ODOMETER]: 23420 }),
    ...fix(8 * MIN, on(HOME, WORK, 0.5)),
    fix(8 * MIN, on(HOME, WORK, 0.5))[0],
    step(11 * MIN, { [ODOMETER]: 23422, [SOC]: 79 }),
    ...fix(12 * MIN, on(HOME, WORK, 0.75)),
    ...fix(16 * MIN, on(HOME, WORK, 0.97)),
    step(17 * MIN, { [MOVING]: false, [ODOMETER]: 23424, [SOC]: 78 }),
    step(17 * MIN + 20, { [IGNITION]: false }),
    ...fix(17 * MIN + 25, WORK),
    step(18 * MIN, { [LOCK]: 'SECURED' }),
  ],
};

/** A long drive with eight minutes in a tunnel: nothing arrives, then the buffered readings come late. */
const tunnel: TripScript = {
  name: 'tunnel',
  description: 'BEV from home to the airport, 31 km in 35 minutes, 8 minutes in a tunnel; readings from inside it arrive after it, late',
  vin: SIM_VINS.bev,
  steps: [
    step(0, { [IGNITION]: true, [ODOMETER]: 23424, [SOC]: 78, [BATTERY]: 80.7 }),
    ...fix(0, HOME),
    step(10, { [MOVING]: true }),
    ...fix(4 * MIN, on(HOME, AIRPORT, 0.1)),
    step(4 * MIN, { [ODOMETER]: 23426 }),
    ...fix(8 * MIN, on(HOME, AIRPORT, 0.25)),
    step(8 * MIN, { [ODOMETER]: 23429 }),
    ...fix(11 * MIN, on(HOME, AIRPORT, 0.33)),
    step(11 * MIN, { [ODOMETER]: 23432, [SOC]: 76 }),
    // In the tunnel from 12 to 20 minutes: nothing. Out of it, the current fix first, then what was buffered.
    ...fix(21 * MIN, on(HOME, AIRPORT, 0.55)),
    step(21 * MIN, { [ODOMETER]: 23441 }),
    step(15 * MIN, { [ODOMETER]: 23435 }),
    step(18 * MIN, { [ODOMETER]: 23438, [SOC]: 74 }),
    ...fix(26 * MIN, on(HOME, AIRPORT, 0.75)),
    step(26 * MIN, { [ODOMETER]: 23446 }),
    ...fix(31 * MIN, on(HOME, AIRPORT, 0.95)),
    step(31 * MIN, { [ODOMETER]: 23452, [SOC]: 71 }),
    step(34 * MIN, { [MOVING]: false }),
    step(34 * MIN + 30, { [IGNITION]: false, [ODOMETER]: 23455, [SOC]: 70 }),
    ...fix(34 * MIN + 40, AIRPORT),
  ],
};

/**
 * Errands on the way to work: a traffic light (standing, ignition on), six minutes at the bakery with the ignition
 * off, four minutes standing with the engine on; one trip with one stop.
 */
const stop: TripScript = {
  name: 'stop',
  description: 'BEV to work with a traffic light, 6 minutes at the bakery with the ignition off and 4 minutes standing with the engine on: one trip, one stop',
  vin: SIM_VINS.bev,
  steps: [
    step(0, { [IGNITION]: true, [ODOMETER]: 23455, [SOC]: 70, [BATTERY]: 80.7 }),
    ...fix(0, HOME),
    step(15, { [MOVING]: true }),
    ...fix(3 * MIN, on(HOME, WORK, 0.2)),
    step(3 * MIN, { [ODOMETER]: 23457 }),
    step(5 * MIN, { [MOVING]: false }),
    step(6 * MIN + 30, { [MOVING]: true }),
    ...fix(8 * MIN, on(HOME, WORK, 0.4)),
    step(8 * MIN, { [ODOMETER]: 23459 }),
    step(8 * MIN + 30, { [MOVING]: false }),
    step(8 * MIN + 40, { [IGNITION]: false }),
    step(14 * MIN + 40, { [IGNITION]: true }),
    step(14 * MIN + 50, { [MOVING]: true }),
    ...fix(17 * MIN, on(HOME, WORK, 0.6)),
    step(17 * MIN, { [ODOMETER]: 23461 }),
    step(20 * MIN, { [MOVING]: false }),
    step(24 * MIN, { [MOVING]: true }),
    ...fix(27 * MIN, on(HOME, WORK, 0.9)),
    step(27 * MIN, { [ODOMETER]: 23464, [SOC]: 68 }),
    step(29 * MIN, { [MOVING]: false }),
    step(29 * MIN + 15, { [IGNITION]: false }),
    ...fix(29 * MIN + 20, WORK),
  ],
};

/**
 * The 330e north out of town: electric until the battery is low, then petrol (the engine flag goes on and off;
 * it is not the ignition), a fuel stop with the ignition off, on again. State of charge, the battery's energy
 * content and the tank in litres.
 */
const phev: TripScript = {
  name: 'phev',
  description: 'PHEV, 58 km: electric first, then petrol, with a 7-minute fuel stop (9 l to 42 l); battery energy content and tank content streamed',
  vin: SIM_VINS.phev,
  steps: [
    step(0, { [IGNITION]: true, [ENGINE]: false, [ODOMETER]: 41230, [SOC]: 90, [BATTERY]: 12, [ENERGY]: 10.8, [FUEL]: 9, [FUEL_LEVEL]: 22 }),
    ...fix(0, WORK),
    step(10, { [MOVING]: true }),
    ...fix(10 * MIN, on(WORK, FREISING, 0.2)),
    step(10 * MIN, { [ODOMETER]: 41238, [SOC]: 60, [ENERGY]: 7.2 }),
    ...fix(20 * MIN, on(WORK, FREISING, 0.45)),
    step(20 * MIN, { [ODOMETER]: 41249, [SOC]: 30, [ENERGY]: 3.6 }),
    step(26 * MIN, { [ENGINE]: true, [SOC]: 15, [ENERGY]: 1.8 }),
    ...fix(30 * MIN, on(WORK, FREISING, 0.7)),
    step(30 * MIN, { [ODOMETER]: 41262, [FUEL]: 8.1 }),
    step(34 * MIN, { [MOVING]: false }),
    step(34 * MIN + 20, { [IGNITION]: false, [ENGINE]: false }),
    step(36 * MIN, { [FUEL]: 42, [FUEL_LEVEL]: 100 }),
    step(41 * MIN, { [IGNITION]: true, [ENGINE]: true }),
    step(41 * MIN + 10, { [MOVING]: true }),
    ...fix(50 * MIN, on(WORK, FREISING, 0.85)),
    step(50 * MIN, { [ODOMETER]: 41275, [FUEL]: 41 }),
    ...fix(58 * MIN, on(WORK, FREISING, 0.98)),
    step(58 * MIN, { [ODOMETER]: 41286, [FUEL]: 40.2, [SOC]: 14, [ENERGY]: 1.7 }),
    step(60 * MIN, { [MOVING]: false }),
    step(60 * MIN + 20, { [IGNITION]: false, [ENGINE]: false, [ODOMETER]: 41288 }),
    ...fix(60 * MIN + 25, FREISING),
    step(60 * MIN + 30, { [FUEL_LEVEL]: 95 }),
  ],
};

/** The stream drops for 17 minutes mid-trip; what the car sent meanwhile is lost; it re-sends what it knows after. */
const streamDrop: TripScript = {
  name: 'stream-drop',
  description: 'BEV from work to the airport with the stream down for 17 minutes in the middle; the trip ends after it is back',
  vin: SIM_VINS.bev,
  steps: [
    step(0, { [IGNITION]: true, [ODOMETER]: 23464, [SOC]: 68, [BATTERY]: 80.7 }),
    ...fix(0, WORK),
    step(12, { [MOVING]: true }),
    ...fix(4 * MIN, on(WORK, AIRPORT, 0.12)),
    step(4 * MIN, { [ODOMETER]: 23467 }),
    { at: 7 * MIN, marker: 'stream-drop' },
    ...fix(10 * MIN, on(WORK, AIRPORT, 0.3)),
    step(10 * MIN, { [ODOMETER]: 23472 }),
    step(15 * MIN, { [ODOMETER]: 23478, [SOC]: 66 }),
    ...fix(20 * MIN, on(WORK, AIRPORT, 0.6)),
    { at: 24 * MIN, marker: 'stream-back' },
    step(25 * MIN, { [IGNITION]: true, [MOVING]: true, [ODOMETER]: 23485, [SOC]: 65 }),
    ...fix(25 * MIN, on(WORK, AIRPORT, 0.8)),
    ...fix(31 * MIN, on(WORK, AIRPORT, 0.97)),
    step(31 * MIN, { [ODOMETER]: 23490 }),
    step(33 * MIN, { [MOVING]: false }),
    step(33 * MIN + 20, { [IGNITION]: false, [SOC]: 64 }),
    ...fix(33 * MIN + 30, AIRPORT),
  ],
};

/** The host restarts mid-trip; the broker delivers the last message again (QoS 1) once it is back. */
const restart: TripScript = {
  name: 'restart',
  description: 'BEV from the airport home; the host restarts in the middle and gets the last message again; the trip ends after',
  vin: SIM_VINS.bev,
  steps: [
    step(0, { [IGNITION]: true, [ODOMETER]: 23490, [SOC]: 64, [BATTERY]: 80.7 }),
    ...fix(0, AIRPORT),
    step(10, { [MOVING]: true }),
    ...fix(5 * MIN, on(AIRPORT, HOME, 0.2)),
    step(5 * MIN, { [ODOMETER]: 23496 }),
    step(10 * MIN, { [ODOMETER]: 23502, [SOC]: 62 }),
    { at: 10 * MIN + 30, marker: 'host-restart' },
    step(10 * MIN, { [ODOMETER]: 23502, [SOC]: 62 }),
    ...fix(15 * MIN, on(AIRPORT, HOME, 0.55)),
    step(15 * MIN, { [ODOMETER]: 23508 }),
    ...fix(24 * MIN, on(AIRPORT, HOME, 0.97)),
    step(24 * MIN, { [ODOMETER]: 23520, [SOC]: 59 }),
    step(25 * MIN, { [MOVING]: false }),
    step(25 * MIN + 10, { [IGNITION]: false }),
    ...fix(25 * MIN + 20, HOME),
  ],
};

export const TRIP_SCRIPTS: Readonly<Record<TripScriptName, TripScript>> = {
  commute,
  tunnel,
  stop,
  phev,
  'stream-drop': streamDrop,
  restart,
};

export const TRIP_SCRIPT_NAMES = Object.keys(TRIP_SCRIPTS) as TripScriptName[];

/** Default start of a trip script: a morning in November 2026 (07:30 in Munich). */
export const TRIP_SCRIPT_START = Date.parse('2026-11-27T06:30:00.000Z');

/** The script's steps as BMW messages and markers, as chargingScriptItems does for charging scripts. */
export function tripScriptItems(script: TripScript, opts: { vin?: string; start?: number } = {}): ChargingScriptItem[] {
  return chargingScriptItems(script, { vin: opts.vin, start: opts.start ?? TRIP_SCRIPT_START });
}

/** Replays a trip script through the simulated stream, as playChargingScript does (dropping at `stream-drop`). */
export async function playTripScript(stream: StreamControl, name: TripScriptName, opts: PlayChargingScriptOptions = {}): Promise<void> {
  const script = TRIP_SCRIPTS[name];
  if (!script) throw new Error(`Unknown trip script "${String(name)}"; use ${TRIP_SCRIPT_NAMES.join(', ')}`);
  await playScript(stream, script, { ...opts, start: opts.start ?? TRIP_SCRIPT_START });
}
