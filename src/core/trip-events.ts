// The trip events LiveData hands out, as data: the live room makes them (live/trips.ts), the rows room turns the
// finished ones into logbook rows (rows/flatten.ts), hosts send them on.

/**
 * - `ignition-off`: the ignition went off and no motion followed within the pause;
 * - `stopped`: the car said it stopped moving (a car that streams no ignition);
 * - `no-motion`: a car that streams neither: its last motion, with none after it within the pause;
 * - `silence`: no end signal arrived; the trip ended at its last motion after TRIP_SILENCE_MS without one.
 */
export type TripEndedBy = 'ignition-off' | 'stopped' | 'no-motion' | 'silence';

export type TripEventKind = 'trip-started' | 'trip-finished';

/** Every event kind, in the order they come; hosts offer them as choices. */
export const TRIP_EVENT_KINDS: readonly TripEventKind[] = ['trip-started', 'trip-finished'];

export interface TripPosition {
  lat: number;
  lon: number;
}

export interface TripStartedEvent {
  kind: 'trip-started';
  vin: string;
  /** The trip's start as known when it was seen (late readings can move `startedAt` of the finish earlier). */
  at: string;
  tripId: string;
  odometerKm: number | null;
  position: TripPosition | null;
  soc: number | null;
  startObserved: boolean;
}

/** Energy used on a trip: the battery's energy content, or the estimate state of charge × battery size. */
export interface EnergyUsed {
  kwh: number;
  /** true: not measured by the car, but socUsed × battery size. */
  estimate: boolean;
  /**
   * `battery-energy-content`: start minus end of the battery's energy content, used only when it agrees with the
   * estimate (within 25 % or 1 kWh) or no estimate exists; `soc-x-battery-size`: the estimate.
   */
  method: 'battery-energy-content' | 'soc-x-battery-size';
}

export interface TripFinishedEvent {
  kind: 'trip-finished';
  vin: string;
  /** The end. */
  at: string;
  tripId: string;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  startOdometerKm: number | null;
  endOdometerKm: number | null;
  /** End minus start odometer. */
  distanceKm: number | null;
  startPosition: TripPosition | null;
  endPosition: TripPosition | null;
  startSoc: number | null;
  endSoc: number | null;
  /** Start minus end state of charge, in % points. */
  socUsed: number | null;
  energyUsed: EnergyUsed | null;
  /** `l` (or the unit the car sent) for the tank content, `%` for the tank level; null without either. */
  fuelUnit: string | null;
  startFuel: number | null;
  endFuel: number | null;
  /** What the tank lost; a refuel during the trip does not count against it. */
  fuelUsed: number | null;
  /** km/h over the whole trip, stops included. */
  averageSpeedKmh: number | null;
  /** Pauses within the trip (ignition off, or the car standing, for less than the pause). */
  stops: number;
  endedBy: TripEndedBy;
  startObserved: boolean;
  /** The names of the figures above that are null because the car did not send what they need. */
  missing: string[];
}

export type TripEvent = TripStartedEvent | TripFinishedEvent;
