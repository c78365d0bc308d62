import { DateTime } from 'luxon';
import { chargingCost, type Tariff } from '../tariff';
import type { ChargingEvent } from './charging-events';
import type { TripEvent } from '../trip-events';
import type { ChargingSession } from '../types';

// What the events add up to, per car: an energy counter (kWh charged, only ever increasing) and monthly figures
// (sessions, kWh, cost under the account's tariff, trips, km). Pure: LiveData keeps a LedgerState inside each
// car's state, so it is saved with the same save as the events it counts (never counted twice, never lost).

/** Months kept per car, the open one included; older ones are dropped. */
export const LEDGER_MONTHS = 24;
/** Sessions remembered for the one import of the charging history (their times only), until it happens. */
export const LEDGER_MAX_SESSIONS = 1000;
/** Sessions remembered after the import: the latest, so a stream finish that arrives late is not counted again. */
const AFTER_IMPORT_SESSIONS = 20;

/** One month's figures as kept; kWh unrounded. */
export interface MonthFigures {
  /** YYYY-MM in the ledger's time zone. */
  month: string;
  sessions: number;
  /** Sessions whose energy the car did not send enough to know (no energyAdded): counted, without kWh or cost. */
  sessionsWithoutEnergy: number;
  kwhMeasured: number;
  kwhEstimate: number;
  /** The sum of the sessions' costs; null while no session of the month was priced (no tariff). */
  cost: number | null;
  currency: string | null;
  trips: number;
  distanceKm: number;
  /** When the figures last changed (the end of the latest charge or trip counted, or the month's start). */
  at?: string;
}

/** The ledger of one car; plain JSON, part of the car's saved state. */
export interface LedgerState {
  /** The time zone months are counted in: the tariff's, else UTC (taken when a month opens). */
  timeZone: string;
  /** kWh charged, counted since the ledger began (stream sessions and the one import); never decreases. */
  energyKwh: number;
  /** [start, end] (epoch ms) of counted sessions, oldest end first: no session is counted twice. */
  sessions: Array<[number, number]>;
  /** The start of the oldest session dropped from `sessions` (LEDGER_MAX_SESSIONS), null while none was. */
  droppedUntil: number | null;
  /** When the charging history was imported (ISO 8601); null before. */
  historyImportedAt: string | null;
  /** Oldest first; the last is the open month while `open` is set. */
  months: MonthFigures[];
  /** The month being counted; it closes at `endsAt` (epoch ms). */
  open: string | null;
  endsAt: number | null;
}

export function initialLedgerState(timeZone = 'UTC'): LedgerState {
  return { timeZone, energyKwh: 0, sessions: [], droppedUntil: null, historyImportedAt: null, months: [], open: null, endsAt: null };
}

export type LedgerEventKind = 'summary' | 'month-closed';

/** Every ledger event kind; hosts offer them as choices. */
export const LEDGER_EVENT_KINDS: readonly LedgerEventKind[] = ['summary', 'month-closed'];

/** A month's figures as handed out: kWh rounded to 0.001, money to 0.01. */
export interface MonthSummary {
  vin: string;
  /** When it was made: the end of the charge or trip that changed it, or the month's end for `month-closed`. */
  at: string;
  /** YYYY-MM, in `timeZone`. */
  month: string;
  timeZone: string;
  /** The month's first and last instant (ISO 8601 in `timeZone`): `to` is the start of the next month. */
  from: string;
  to: string;
  sessions: number;
  sessionsWithoutEnergy: number;
  /** kWh charged: measured plus estimated. */
  kwh: number;
  kwhMeasured: number;
  kwhEstimate: number;
  trips: number;
  distanceKm: number;
  /** kWh charged per 100 km driven; null without km or without a session with energy. */
  kwhPer100Km: number | null;
  /** Present only with a tariff: the month's cost (our computation, never BMW's) and its currency. */
  cost?: number | null;
  currency?: string | null;
  costPer100Km?: number | null;
  /** The car's energy counter (kWh) when this was made. */
  energyCounterKwh: number;
}

/** After each finished charge or trip: its month so far. */
export interface SummaryEvent extends MonthSummary {
  kind: 'summary';
}

/** Once per month, when it has ended: its final figures. */
export interface MonthClosedEvent extends MonthSummary {
  kind: 'month-closed';
}

export type LedgerEvent = SummaryEvent | MonthClosedEvent;

export interface LedgerOptions {
  /** The host's clock (epoch ms). */
  now: number;
  tariff?: Tariff;
  /**
   * The car has a charge that ended, or a trip whose latest motion was, before the open month's end and whose finish
   * has not gone out yet: the month waits for it before it closes.
   */
  held?: boolean;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function monthOf(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM');
}

function monthStart(month: string, zone: string): DateTime {
  return DateTime.fromFormat(month, 'yyyy-MM', { zone });
}

interface Bounds {
  startMs: number;
  endMs: number;
  from: string;
  to: string;
}

/** A month's first instant and the next month's, worked out once per month and zone (a handful are in use). */
const boundsCache = new Map<string, Bounds>();
function bounds(month: string, zone: string): Bounds {
  const key = `${zone}|${month}`;
  let b = boundsCache.get(key);
  if (!b) {
    const start = monthStart(month, zone);
    const next = start.plus({ months: 1 });
    b = {
      startMs: start.toMillis(),
      endMs: next.toMillis(),
      from: start.toISO({ suppressMilliseconds: true }) ?? '',
      to: next.toISO({ suppressMilliseconds: true }) ?? '',
    };
    if (boundsCache.size >= 256) boundsCache.clear();
    boundsCache.set(key, b);
  }
  return b;
}

/** The month of `ms`: the open one without asking the calendar when it holds it. */
function monthAt(state: LedgerState, ms: number): string {
  if (state.open !== null && state.endsAt !== null && ms < state.endsAt && ms >= bounds(state.open, state.timeZone).startMs) return state.open;
  return monthOf(ms, state.timeZone);
}

function emptyMonth(month: string): MonthFigures {
  return { month, sessions: 0, sessionsWithoutEnergy: 0, kwhMeasured: 0, kwhEstimate: 0, cost: null, currency: null, trips: 0, distanceKm: 0 };
}

/** The figures of `month`, created in order (a month older than every kept one is kept only while there is room). */
function monthEntry(state: LedgerState, month: string): MonthFigures {
  let i = state.months.length;
  while (i > 0 && state.months[i - 1].month > month) i -= 1;
  if (i > 0 && state.months[i - 1].month === month) return state.months[i - 1];
  const entry = emptyMonth(month);
  state.months.splice(i, 0, entry);
  while (state.months.length > LEDGER_MONTHS) state.months.shift();
  return entry;
}

function openMonth(state: LedgerState, ms: number, tariff: Tariff | undefined, after?: string): void {
  state.timeZone = tariff?.timeZone ?? 'UTC';
  let month = monthOf(ms, state.timeZone);
  // A month closes once: in a tariff's new time zone `ms` may still be in the month just closed.
  if (after !== undefined && month <= after) month = monthStart(after, state.timeZone).plus({ months: 1 }).toFormat('yyyy-MM');
  state.open = month;
  const b = bounds(month, state.timeZone);
  state.endsAt = b.endMs;
  const entry = monthEntry(state, month);
  entry.at ??= new Date(b.startMs).toISOString();
  // With a tariff a month costs 0 until its first priced charge.
  if (tariff && entry.currency === null) {
    entry.currency = tariff.currency;
    entry.cost = 0;
  }
}

/** The figures handed out for a month. */
export function monthSummary(state: LedgerState, figures: MonthFigures, vin: string, at: string): MonthSummary {
  const b = bounds(figures.month, state.timeZone);
  const kwh = figures.kwhMeasured + figures.kwhEstimate;
  const withEnergy = figures.sessions - figures.sessionsWithoutEnergy;
  const out: MonthSummary = {
    vin,
    at,
    month: figures.month,
    timeZone: state.timeZone,
    from: b.from,
    to: b.to,
    sessions: figures.sessions,
    sessionsWithoutEnergy: figures.sessionsWithoutEnergy,
    kwh: round(kwh, 3),
    kwhMeasured: round(figures.kwhMeasured, 3),
    kwhEstimate: round(figures.kwhEstimate, 3),
    trips: figures.trips,
    distanceKm: round(figures.distanceKm, 1),
    kwhPer100Km: figures.distanceKm > 0 && withEnergy > 0 ? round((kwh / figures.distanceKm) * 100, 2) : null,
    energyCounterKwh: round(state.energyKwh, 3),
  };
  if (figures.currency !== null) {
    out.cost = figures.cost === null ? null : round(figures.cost, 2);
    out.currency = figures.currency;
    out.costPer100Km = figures.cost !== null && figures.distanceKm > 0 ? round((figures.cost / figures.distanceKm) * 100, 2) : null;
  }
  return out;
}

function overlaps(state: LedgerState, start: number, end: number): boolean {
  for (const [s, e] of state.sessions) if (start < e && s < end) return true;
  return state.droppedUntil !== null && start < state.droppedUntil;
}

function remember(state: LedgerState, start: number, end: number): void {
  let i = state.sessions.length;
  while (i > 0 && state.sessions[i - 1][1] > end) i -= 1;
  state.sessions.splice(i, 0, [start, end]);
  const max = state.historyImportedAt === null ? LEDGER_MAX_SESSIONS : AFTER_IMPORT_SESSIONS;
  while (state.sessions.length > max) {
    const dropped = state.sessions.shift() as [number, number];
    // Only before the import does a dropped session matter (an imported one must not count it again).
    if (state.historyImportedAt === null) state.droppedUntil = Math.max(state.droppedUntil ?? -Infinity, dropped[1]);
  }
}

/**
 * Counts one update's finished charges and trips and closes the open month when it has ended: adds `cost` to each
 * `charging-finished` when a tariff is set (in place), and returns the ledger events in order.
 */
export function recordLedger(
  vin: string,
  state: LedgerState,
  charging: readonly ChargingEvent[],
  trips: readonly TripEvent[],
  opts: LedgerOptions,
): LedgerEvent[] {
  const out: LedgerEvent[] = [];
  const touched: MonthFigures[] = [];
  const atOf = new Map<MonthFigures, string>();
  const count = (endMs: number, at: string): MonthFigures => {
    if (state.open === null) openMonth(state, endMs, opts.tariff);
    let month = monthAt(state, endMs);
    if (state.open !== null && month > state.open) {
      out.push(closeOpen(vin, state, opts.tariff, endMs));
      month = state.open as string;
    }
    const figures = monthEntry(state, month);
    if (!touched.includes(figures)) touched.push(figures);
    atOf.set(figures, at);
    figures.at = at;
    return figures;
  };
  for (const e of charging) {
    if (e.kind !== 'charging-finished') continue;
    const endMs = Date.parse(e.endedAt);
    const energy = e.energyAdded;
    if (opts.tariff)
      e.cost = energy ? chargingCost(opts.tariff, { startedAt: e.startedAt, endedAt: e.endedAt, kwh: energy.kwh, estimate: energy.estimate }) : null;
    const figures = count(endMs, e.at);
    figures.sessions += 1;
    if (!energy) figures.sessionsWithoutEnergy += 1;
    else {
      if (energy.estimate) figures.kwhEstimate += energy.kwh;
      else figures.kwhMeasured += energy.kwh;
      const startMs = Date.parse(e.startedAt);
      if (!overlaps(state, startMs, endMs)) {
        state.energyKwh += Math.max(0, energy.kwh);
        remember(state, startMs, endMs);
      }
    }
    if (e.cost) {
      figures.cost = (figures.cost ?? 0) + e.cost.amount;
      figures.currency = e.cost.currency;
    } else if (opts.tariff && figures.currency === null) {
      figures.currency = opts.tariff.currency;
    }
  }
  for (const e of trips) {
    if (e.kind !== 'trip-finished') continue;
    const figures = count(Date.parse(e.endedAt), e.at);
    figures.trips += 1;
    if (e.distanceKm !== null && e.distanceKm > 0) figures.distanceKm += e.distanceKm;
  }
  for (const figures of touched) out.push({ kind: 'summary', ...monthSummary(state, figures, vin, atOf.get(figures) as string) });
  if (state.endsAt !== null && opts.now >= state.endsAt && !opts.held) out.push(closeOpen(vin, state, opts.tariff, opts.now));
  return out;
}

/** Closes the open month (its final figures) and opens the month of `ms`: months the car was not followed in are skipped. */
function closeOpen(vin: string, state: LedgerState, tariff: Tariff | undefined, ms: number): MonthClosedEvent {
  const figures = monthEntry(state, state.open as string);
  const at = new Date(state.endsAt as number).toISOString();
  const closed: MonthClosedEvent = { kind: 'month-closed', ...monthSummary(state, figures, vin, at) };
  openMonth(state, ms, tariff, figures.month);
  return closed;
}

/** The open month's figures as handed out (the bridge's retained month); undefined before the first finished charge or trip. */
export function openMonthSummary(state: LedgerState | undefined, vin: string): MonthSummary | undefined {
  if (!state || state.open === null) return undefined;
  const figures = state.months.find((m) => m.month === state.open);
  return figures ? monthSummary(state, figures, vin, figures.at ?? '') : undefined;
}

/** Whether `recordLedger` has something to do for a car with nothing finished: its open month has ended. */
export function ledgerDue(state: LedgerState | undefined, now: number): boolean {
  return state !== undefined && state.endsAt !== null && now >= state.endsAt;
}

/** What one import of the charging history did. */
export interface HistoryImport {
  /** Sessions added to the counter. */
  counted: number;
  kwh: number;
  /** Sessions left out: overlapping one counted before, still in progress, or without a grid energy figure. */
  skipped: number;
  /** true: the history was imported before; nothing was counted now. */
  alreadyImported: boolean;
  energyCounterKwh: number;
}

function toMillis(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return null;
  return value > 1e12 ? value : value * 1000;
}

/**
 * Adds the charging history read over REST to the energy counter, once per car: each finished session's energy from
 * the grid, unless it overlaps a session counted already (from the stream, or earlier in the same list). The monthly
 * figures stay the stream's.
 */
export function importChargingHistory(state: LedgerState, sessions: readonly ChargingSession[], now: number): HistoryImport {
  if (state.historyImportedAt !== null)
    return { counted: 0, kwh: 0, skipped: sessions.length, alreadyImported: true, energyCounterKwh: round(state.energyKwh, 3) };
  let counted = 0;
  let kwh = 0;
  let skipped = 0;
  const list = [...sessions].filter((s) => s && typeof s === 'object').sort((a, b) => (toMillis(a.startTime) ?? 0) - (toMillis(b.startTime) ?? 0));
  skipped += sessions.length - list.length;
  const added: Array<[number, number]> = [];
  for (const s of list) {
    const start = toMillis(s.startTime);
    const end = toMillis(s.endTime);
    const energy = s.energyConsumedFromPowerGridKwh;
    const clash = start !== null && end !== null && added.some(([a, b]) => start < b && a < end);
    if (
      start === null ||
      end === null ||
      end <= start ||
      typeof energy !== 'number' ||
      !Number.isFinite(energy) ||
      energy < 0 ||
      clash ||
      overlaps(state, start, end)
    ) {
      skipped += 1;
      continue;
    }
    added.push([start, end]);
    counted += 1;
    kwh += energy;
  }
  state.historyImportedAt = new Date(now).toISOString();
  state.energyKwh += kwh;
  for (const [start, end] of added) remember(state, start, end);
  while (state.sessions.length > AFTER_IMPORT_SESSIONS) state.sessions.shift();
  state.droppedUntil = null;
  return { counted, kwh: round(kwh, 3), skipped, alreadyImported: false, energyCounterKwh: round(state.energyKwh, 3) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A saved ledger, checked; undefined when none was saved (a state from before the ledger). */
export function restoreLedger(saved: unknown, vin: string): LedgerState | undefined {
  if (saved === undefined || saved === null) return undefined;
  const bad = (): never => {
    throw new TypeError(`Not a saved live-data state: ledger of ${vin}`);
  };
  if (
    !isObject(saved) ||
    typeof saved.timeZone !== 'string' ||
    !finite(saved.energyKwh) ||
    saved.energyKwh < 0 ||
    !Array.isArray(saved.sessions) ||
    !Array.isArray(saved.months)
  )
    bad();
  const s = saved as unknown as LedgerState;
  if (!s.sessions.every((x) => Array.isArray(x) && x.length === 2 && finite(x[0]) && finite(x[1]))) bad();
  if (
    !s.months.every(
      (m) =>
        isObject(m) &&
        typeof m.month === 'string' &&
        /^\d{4}-\d{2}$/.test(m.month) &&
        finite(m.sessions) &&
        finite(m.kwhMeasured) &&
        finite(m.kwhEstimate) &&
        finite(m.trips) &&
        finite(m.distanceKm),
    )
  )
    bad();
  if ((s.open !== null && typeof s.open !== 'string') || (s.endsAt !== null && !finite(s.endsAt))) bad();
  return JSON.parse(JSON.stringify(s)) as LedgerState;
}
