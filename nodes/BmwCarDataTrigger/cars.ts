import { closerMinutes, readPacing } from './pacing';
import type { CarState, Known, PollState } from './state';

/**
 * Every car of the account (no VIN set) on the calls of one: the pacing stays the one of pacing.ts, shared by all
 * cars, and each check of BMW reads the history of one car, the one whose turn is due first. A car's turn comes
 * `cars × spacing` after its last check (the cars take turns), and a quarter of the spacing after it (at least 30
 * minutes) when it is busy and the check is a closer one: a charge in progress is followed closely while the
 * others keep their turns. So the calls of a day are those of one car, and with N cars a car is checked every N
 * times the spacing.
 */

const MINUTE_MS = 60_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The turn of the car a state kept for one VIN was about: its checks were the pacing's. */
function lastCheck(pacing: unknown): CarState {
  const p = readPacing(pacing);
  return p ? { checkedAt: p.checkedAt, busy: p.busy } : {};
}

/**
 * The cars' states kept for the VINs listed now (a car no longer listed is forgotten); a car listed for the first
 * time starts with `since` set to now. A state kept for one VIN (the VIN field was set before) counts as that car's.
 */
export function carsOf(state: PollState, vins: string[], nowS: number): Record<string, CarState> {
  const saved = isObject(state.cars) ? state.cars : {};
  const single: CarState | undefined =
    state.version === 2 && typeof state.vin === 'string' && typeof state.floor === 'number'
      ? { floor: state.floor, emitted: state.emitted, before: state.before, ...lastCheck(state.pacing) }
      : undefined;
  const cars: Record<string, CarState> = {};
  for (const vin of vins) {
    const car = saved[vin];
    cars[vin] = isObject(car) ? { ...car } : vin === state.vin && single ? single : { since: nowS };
  }
  return cars;
}

/** What decide() knows of a car; undefined before its first check. */
export function knownOf(car: CarState | undefined): Known | undefined {
  if (!car || typeof car.floor !== 'number') return undefined;
  return {
    floor: car.floor,
    emitted: new Set((Array.isArray(car.emitted) ? car.emitted : []).filter((t) => typeof t === 'number')),
    before: typeof car.before === 'number' ? car.before : undefined,
  };
}

/** The car this check reads: the one whose turn is due first, a car never checked before any other, in list order. */
export function pickCar(cars: Record<string, CarState>, vins: string[], spacingMin: number, closer: boolean): string {
  const turnMs = vins.length * spacingMin * MINUTE_MS;
  const closerMs = closerMinutes(spacingMin) * MINUTE_MS;
  let picked = vins[0];
  let pickedDue = Infinity;
  for (const vin of vins) {
    const car = cars[vin];
    const checkedAt = typeof car?.checkedAt === 'number' && Number.isFinite(car.checkedAt) ? car.checkedAt : -Infinity;
    const due = checkedAt + (closer && car?.busy === true ? closerMs : turnMs);
    if (due < pickedDue) {
      picked = vin;
      pickedDue = due;
    }
  }
  return picked;
}

/**
 * The state to keep after a check of `vin` at `now` (epoch ms): what decide() left for the car (`next`, or nothing
 * new when the check failed), its turn and whether it is busy. The pacing is set by the caller.
 */
export function afterCarCheck(cars: Record<string, CarState>, vin: string, now: number, outcome?: { next: PollState; busy: boolean }): PollState {
  const car: CarState = outcome
    ? {
        floor: outcome.next.floor,
        emitted: outcome.next.emitted,
        ...(outcome.next.before !== undefined ? { before: outcome.next.before } : {}),
        busy: outcome.busy,
      }
    : { ...cars[vin] };
  car.checkedAt = now;
  return { version: 2, cars: { ...cars, [vin]: car } };
}

/** Whether any car's last check saw it busy: the shared pacing then plans closer checks. */
export function anyBusy(cars: Record<string, CarState> | undefined): boolean {
  return Object.values(cars ?? {}).some((car) => car.busy === true);
}
