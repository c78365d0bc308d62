import type { ChargingBlock, ChargingSession } from '../core/types';
import type { Place } from './places';
import { formattedAddress, HOME, PUBLIC_PLACES, WORK } from './places';
import type { Rng } from './random';
import { rngFor, round } from './random';
import type { VehicleProfile } from './vehicles';

// Charging history of one vehicle: `count` sessions spread over the two years before the anchor time, newest
// first. Each session lies in its own time slot, so sessions never overlap, and every figure is derived from the
// state of charge delta and the battery size, so energy, duration and power agree with each other.

const SPAN_SEC = 730 * 86_400;
const HOUR = 3600;

const BUSINESS_HINTS = [
  'Charging was interrupted by the charging station.',
  'Charging target not reached before departure time.',
  'Charging stopped: connector removed.',
];

/** Approximate Europe/Berlin offset: summer time from April to October is close enough for fixtures. */
function berlinOffsetHours(epochSec: number): number {
  const month = new Date(epochSec * 1000).getUTCMonth();
  return month >= 3 && month <= 9 ? 2 : 1;
}

function pickPlace(v: VehicleProfile, rng: Rng): Place {
  if (v.propulsion === 'BEV') {
    const kind = rng.weighted([
      ['home', 55],
      ['work', 20],
      ['public', 25],
    ] as const);
    if (kind === 'home') return HOME;
    if (kind === 'work') return WORK;
    return rng.pick(PUBLIC_PLACES);
  }
  // A PHEV charges AC only, mostly at home.
  const kind = rng.weighted([
    ['home', 70],
    ['work', 25],
    ['public', 5],
  ] as const);
  if (kind === 'home') return HOME;
  if (kind === 'work') return WORK;
  return rng.pick(PUBLIC_PLACES.filter((p) => !p.dc));
}

/** A start time inside [earliest, latest] at a typical local hour for the place, if the slot has one. */
function startTimeFor(place: Place, earliest: number, latest: number, rng: Rng): number {
  if (latest <= earliest) return earliest;
  const [fromHour, toHour] = place.kind === 'home' ? [17, 22] : place.kind === 'work' ? [7, 9] : [8, 19];
  const hour = rng.int(fromHour, toHour);
  const minute = rng.int(0, 59);
  const candidates: number[] = [];
  const firstDay = Math.floor(earliest / 86_400) - 1;
  const lastDay = Math.floor(latest / 86_400) + 1;
  for (let day = firstDay; day <= lastDay && candidates.length < 8; day++) {
    const t = day * 86_400 + (hour - berlinOffsetHours(day * 86_400)) * HOUR + minute * 60;
    if (t >= earliest && t <= latest) candidates.push(t);
  }
  if (candidates.length > 0) return rng.pick(candidates);
  return Math.floor(rng.float(earliest, latest));
}

interface Draft {
  session: ChargingSession;
  energyIntoBatteryKwh: number;
}

function draftSession(v: VehicleProfile, slotStart: number, slotEnd: number, rng: Rng): Draft {
  const place = pickPlace(v, rng);
  const dc = place.dc && v.dcMaxKw > 0;
  const chargerKw = dc ? Math.min(place.maxKw, v.dcMaxKw) : Math.min(place.maxKw, v.acMaxKw);
  // DC power tapers with rising SoC, so the session average is well below the peak.
  let powerKw = dc ? chargerKw * rng.float(0.42, 0.7) : chargerKw * rng.float(0.86, 0.98);
  const efficiency = dc ? rng.float(0.93, 0.96) : rng.float(0.87, 0.92);

  const startSoc = v.propulsion === 'PHEV' ? rng.int(0, 30) : dc ? rng.int(8, 35) : rng.int(18, 65);
  let endSoc: number;
  if (v.propulsion === 'PHEV') endSoc = rng.chance(0.85) ? 100 : rng.int(80, 99);
  else if (dc) endSoc = rng.int(70, 90);
  else if (place.kind === 'home') endSoc = rng.chance(0.7) ? 80 : 100;
  else endSoc = 5 * rng.int(16, 20);

  // Keep the session inside its slot: when the slot is short (many sessions), charge less rather than overlap.
  const maxPlugSec = (slotEnd - slotStart) * 0.85;
  const maxChargeSec = maxPlugSec * 0.9;
  const neededSec = ((((endSoc - startSoc) / 100) * v.netCapacityKwh) / efficiency / powerKw) * HOUR;
  if (neededSec > maxChargeSec) {
    const possibleKwh = ((powerKw * maxChargeSec) / HOUR) * efficiency;
    endSoc = Math.min(endSoc, startSoc + Math.floor((possibleKwh / v.netCapacityKwh) * 100));
    if (endSoc <= startSoc) endSoc = startSoc + 1;
  }
  const energyIntoBatteryKwh = ((endSoc - startSoc) / 100) * v.netCapacityKwh;
  const gridKwh = energyIntoBatteryKwh / efficiency;
  let chargeSec = Math.max(60, Math.round((gridKwh / powerKw) * HOUR));
  if (chargeSec > maxChargeSec) {
    chargeSec = Math.max(60, Math.floor(maxChargeSec));
    powerKw = gridKwh / (chargeSec / HOUR);
  }

  const idleSec = place.kind === 'home' ? rng.int(0, 6 * HOUR) : place.kind === 'work' ? rng.int(0, 3 * HOUR) : rng.int(60, 8 * 60);
  const startDelay = rng.int(5, 90);
  let plugSec = Math.min(chargeSec + startDelay + idleSec, Math.floor(maxPlugSec));
  plugSec = Math.max(plugSec, chargeSec + startDelay);

  const startTime = startTimeFor(place, Math.ceil(slotStart), Math.floor(slotEnd - plugSec), rng);
  const endTime = startTime + plugSec;

  // Smart charging at home: sometimes a pause splits the session in two blocks.
  const blocks: ChargingBlock[] = [];
  const spare = plugSec - chargeSec - startDelay;
  const avgKw = round(powerKw, 2);
  if (!dc && place.kind === 'home' && chargeSec > 2 * HOUR && spare > 30 * 60 && rng.chance(0.35)) {
    const pause = rng.int(15 * 60, Math.min(spare, 3 * HOUR));
    const first = Math.floor(chargeSec * rng.float(0.3, 0.7));
    const b1Start = startTime + startDelay;
    blocks.push({ startTime: b1Start, endTime: b1Start + first, averagePowerGridKw: avgKw });
    const b2Start = b1Start + first + pause;
    blocks.push({ startTime: b2Start, endTime: b2Start + (chargeSec - first), averagePowerGridKw: avgKw });
  } else {
    blocks.push({ startTime: startTime + startDelay, endTime: startTime + startDelay + chargeSec, averagePowerGridKw: avgKw });
  }

  const preconditioning = rng.chance(dc ? 0.3 : 0.08);
  const session: ChargingSession = {
    displayedSoc: endSoc,
    displayedStartSoc: startSoc,
    timeZone: 'Europe/Berlin',
    startTime,
    endTime,
    totalChargingDurationSec: chargeSec,
    energyConsumedFromPowerGridKwh: round(gridKwh, 2),
    energyDecreaseHvbKwh: preconditioning ? round(rng.float(0.3, 1.6), 1) : 0,
    energyDischargedKwh: 0,
    isPreconditioningActivated: preconditioning,
    mileage: 0,
    mileageUnits: 'MileageUnits.KM',
    chargingLocation: {
      municipality: place.municipality,
      formattedAddress: formattedAddress(place),
      streetAddress: place.streetAddress,
      mapMatchedLatitude: round(place.lat + rng.float(-0.0002, 0.0002), 6),
      mapMatchedLongitude: round(place.lon + rng.float(-0.0002, 0.0002), 6),
    },
    chargingBlocks: blocks,
  };
  if (place.kind === 'public') {
    const matches = [{ postalCode: place.postalCode, streetAddress: place.streetAddress, providerName: place.provider, city: place.municipality }];
    if (rng.chance(0.2)) matches.push({ ...matches[0], providerName: 'Plugsurfing' });
    session.publicChargingPoint = { potentialChargingPointMatches: matches };
  }
  if (rng.chance(0.03)) {
    const created = new Date(endTime * 1000).toISOString();
    // BMW sends creationTime in several shapes; both RFC 3339 variants keep clients honest.
    session.businessErrors = [{ creationTime: rng.chance(0.5) ? created : created.replace(/\.\d{3}Z$/, 'Z'), hint: rng.pick(BUSINESS_HINTS) }];
  }
  return { session, energyIntoBatteryKwh };
}

export function generateSessions(v: VehicleProfile, count: number, anchorMs: number, seed: number): ChargingSession[] {
  if (count <= 0) return [];
  const rng = rngFor(seed, 'charging', v.vin);
  const avgGap = SPAN_SEC / count;
  let cursor = Math.floor(anchorMs / 1000) - rng.int(HOUR, 10 * HOUR);
  const drafts: Draft[] = [];
  for (let i = 0; i < count; i++) {
    const gap = avgGap * rng.float(0.5, 1.5);
    drafts.push(draftSession(v, cursor - gap, cursor, rng));
    cursor -= gap;
  }

  // Odometer, walking back in time: the energy charged in a session was driven between it and the one before.
  // A PHEV also drives on fuel. The total is scaled so the oldest session still shows a positive mileage.
  const fuelFactor = v.propulsion === 'PHEV' ? 2.5 : 1;
  const kms = drafts.map((d) => (d.energyIntoBatteryKwh / v.consumptionKwhPer100Km) * 100 * fuelFactor * rng.float(0.85, 1.1));
  const newest = v.mileageKm - rng.int(5, 60);
  const total = kms.reduce((a, b) => a + b, 0);
  const scale = Math.min(1, (newest * 0.9) / Math.max(total, 1));
  let mileage = newest;
  for (let i = 0; i < drafts.length; i++) {
    drafts[i].session.mileage = Math.max(0, Math.round(mileage));
    mileage -= kms[i] * scale;
  }
  return drafts.map((d) => d.session);
}
