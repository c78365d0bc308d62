import type { TyreData, TyreDiagnosis, TyreSet } from '../core/types';
import type { Rng } from './random';
import { rngFor } from './random';
import type { VehicleProfile } from './vehicles';

// Smart Maintenance tyre diagnosis: labelled leaves as the BMW app shows them. For tyres without sensor data
// BMW sends leaves that carry only their label (bausi2k changelog 1.9.x); the PHEV reproduces that.

interface TyreModel {
  manufacturer: string;
  treadDesign: string;
  season: 'SUMMER' | 'WINTER' | 'ALL_SEASON';
  sectionWidth: number;
  aspectRatio: number;
  rimDiameter: number;
  loadIndex: number;
  speedRating: string;
  partNumber: string;
  runFlat: boolean;
}

const WHEELS = [
  ['frontLeft', 'Front left'],
  ['frontRight', 'Front right'],
  ['rearLeft', 'Rear left'],
  ['rearRight', 'Rear right'],
] as const;

const SEASON_TEXT = { SUMMER: 'Summer tyre', WINTER: 'Winter tyre', ALL_SEASON: 'All-season tyre' } as const;

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function fullTyre(label: string, m: TyreModel, rng: Rng, anchorMs: number, mountedAgoDays: number): TyreData {
  const wearMm = rng.float(4.2, 6.8);
  const prodWeek = rng.int(1, 52);
  const prodYear = new Date(anchorMs).getUTCFullYear() - rng.int(1, 3);
  const mounted = anchorMs - mountedAgoDays * 86_400_000;
  return {
    label,
    dimension: {
      label: 'Dimension',
      value: `${m.sectionWidth}/${m.aspectRatio} R${m.rimDiameter} ${m.loadIndex}${m.speedRating}`,
      sectionWidth: m.sectionWidth,
      aspectRatio: m.aspectRatio,
      constructionType: 'R',
      rimDiameter: m.rimDiameter,
      loadIndex: m.loadIndex,
      speedRating: m.speedRating,
    },
    mountingDate: { label: 'Mounting date', value: isoDay(mounted).split('-').reverse().join('.'), mountingDate: isoDay(mounted) },
    optimizedForOem: { label: 'BMW star marking', value: 'Yes', optimizedForOem: 'STAR' },
    partNumber: { label: 'Part number', value: m.partNumber, partNumber: m.partNumber },
    qualityStatus: { label: 'Quality status', value: 'Original equipment', qualityStatus: 'ORIGINAL_EQUIPMENT' },
    runFlat: { label: 'Run-flat', value: m.runFlat ? 'Yes' : 'No', runFlat: m.runFlat },
    season: { label: 'Season', value: SEASON_TEXT[m.season], season: m.season },
    tread: { label: 'Tyre', value: `${m.manufacturer} ${m.treadDesign}`, manufacturer: m.manufacturer, treadDesign: m.treadDesign, carcass: 'Radial' },
    tyreDefect: { label: 'Tyre defect', value: 'No defect detected', status: 'NO_DEFECT', statusColor: 'GREEN' },
    tyreProductionDate: { label: 'Production date', value: `Week ${prodWeek}/${prodYear}`, statusColor: 'GREEN' },
    tyreWear: {
      label: 'Tread depth',
      value: `${wearMm.toFixed(1)} mm`,
      status: wearMm < 4.5 ? 'CHECK_SOON' : 'OK',
      statusColor: wearMm < 4.5 ? 'YELLOW' : 'GREEN',
      dueMileage: Math.round((wearMm - 3) / 0.00011 / 100) * 100,
      unit: 'KILOMETER',
    },
  };
}

/** A tyre whose sensors reported nothing: only labels, as BMW answers it. */
function labelsOnly(label: string, m: TyreModel): TyreData {
  return {
    label,
    dimension: { label: 'Dimension', value: `${m.sectionWidth}/${m.aspectRatio} R${m.rimDiameter} ${m.loadIndex}${m.speedRating}` },
    mountingDate: { label: 'Mounting date' },
    season: { label: 'Season', value: SEASON_TEXT[m.season], season: m.season },
    tread: { label: 'Tyre' },
    tyreDefect: { label: 'Tyre defect' },
    tyreProductionDate: { label: 'Production date' },
    tyreWear: { label: 'Tread depth' },
  };
}

function tyreSet(label: string, m: TyreModel, rng: Rng, anchorMs: number, mountedAgoDays: number, sparse: boolean): TyreSet {
  const set: TyreSet = {
    label,
    aggregatedQualityStatus: { label: 'Overall condition', value: 'Good', qualityStatus: 'GOOD' },
  };
  for (const [key, wheelLabel] of WHEELS) {
    set[key] = sparse && key.startsWith('rear') ? labelsOnly(wheelLabel, m) : fullTyre(wheelLabel, m, rng, anchorMs, mountedAgoDays);
  }
  return set;
}

export function generateTyreDiagnosis(v: VehicleProfile, anchorMs: number, seed: number): TyreDiagnosis {
  const rng = rngFor(seed, 'tyres', v.vin);
  if (v.propulsion === 'BEV') {
    const summer: TyreModel = {
      manufacturer: 'Michelin',
      treadDesign: 'Pilot Sport EV',
      season: 'SUMMER',
      sectionWidth: 245,
      aspectRatio: 45,
      rimDiameter: 18,
      loadIndex: 100,
      speedRating: 'Y',
      partNumber: '36 11 5 A0D 0B4',
      runFlat: false,
    };
    const winter: TyreModel = {
      manufacturer: 'Pirelli',
      treadDesign: 'P Zero Winter',
      season: 'WINTER',
      sectionWidth: 245,
      aspectRatio: 45,
      rimDiameter: 18,
      loadIndex: 100,
      speedRating: 'V',
      partNumber: '36 11 5 A21 7F0',
      runFlat: false,
    };
    return {
      passengerCar: {
        mountedTyres: tyreSet('Mounted tyres', summer, rng, anchorMs, rng.int(40, 160), false),
        unmountedTyres: tyreSet('Stored tyres', winter, rng, anchorMs, rng.int(200, 330), false),
      },
      errors: [],
    };
  }
  const allSeason: TyreModel = {
    manufacturer: 'Bridgestone',
    treadDesign: 'Turanza 6',
    season: 'ALL_SEASON',
    sectionWidth: 225,
    aspectRatio: 45,
    rimDiameter: 18,
    loadIndex: 95,
    speedRating: 'Y',
    partNumber: '36 11 6 88D 1A2',
    runFlat: true,
  };
  return {
    passengerCar: { mountedTyres: tyreSet('Mounted tyres', allSeason, rng, anchorMs, rng.int(300, 600), true) },
    errors: [],
  };
}
