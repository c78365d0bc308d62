import { HOME, WORK } from './places';

// Scripted stream scenarios: what a car sends while charging, while plugged in without charging, while being
// unlocked and opened, and on a short trip. Each scenario is a list of messages (descriptor -> value) published
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

const SOC = 'vehicle.drivetrain.batteryManagement.header';
const RANGE = 'vehicle.drivetrain.electricEngine.remainingElectricRange';
const HV_STATUS = 'vehicle.drivetrain.electricEngine.charging.hvStatus';
const TIME_REMAINING = 'vehicle.drivetrain.electricEngine.charging.timeRemaining';
const PORT = 'vehicle.body.chargingPort.status';
const AMPERE = 'vehicle.drivetrain.electricEngine.charging.acAmpere';
const LAT = 'vehicle.cabin.infotainment.navigation.currentLocation.latitude';
const LON = 'vehicle.cabin.infotainment.navigation.currentLocation.longitude';
const HEADING = 'vehicle.cabin.infotainment.navigation.currentLocation.heading';
const MILEAGE = 'vehicle.vehicle.travelledDistance';
const LOCK = 'vehicle.cabin.door.lock.status';
const TARGET = 'vehicle.powertrain.electric.battery.stateOfCharge.target';
const POWER = 'vehicle.powertrain.electric.battery.charging.power';
const BATTERY = 'vehicle.drivetrain.batteryManagement.batterySizeMax';

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
    { [PORT]: 'CONNECTED', [HV_STATUS]: 'CHARGING', [AMPERE]: 16, [SOC]: s.soc, [TIME_REMAINING]: minutesTo80(s), [TARGET]: 80, [BATTERY]: s.capacityKwh, [POWER]: 11000 },
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
 * A short drive between home and work: ignition on, positions on the way (latitude and longitude arrive in
 * separate messages, as BMW sends them), mileage and charge going with it, then parked and locked.
 */
function trip(s: CarStreamState): ScenarioStep[] {
  const from = { lat: s.lat, lon: s.lon };
  const atHome = Math.abs(s.lat - HOME.lat) < 0.001 && Math.abs(s.lon - HOME.lon) < 0.001;
  const to = atHome ? WORK : HOME;
  const distanceKm = 3.4;
  const legs = 4;
  const heading = Math.round(((Math.atan2(to.lon - from.lon, to.lat - from.lat) * 180) / Math.PI + 360) % 360);
  const startMileage = s.mileageKm;
  const steps: ScenarioStep[] = [
    { [LOCK]: 'UNLOCKED', 'vehicle.drivetrain.engine.isIgnitionOn': true },
    { 'vehicle.isMoving': true, [HEADING]: heading },
  ];
  for (let i = 1; i <= legs; i++) {
    const lat = round6(from.lat + ((to.lat - from.lat) * i) / legs);
    const lon = round6(from.lon + ((to.lon - from.lon) * i) / legs);
    steps.push({ [LAT]: lat });
    steps.push({ [LON]: lon });
    s.lat = lat;
    s.lon = lon;
  }
  s.mileageKm = Math.round((startMileage + distanceKm) * 10) / 10;
  s.soc = Math.max(5, s.soc - 1);
  steps.push({ 'vehicle.isMoving': false, [MILEAGE]: s.mileageKm, [SOC]: s.soc, [RANGE]: rangeKm(s) });
  steps.push({
    'vehicle.drivetrain.engine.isIgnitionOn': false,
    'vehicle.trip.segment.end.travelledDistance': distanceKm,
    [LOCK]: 'SECURED',
  });
  return steps;
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
