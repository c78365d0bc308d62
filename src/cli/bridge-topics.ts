import { createHash } from 'crypto';
import { CHARGING_DESCRIPTORS, numberOf, openMonthSummary, type ChargingEvent, type StateValue, type TripEvent, type VehicleRecord } from '../core';

// What the bridge publishes for one car, as topic -> payload, computed from core's state of the car. Pure: the
// bridge compares the result with what it published last and sends the difference. A value that is not known
// has no entry, so nothing is published for it (never a 0 or an empty string standing in for "unknown").

export const DEFAULT_PREFIX = 'bmw-cardata';

export const DESCRIPTORS = {
  electricRange: 'vehicle.drivetrain.electricEngine.remainingElectricRange',
  totalRange: 'vehicle.drivetrain.totalRemainingRange',
  odometer: 'vehicle.vehicle.travelledDistance',
  latitude: 'vehicle.cabin.infotainment.navigation.currentLocation.latitude',
  longitude: 'vehicle.cabin.infotainment.navigation.currentLocation.longitude',
  heading: 'vehicle.cabin.infotainment.navigation.currentLocation.heading',
} as const;

/** Sub-topics of `<prefix>/<VIN>/` the bridge derives; data keys never collide with them (they contain dots). */
export const SUBTOPICS = {
  state: 'state',
  charging: 'charging',
  location: 'location',
  event: 'event',
  trip: 'trip',
  /** The last finished trip (retained), beside the trip events of `trip`. */
  lastTrip: 'trip/last',
  /** kWh charged, only ever increasing (the ledger's energy counter), as a number. */
  energy: 'energy',
  /** This month's figures as JSON (sessions, kWh, cost with a tariff, trips, km). */
  month: 'month',
  evcc: 'evcc',
} as const;

/** BMW's data keys are dotted words; anything else (a wildcard, a slash) gets no topic of its own. */
const SAFE_KEY = /^[A-Za-z0-9._-]+$/;

export function statusTopic(prefix: string): string {
  return `${prefix}/status`;
}

export function vehicleTopic(prefix: string, vin: string, sub: string): string {
  return `${prefix}/${vin}/${sub}`;
}

/** A value as MQTT payload: numbers and booleans as text, strings as they are, null as an empty payload. */
export function payloadOf(value: StateValue['value']): string {
  if (value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

function km(values: Record<string, StateValue>, descriptor: string): number | undefined {
  const n = numberOf(values, descriptor);
  // The catalogue has no unit for the odometer; BMW sends km. A value in another unit is left out.
  return n && (n.unit === null || n.unit === 'km') ? n.value : undefined;
}

function stateOfCharge(values: Record<string, StateValue>): number | undefined {
  for (const d of CHARGING_DESCRIPTORS.soc) {
    const n = numberOf(values, d);
    if (n) return n.value;
  }
  return undefined;
}

/** The values evcc reads (soc %, plugged, charging, range in whole km, odometer km); unknown ones are absent. */
export function evccValues(record: VehicleRecord): Partial<Record<'soc' | 'plugged' | 'charging' | 'range' | 'odometer', string>> {
  const out: Partial<Record<'soc' | 'plugged' | 'charging' | 'range' | 'odometer', string>> = {};
  const soc = stateOfCharge(record.values);
  if (soc !== undefined) out.soc = String(soc);
  const c = record.charging;
  if (c.plugged !== null) out.plugged = String(c.plugged);
  // Charging is known once a charging status arrived, or when the car is unplugged (then it cannot charge).
  if (c.phase !== null || c.plugged === false) out.charging = String(c.phase !== null ? c.charging : false);
  // evcc reads the range as whole kilometres.
  const range = km(record.values, DESCRIPTORS.electricRange);
  if (range !== undefined) out.range = String(Math.round(range));
  const odometer = km(record.values, DESCRIPTORS.odometer);
  if (odometer !== undefined) out.odometer = String(odometer);
  return out;
}

/**
 * A charging or trip event's id: the same for the same event however often it is derived or sent (again after a
 * restart, or from a message the stream delivered twice), different for two events. A consumer drops an id it has
 * seen.
 */
export function eventId(event: ChargingEvent | TripEvent): string {
  const key = [event.vin, event.kind, event.at, 'sessionId' in event ? event.sessionId : 'tripId' in event ? event.tripId : null];
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 24);
}

/** The payload of `<prefix>/<VIN>/event` and `<prefix>/<VIN>/trip`: the event as JSON, its id first. */
export function eventPayload(event: ChargingEvent | TripEvent): string {
  return JSON.stringify({ id: eventId(event), ...event });
}

/** Every retained topic of one car with its payload; `lastTrip` is the payload of its last finished trip, if any. */
export function retainedTopics(prefix: string, record: VehicleRecord, extra: { lastTrip?: string } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const vin = record.vin;
  for (const [descriptor, entry] of Object.entries(record.values)) {
    if (SAFE_KEY.test(descriptor)) out.set(vehicleTopic(prefix, vin, descriptor), payloadOf(entry.value));
  }
  out.set(vehicleTopic(prefix, vin, SUBTOPICS.state), JSON.stringify(record));
  const c = record.charging;
  if (c.plugged !== null || c.phase !== null) {
    out.set(
      vehicleTopic(prefix, vin, SUBTOPICS.charging),
      JSON.stringify({ plugged: c.plugged, status: c.status, phase: c.phase, charging: c.charging, powerKw: c.powerKw, sessionId: c.session?.id ?? null }),
    );
  }
  const lat = numberOf(record.values, DESCRIPTORS.latitude);
  const lon = numberOf(record.values, DESCRIPTORS.longitude);
  if (lat && lon) {
    const heading = numberOf(record.values, DESCRIPTORS.heading);
    const location: Record<string, number | string> = { latitude: lat.value, longitude: lon.value };
    if (heading) location.heading = heading.value;
    location.timestamp = new Date(Math.max(lat.time, lon.time)).toISOString();
    out.set(vehicleTopic(prefix, vin, SUBTOPICS.location), JSON.stringify(location));
  }
  if (record.ledger) {
    out.set(vehicleTopic(prefix, vin, SUBTOPICS.energy), String(Math.round(record.ledger.energyKwh * 1000) / 1000));
    const month = openMonthSummary(record.ledger, vin);
    if (month) out.set(vehicleTopic(prefix, vin, SUBTOPICS.month), JSON.stringify(month));
  }
  for (const [name, payload] of Object.entries(evccValues(record))) out.set(vehicleTopic(prefix, vin, `${SUBTOPICS.evcc}/${name}`), payload);
  if (extra.lastTrip !== undefined) out.set(vehicleTopic(prefix, vin, SUBTOPICS.lastTrip), extra.lastTrip);
  return out;
}

/** A topic prefix: one or more levels, no wildcards, no empty level. */
export function checkPrefix(prefix: string): string | undefined {
  if (prefix === '') return 'must not be empty';
  if (/[+#\0]/.test(prefix)) return 'must not contain +, # or NUL';
  if (prefix.split('/').some((level) => level === '')) return 'must not start or end with / or contain //';
  return undefined;
}
