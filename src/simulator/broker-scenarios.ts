import { HOME, WORK } from './places';
import { SOC, RANGE, HV_STATUS, TIME_REMAINING, PORT, AC_AMPERE as AMPERE, LAT, LON, HEADING, ODOMETER as MILEAGE, LOCK, TARGET } from './descriptor-names';
import { POWER, BATTERY, IGNITION, MOVING } from './descriptor-names';

// Scripted stream scenarios: what a car sends while charging, while plugged in without charging, while being
// unlocked and opened, and on a trip (the commute, or the way home with a stop), then parked. Each scenario is a list of messages (descriptor -> value) published
// one per interval; a step without values is an interval in which the car sends nothing. Values are typed as BMW
// streams them: numbers for measurements, booleans for flags, strings for states.

export type ScenarioName = 'charging' | 'plugged-waiting' | 'doors' | 'trip';
export const SCENARIO_NAMES: readonly ScenarioName[] = ['charging', 'plugged-waiting', 'doors', 'trip'];

export type StreamScalar = string | number | boolean | null;
export type ScenarioStep = Record<string, StreamScalar>;

/** How many intervals the car of "plugged-waiting" stays plugged in without charging: 90 s at the usual 5 s. */
export const PLUGGED_WAITING_INTERVALS = 18;

/** What the car "is" between scenarios, per VIN, so a trip after a charge starts with the charged battery. */
export interface CarStreamState {
  soc: number;
  mileageKm: number;
  lat: number;
  lon: number;
  capacityKwh: number;
  consumptionKwhPer100Km: number;
}

export function initialCarState(): CarStreamState {
  return { soc: 48, mileageKm: 23_418, lat: HOME.lat, lon: HOME.lon, capacityKwh: 80.7, consumptionKwhPer100Km: 18.5 };
}

function rangeKm(s: CarStreamState): number {
  return Math.round(((s.soc / 100) * s.capacityKwh * 100) / s.consumptionKwhPer100Km);
}

/** Minutes to 80 % at 11 kW. */
function minutesTo80(s: CarStreamState): number {
  return Math.max(0, Math.round((((80 - s.soc) / 100) * s.capacityKwh * 60) / 9.9));
}

/**
 * A charging session at an 11 kW wallbox: plug in (with the 80 % target and the battery's size), state of charge
 * rising in steps to 80 % with the power, charging finished, unplug.
 */
function charging(s: CarStreamState): ScenarioStep[] {
  if (s.soc >= 75) s.soc = 48;
  const steps: ScenarioStep[] = [
    {
      [PORT]: 'CONNECTED',
      [HV_STATUS]: 'CHARGING',
      [AMPERE]: 16,
      [SOC]: s.soc,
      [TIME_REMAINING]: minutesTo80(s),
      [TARGET]: 80,
      [BATTERY]: s.capacityKwh,
      [POWER]: 11000,
    },
  ];
  while (s.soc < 80) {
    s.soc = Math.min(80, s.soc + 4);
    steps.push({ [SOC]: s.soc, [RANGE]: rangeKm(s), [TIME_REMAINING]: minutesTo80(s), [POWER]: s.soc < 80 ? 11000 - (s.soc - 48) * 10 : 7400 });
  }
  steps.push({ [HV_STATUS]: 'NOT_CHARGING', [AMPERE]: 0, [TIME_REMAINING]: 0 });
  steps.push({ [PORT]: 'DISCONNECTED' });
  return steps;
}

/**
 * Plugged in at a wallbox that waits for a cheap tariff that does not come: the car says it waits, then nothing
 * for PLUGGED_WAITING_INTERVALS, and the driver unplugs. No charge.
 */
function pluggedWaiting(s: CarStreamState): ScenarioStep[] {
  return [
    { [PORT]: 'CONNECTED', [HV_STATUS]: 'WAITING_FOR_CHARGING', [AMPERE]: 0, [SOC]: s.soc },
    ...Array.from({ length: PLUGGED_WAITING_INTERVALS - 1 }, () => ({})),
    { [PORT]: 'DISCONNECTED', [HV_STATUS]: 'NOT_CHARGING' },
  ];
}

/** Unlock, open and close the driver's door, open and close the boot, lock again. */
function doors(): ScenarioStep[] {
  return [
    { [LOCK]: 'UNLOCKED', 'vehicle.body.trunk.isLocked': false },
    { 'vehicle.cabin.door.row1.driver.isOpen': true },
    { 'vehicle.cabin.door.row1.driver.isOpen': false },
    { 'vehicle.body.trunk.isOpen': true },
    { 'vehicle.body.trunk.isOpen': false },
    { [LOCK]: 'SECURED', 'vehicle.body.trunk.isLocked': true },
  ];
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/**
 * Intervals the car stands parked after a drive: with the rest of a round (the other scenarios, about 3.5 minutes
 * at the usual 5 s) more than the 10 minutes without motion that end a trip, so the next drive is a trip of its own.
 */
export const PARKED_INTERVALS = 96;
/** Intervals of the stop at the bakery on the way home, with the ignition off: 1 minute at the usual 5 s. */
export const BAKERY_INTERVALS = 12;

/** A bakery on the way home from work. */
const BAKERY = { lat: 48.17502, lon: 11.57561 };

/** One leg of a drive: `legs` fixes from `from` to `to` (latitude and longitude in separate messages, as BMW sends them), the odometer ticking. */
function legSteps(s: CarStreamState, to: { lat: number; lon: number }, km: number, legs: number): ScenarioStep[] {
  const from = { lat: s.lat, lon: s.lon };
  const startKm = s.mileageKm;
  const steps: ScenarioStep[] = [];
  for (let i = 1; i <= legs; i++) {
    s.lat = round6(from.lat + ((to.lat - from.lat) * i) / legs);
    s.lon = round6(from.lon + ((to.lon - from.lon) * i) / legs);
    s.mileageKm = startKm + Math.round((km * i) / legs);
    steps.push({ [LAT]: s.lat, [MILEAGE]: s.mileageKm });
    steps.push({ [LON]: s.lon });
  }
  return steps;
}

function headingTo(s: CarStreamState, to: { lat: number; lon: number }): number {
  return Math.round(((Math.atan2(to.lon - s.lon, to.lat - s.lat) * 180) / Math.PI + 360) % 360);
}

/** Unlocked, the ignition on with the car's state (the odometer and the fix before it moves), then moving. */
function setOff(s: CarStreamState, to: { lat: number; lon: number }): ScenarioStep[] {
  return [
    { [LOCK]: 'UNLOCKED' },
    { [IGNITION]: true, [SOC]: s.soc, [BATTERY]: s.capacityKwh, [MILEAGE]: s.mileageKm },
    { [LAT]: s.lat },
    { [LON]: s.lon },
    { [MOVING]: true, [HEADING]: headingTo(s, to) },
  ];
}

/** The charge a drive of `km` uses, in whole %. */
function used(s: CarStreamState, km: number): number {
  return Math.max(1, Math.round(((km * s.consumptionKwhPer100Km) / 100 / s.capacityKwh) * 100));
}

/** Standing, the ignition off, locked. */
function park(s: CarStreamState, km: number): ScenarioStep[] {
  s.soc = Math.max(5, s.soc - used(s, km));
  return [
    { [MOVING]: false, [SOC]: s.soc, [RANGE]: rangeKm(s) },
    { [IGNITION]: false, 'vehicle.trip.segment.end.travelledDistance': km },
    { [LOCK]: 'SECURED' },
  ];
}

/**
 * A drive that the live feed takes for one trip (trips.ts), at town speed with a fix every two intervals (about
 * 40 km/h at the usual 5 s): from home, the commute to work (4 km in 6 minutes); from work, the way home past the
 * bakery (6 km, a minute there with the ignition off: a stop within the trip). Ignition, motion, odometer (before
 * the car moves too), positions and state of charge, then the car stays parked for PARKED_INTERVALS, so the trip
 * ends (10 minutes without motion) before the next round drives again.
 */
function trip(s: CarStreamState): ScenarioStep[] {
  const atHome = Math.abs(s.lat - HOME.lat) < 0.001 && Math.abs(s.lon - HOME.lon) < 0.001;
  const parked = Array.from({ length: PARKED_INTERVALS }, () => ({}));
  if (atHome) return [...setOff(s, WORK), ...legSteps(s, WORK, 4, 36), ...park(s, 4), ...parked];
  return [
    ...setOff(s, BAKERY),
    ...legSteps(s, BAKERY, 3, 27),
    ...park(s, 3),
    ...Array.from({ length: BAKERY_INTERVALS }, () => ({})),
    ...setOff(s, HOME),
    ...legSteps(s, HOME, 3, 27),
    ...park(s, 3),
    ...parked,
  ];
}

export function scenarioSteps(name: ScenarioName, state: CarStreamState): ScenarioStep[] {
  switch (name) {
    case 'charging':
      return charging(state);
    case 'plugged-waiting':
      return pluggedWaiting(state);
    case 'doors':
      return doors();
    case 'trip':
      return trip(state);
  }
}
