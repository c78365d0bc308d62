import type { TelematicDataEntry } from '../core/types';
import type { CatalogueItem } from './catalogue';
import { CATALOGUE } from './catalogue';
import { HOME } from './places';
import type { Rng } from './random';
import { rngFor, round } from './random';
import type { VehicleProfile } from './vehicles';

// Values for /telematicData. The catalogue's `range` is free text written for humans ("0 % to 100 %",
// "CLOSED, OPEN, INVALID", "dd.mm.yyyy hh:mm UTC"), so values are derived from it heuristically, with a few
// key descriptors pinned to values that agree with the vehicle profile and the charging history.
// Everything arrives as strings, as BMW sends it; keys the vehicle never reported carry null value and timestamp.

/** Parked at home, plugged in; the BEV is charging. */
interface VehicleState {
  soc: number;
  electricRangeKm: number;
  charging: boolean;
}

type Pinned = (v: VehicleProfile, s: VehicleState, rng: Rng) => string | null;

const soc: Pinned = (_v, s) => String(s.soc);
const pressure: Pinned = (_v, _s, rng) => String(rng.int(238, 252));
const pressureTarget: Pinned = () => '250';
const closed: Pinned = () => 'false';
const zero: Pinned = () => '0';
const none: Pinned = () => null;
const tyreTemp: Pinned = (_v, _s, rng) => rng.float(13, 17).toFixed(1);

const PINNED: Partial<Record<string, Pinned>> = {
  'vehicle.drivetrain.batteryManagement.header': soc,
  'vehicle.drivetrain.electricEngine.charging.level': soc,
  'vehicle.trip.segment.end.drivetrain.batteryManagement.hvSoc': (_v, s) => String(Math.min(100, s.soc + 9)),
  'vehicle.powertrain.electric.battery.stateOfCharge.target': (v) => (v.propulsion === 'BEV' ? '80' : '100'),
  'vehicle.drivetrain.electricEngine.remainingElectricRange': (_v, s) => String(s.electricRangeKm),
  'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange': (_v, s) => String(s.electricRangeKm),
  'vehicle.drivetrain.totalRemainingRange': (_v, s) => String(s.electricRangeKm + 512),
  'vehicle.drivetrain.lastRemainingRange': () => '512',
  'vehicle.vehicle.travelledDistance': (v) => String(v.mileageKm),
  'vehicle.drivetrain.batteryManagement.maxEnergy': (v) => String(v.netCapacityKwh),
  'vehicle.drivetrain.electricEngine.charging.hvStatus': (_v, s) => (s.charging ? 'CHARGING' : 'NOT_CHARGING'),
  'vehicle.drivetrain.electricEngine.charging.status': (_v, s) => (s.charging ? 'AUTOMATIC_SELECTION' : 'UNKNOWN'),
  'vehicle.body.chargingPort.status': (_v, s) => (s.charging ? 'CONNECTED' : 'DISCONNECTED'),
  'vehicle.body.chargingPort.combinedStatus': (_v, s) => (s.charging ? 'CONNECTED' : 'DISCONNECTED'),
  'vehicle.body.chargingPort.statusClearText': (_v, s) => (s.charging ? 'CONNECTED' : 'DISCONNECTED'),
  'vehicle.drivetrain.electricEngine.charging.connectorStatus': (_v, s) => (s.charging ? 'CONNECTED' : 'DISCONNECTED'),
  'vehicle.powertrain.tractionBattery.charging.port.anyPosition.isPlugged': (_v, s) => String(s.charging),
  'vehicle.drivetrain.electricEngine.charging.timeRemaining': (v, s) =>
    s.charging ? String(Math.round((((80 - s.soc) / 100) * v.netCapacityKwh * 60) / (v.acMaxKw * 0.9))) : '0',
  'vehicle.drivetrain.electricEngine.charging.acAmpere': (_v, s) => (s.charging ? '16' : '0'),
  'vehicle.drivetrain.electricEngine.charging.acVoltage': (_v, s) => (s.charging ? '231' : '0'),
  'vehicle.drivetrain.electricEngine.charging.phaseNumber': (_v, s) => (s.charging ? '3-PHASES' : 'NO_CHARGING'),
  'vehicle.drivetrain.electricEngine.charging.method': (_v, s) => (s.charging ? 'AC_TYPE2PLUG' : 'NOCHARGING'),
  'vehicle.cabin.infotainment.navigation.currentLocation.latitude': () => HOME.lat.toFixed(6),
  'vehicle.cabin.infotainment.navigation.currentLocation.longitude': () => HOME.lon.toFixed(6),
  'vehicle.cabin.infotainment.navigation.currentLocation.altitude': () => '519',
  'vehicle.cabin.infotainment.navigation.currentLocation.heading': (_v, _s, rng) => String(rng.int(0, 359)),
  'vehicle.cabin.infotainment.navigation.currentLocation.fixStatus': () => 'GPS_FIX_3D',
  'vehicle.cabin.infotainment.navigation.currentLocation.numberOfSatellites': (_v, _s, rng) => String(rng.int(7, 14)),
  'vehicle.cabin.door.lock.status': () => 'SECURED',
  'vehicle.cabin.door.status': () => 'SECURED',
  'vehicle.isMoving': closed,
  'vehicle.drivetrain.engine.isActive': closed,
  'vehicle.drivetrain.engine.isIgnitionOn': closed,
  'vehicle.electricalSystem.battery.voltage': (_v, _s, rng) => rng.float(12.4, 12.9).toFixed(1),
  'vehicle.electricalSystem.battery.stateOfCharge': (_v, _s, rng) => String(rng.int(78, 95)),
  'vehicle.drivetrain.fuelSystem.level': () => '46',
  'vehicle.drivetrain.fuelSystem.remainingFuel': () => '18.9',
  'vehicle.status.serviceDistance.next': () => '11200',
  'vehicle.status.serviceDistance.yellow': () => '2000',
  'vehicle.cabin.infotainment.displayUnit.distance': () => 'km',
  'vehicle.cabin.infotainment.hmi.distanceUnit': () => 'KILOMETERS',
  'vehicle.trip.segment.end.travelledDistance': (_v, _s, rng) => String(rng.int(4, 62)),
  'vehicle.vehicle.averageWeeklyDistanceShortTerm': (_v, _s, rng) => String(rng.int(180, 420)),
  'vehicle.vehicle.averageWeeklyDistanceLongTerm': (_v, _s, rng) => String(rng.int(220, 380)),
  'vehicle.status.conditionBasedServicesAverageDistancePerDay': () => '41',
  'vehicle.drivetrain.electricEngine.charging.timeToFullyCharged': (v, s) =>
    s.charging ? String(Math.round((((100 - s.soc) / 100) * v.netCapacityKwh * 60) / (v.acMaxKw * 0.9))) : '0',
  'vehicle.drivetrain.electricEngine.charging.smeEnergyDeltaFullyCharged': (v, s) => (((100 - s.soc) / 100) * v.netCapacityKwh).toFixed(1),
  'vehicle.drivetrain.electricEngine.charging.connectionType': () => 'CONDUCTIVE',
  'vehicle.drivetrain.electricEngine.charging.modeDeviation': () => 'NO_DEVIATION',
  'vehicle.body.chargingPort.dcStatus': () => 'DISCONNECTED',
  'vehicle.powertrain.electric.battery.charging.acLimit.selected': () => '16',
  'vehicle.powertrain.electric.battery.charging.acLimit.max': () => '32',
  'vehicle.powertrain.electric.battery.charging.acLimit.min': () => '6',
  'vehicle.electricalSystem.battery48V.stateOfHealth.displayed': none,
  'vehicle.vehicle.avgAuxPower': (_v, _s, rng) => rng.float(0.3, 0.9).toFixed(2),
  'vehicle.vehicle.speedRange.lowerBound': zero,
  'vehicle.vehicle.speedRange.upperBound': () => '130',
  'vehicle.cabin.hvac.preconditioning.status.remainingRunningTime': zero,
  'vehicle.cabin.hvac.preconditioning.status.progress': zero,
  'vehicle.cabin.hvac.preconditioning.configuration.directStartSettings.targetTemperature': () => '21',
  'vehicle.cabin.hvac.preconditioning.configuration.defaultSettings.targetTemperature': () => '21',
  'vehicle.vehicle.preConditioning.remainingTime': zero,
  'vehicle.vehicle.preConditioning.activity': () => 'inactive',
  'vehicle.vehicle.preConditioning.error': () => 'OK',
  'vehicle.channel.teleservice.status': () => 'IDLE',
  'vehicle.body.trunk.isLocked': () => 'true',
  'vehicle.chassis.axle.row1.wheel.left.tire.temperature': tyreTemp,
  'vehicle.chassis.axle.row1.wheel.right.tire.temperature': tyreTemp,
  'vehicle.chassis.axle.row2.wheel.left.tire.temperature': tyreTemp,
  'vehicle.chassis.axle.row2.wheel.right.tire.temperature': tyreTemp,
  'vehicle.chassis.axle.row1.wheel.left.tire.pressure': pressure,
  'vehicle.chassis.axle.row1.wheel.right.tire.pressure': pressure,
  'vehicle.chassis.axle.row2.wheel.left.tire.pressure': pressure,
  'vehicle.chassis.axle.row2.wheel.right.tire.pressure': pressure,
  'vehicle.chassis.axle.row1.wheel.left.tire.pressureTarget': pressureTarget,
  'vehicle.chassis.axle.row1.wheel.right.tire.pressureTarget': pressureTarget,
  'vehicle.chassis.axle.row2.wheel.left.tire.pressureTarget': pressureTarget,
  'vehicle.chassis.axle.row2.wheel.right.tire.pressureTarget': pressureTarget,
};

/** Families of keys with the same value for a parked car. */
const PINNED_PATTERNS: ReadonlyArray<readonly [RegExp, Pinned]> = [
  [/^vehicle\.cabin\.seat\./, zero],
  [/^vehicle\.cabin\.steeringWheel\.heating$/, zero],
  [/^vehicle\.cabin\.door\.row\d\.\w+\.position$/, zero],
  [/^vehicle\.cabin\.sunroof\.(relativePosition|shade\.position)$/, zero],
  // A Gran Coupé has no convertible roof.
  [/^vehicle\.cabin\.convertible\./, none],
];

function pinnedFor(id: string): Pinned | undefined {
  return PINNED[id] ?? PINNED_PATTERNS.find(([re]) => re.test(id))?.[1];
}

/** Units the catalogue leaves empty or wrong but BMW fills in. */
const UNIT_OVERRIDES: Partial<Record<string, string>> = {
  'vehicle.vehicle.travelledDistance': 'km',
  'vehicle.drivetrain.electricEngine.kombiRemainingElectricRange': 'km',
  'vehicle.trip.segment.end.travelledDistance': 'km',
};

const PLACEHOLDERS = new Set(['INVALID', 'UNKNOWN', '-NA-', 'SIGNAL_INVALID', 'ASN_ISUNKNOWN']);

function enumTokens(range: string): string[] | undefined {
  const tokens = range
    .split(/[,;\n]/)
    .map((t) => t.trim())
    .filter(Boolean);
  if (tokens.length < 2 || !tokens.every((t) => /^[A-Za-z][A-Za-z0-9_-]*$/.test(t))) return undefined;
  return tokens;
}

/** "100,000" is a thousands separator, "655,34" a decimal comma. */
function parseNumber(text: string): number {
  const t = /,\d{3}(?!\d)/.test(text) ? text.replace(/,/g, '') : text.replace(',', '.');
  return Number(t);
}

function numericBounds(range: string): [number, number] | undefined {
  const firstLine = range.split(/\n|\bor\b/)[0];
  // A minus sign right after a digit is a range dash ("0-1000 kPa"), not a sign.
  const nums = (firstLine.match(/(?<!\d)-?\d+(?:[.,]\d+)?/g) ?? []).map(parseNumber).filter((n) => Number.isFinite(n));
  if (nums.length === 0) return undefined;
  if (nums.length === 1) return [nums[0], nums[0]];
  return [Math.min(nums[0], nums[1]), Math.max(nums[0], nums[1])];
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function formatDate(range: string, at: Date): string | undefined {
  const d = `${pad(at.getUTCDate())}.${pad(at.getUTCMonth() + 1)}.${at.getUTCFullYear()}`;
  const time = `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}`;
  if (range.startsWith('dd.mm.yyyy hh:mm:ss')) return `${d} ${time}:${pad(at.getUTCSeconds())} UTC`;
  if (range.startsWith('dd.mm.yyyy hh:mm')) return `${d} ${time} UTC`;
  if (range.startsWith('yyyy-mm-dd')) return `${at.toISOString().slice(0, 10)} ${time}:${pad(at.getUTCSeconds())} UTC`;
  if (range.startsWith('hh:mm') || range.startsWith('00:00 to 23:59')) return time;
  return undefined;
}

const INTEGER_TYPES = /^u?int\d+$/;

function derivedValue(item: CatalogueItem, rng: Rng, anchorMs: number): string | null {
  const range = item.range.trim();
  const date = formatDate(range, new Date(anchorMs - rng.int(1, 400) * 86_400_000));
  if (date !== undefined) return date;
  if (item.datatype === 'boolean' || /^true,\s*false$/i.test(range)) {
    // Open doors, running engines and alarms are the exception for a parked car.
    return /isOpen|isOn|Active|isMoving|Running/.test(item.id) ? 'false' : String(rng.chance(0.3));
  }
  const tokens = enumTokens(range);
  if (tokens && item.datatype !== 'uint8' && item.datatype !== 'uint16') {
    if (tokens.includes('CLOSED')) return 'CLOSED';
    const real = tokens.filter((t) => !PLACEHOLDERS.has(t.toUpperCase()));
    return rng.pick(real.length > 0 ? real : tokens);
  }
  const isNumber = INTEGER_TYPES.test(item.datatype) || item.datatype === 'float' || item.datatype === 'double';
  const numeric = !isNumber ? undefined : (numericBounds(range) ?? (INTEGER_TYPES.test(item.datatype) ? ([0, 100] as [number, number]) : undefined));
  if (numeric) {
    const [min, max] = numeric;
    // Wide ranges ("0 - 65500 Min") are upper limits, not typical values: skew towards the low end.
    const span = max - min;
    const value = span > 1000 ? min + span * rng.next() ** 4 : min + span * rng.float(0.15, 0.85);
    if (INTEGER_TYPES.test(item.datatype)) return String(Math.round(value));
    return String(round(value, Math.abs(value) < 10 ? 2 : 1));
  }
  // Free text, JSON or XML structures described in prose: report nothing rather than invent a format.
  return null;
}

function unitOf(item: CatalogueItem): string | null {
  const override = UNIT_OVERRIDES[item.id];
  if (override) return override;
  const unit = item.unit.trim();
  return unit === '' || unit === 'null' ? null : unit;
}

/** Telematic entries of one vehicle for every catalogue key, computed once. */
export function generateTelematics(v: VehicleProfile, anchorMs: number, seed: number): Map<string, TelematicDataEntry> {
  const stateRng = rngFor(seed, 'telematics-state', v.vin);
  const socNow = v.propulsion === 'BEV' ? stateRng.int(55, 78) : stateRng.int(30, 70);
  const fullRangeKm = v.propulsion === 'BEV' ? 470 : 52;
  const state: VehicleState = {
    soc: socNow,
    electricRangeKm: Math.round((socNow / 100) * fullRangeKm),
    charging: v.propulsion === 'BEV',
  };
  const out = new Map<string, TelematicDataEntry>();
  for (const item of CATALOGUE) {
    const rng = rngFor(seed, 'telematics', v.vin, item.id);
    const applies = item.vehicleTypes.includes(v.propulsion);
    const pinned = pinnedFor(item.id);
    // Some applicable keys are simply never reported by a given car (real behaviour: null value and timestamp).
    const silent = !pinned && rng.chance(0.12);
    const value = !applies || silent ? null : pinned ? pinned(v, state, rng) : derivedValue(item, rng, anchorMs);
    const ageSec = pinned ? rng.int(30, 40 * 60) : rng.int(60, 36 * 3600);
    out.set(item.id, {
      value,
      unit: unitOf(item),
      timestamp: value === null ? null : new Date(Math.floor(anchorMs / 1000 - ageSec) * 1000).toISOString(),
    });
  }
  return out;
}

/** The answer for a descriptor of no interest to this vehicle (keeps the shape of real answers). */
export const NEVER_REPORTED: TelematicDataEntry = { value: null, unit: null, timestamp: null };
