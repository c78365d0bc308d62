import { DateTime, IANAZone } from 'luxon';
import { inputError, shown } from './errors';

/** A price per kWh that applies on some days between two times of day (local to the tariff's time zone). */
export interface TariffWindow {
  /** ISO weekdays, 1 (Monday) to 7 (Sunday); every day when absent. */
  days?: number[];
  /** 'HH:MM'; a window whose end is not after its start runs past midnight (22:00 to 06:00). */
  from: string;
  to: string;
  pricePerKwh: number;
}

/** What charging costs the owner: set once per account. No cost is computed anywhere without one. */
export interface Tariff {
  /** ISO 4217, e.g. EUR. */
  currency: string;
  /** The price per kWh outside every time-of-use window. */
  pricePerKwh: number;
  /** A fixed price per session (0 when absent). */
  perSession?: number;
  /** Time-of-use prices; the first window that holds a minute prices it. */
  timeOfUse?: TariffWindow[];
  /** IANA time zone of the windows (default UTC). */
  timeZone?: string;
}

/** The cost of one charging session, computed by us (never BMW's own figure, which rows keep apart). */
export interface ChargingCost {
  amount: number;
  currency: string;
  /** The energy priced, and whether the car measured it or it is an estimate (SoC added × battery size). */
  kwh: number;
  energy: 'measured' | 'estimate';
  /**
   * `flat`: the energy at the one price; `time-of-use`: the energy spread evenly over the charging time, each
   * minute at the price of its window. The session's fixed price is added in both.
   */
  method: 'flat' | 'time-of-use';
  perSession: number;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MAX_PRICE = 1000;

function price(value: unknown, what: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > MAX_PRICE) {
    throw inputError('tariff', `${what} must be a number from 0 to ${MAX_PRICE}, got ${shown(value)}`, 'For example 0.32 for 32 cents per kWh.');
  }
  return n;
}

function minuteOfDay(value: unknown, what: string): number {
  const m = typeof value === 'string' ? /^(\d{1,2}):(\d{2})$/.exec(value.trim()) : null;
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || minutes > 24 * 60)
    throw inputError('tariff', `${what} must be a time of day as HH:MM, got ${shown(value)}`, 'For example "22:00"; 24:00 is the end of the day.');
  return minutes;
}

function weekday(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 7) return value;
  const i = typeof value === 'string' ? DAY_NAMES.indexOf(value.trim().slice(0, 3).toLowerCase()) : -1;
  if (i < 0)
    throw inputError('tariff', `A day must be 1 (Monday) to 7 (Sunday) or a day's name, got ${shown(value)}`, 'For example [1, 2, 3, 4, 5] or ["mon", "fri"].');
  return i + 1;
}

/**
 * A tariff from what a user entered: an object or its JSON text. Throws an input error that names the field.
 *
 *     parseTariff('{"currency":"EUR","pricePerKwh":0.32,"timeOfUse":[{"from":"22:00","to":"06:00","pricePerKwh":0.22}],"timeZone":"Europe/Berlin"}')
 */
export function parseTariff(input: unknown): Tariff {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw inputError('tariff', 'The tariff is not JSON', 'For example {"currency": "EUR", "pricePerKwh": 0.32}.');
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw inputError('tariff', 'The tariff must be an object', 'For example {"currency": "EUR", "pricePerKwh": 0.32}.');
  const t = value as Record<string, unknown>;
  const currency = typeof t.currency === 'string' ? t.currency.trim().toUpperCase() : '';
  if (!/^[A-Z]{3}$/.test(currency))
    throw inputError('tariff', `The currency must be a three-letter code, got ${shown(t.currency)}`, 'For example EUR, CHF or GBP.');
  const tariff: Tariff = { currency, pricePerKwh: price(t.pricePerKwh, 'pricePerKwh') };
  if (t.perSession !== undefined && t.perSession !== null && t.perSession !== '') tariff.perSession = price(t.perSession, 'perSession');
  if (t.timeZone !== undefined && t.timeZone !== '') {
    if (typeof t.timeZone !== 'string' || !IANAZone.isValidZone(t.timeZone))
      throw inputError('tariff', `Unknown time zone ${shown(t.timeZone)}`, 'An IANA name, for example Europe/Berlin.');
    tariff.timeZone = t.timeZone;
  }
  if (t.timeOfUse !== undefined) {
    if (!Array.isArray(t.timeOfUse))
      throw inputError('tariff', 'timeOfUse must be a list of windows', 'For example [{"from": "22:00", "to": "06:00", "pricePerKwh": 0.22}].');
    tariff.timeOfUse = t.timeOfUse.map((w: unknown, i) => {
      if (!w || typeof w !== 'object') throw inputError('tariff', `Window ${i + 1} of timeOfUse must be an object`);
      const win = w as Record<string, unknown>;
      minuteOfDay(win.from, `from of window ${i + 1}`);
      minuteOfDay(win.to, `to of window ${i + 1}`);
      const parsed: TariffWindow = {
        from: String(win.from).trim(),
        to: String(win.to).trim(),
        pricePerKwh: price(win.pricePerKwh, `pricePerKwh of window ${i + 1}`),
      };
      if (win.days !== undefined) {
        if (!Array.isArray(win.days) || win.days.length === 0) throw inputError('tariff', `days of window ${i + 1} must be a list of weekdays`);
        parsed.days = [...new Set(win.days.map(weekday))].sort();
      }
      return parsed;
    });
  }
  return tariff;
}

/** A window with its times as minutes of the day, parsed once per cost. */
interface Span {
  days?: number[];
  from: number;
  to: number;
  pricePerKwh: number;
}

/** Whether a window holds the local minute `minute` (0..1439) of ISO weekday `day`. */
function holds(w: Span, day: number, minute: number): boolean {
  if (w.from < w.to) return (!w.days || w.days.includes(day)) && minute >= w.from && minute < w.to;
  // Past midnight: the evening part belongs to the window's day, the morning part to the next day.
  if (minute >= w.from) return !w.days || w.days.includes(day);
  return minute < w.to && (!w.days || w.days.includes(day === 1 ? 7 : day - 1));
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The cost of a session of `kwh` charged from `startedAt` to `endedAt` (ISO 8601). With time-of-use windows the
 * energy is taken as spread evenly over the charging time, minute by minute.
 */
export function chargingCost(tariff: Tariff, session: { startedAt: string; endedAt: string; kwh: number; estimate: boolean }): ChargingCost {
  const perSession = tariff.perSession ?? 0;
  const base = { currency: tariff.currency, kwh: session.kwh, energy: session.estimate ? ('estimate' as const) : ('measured' as const), perSession };
  const start = Date.parse(session.startedAt);
  const end = Date.parse(session.endedAt);
  const windows: Span[] = (tariff.timeOfUse ?? []).map((w) => ({ ...w, from: minuteOfDay(w.from, 'from'), to: minuteOfDay(w.to, 'to') }));
  if (windows.length === 0 || !(end > start)) return { ...base, amount: round2(session.kwh * tariff.pricePerKwh + perSession), method: 'flat' };
  const zone = tariff.timeZone ?? 'UTC';
  const minutes = Math.max(1, Math.round((end - start) / 60_000));
  const share = session.kwh / minutes;
  let amount = 0;
  // Minute by minute, taken in runs: the price can change only at a window's edge or midnight. Where the local clock
  // jumps within a run (daylight saving, on the hour or half hour), the run ends at the half hour instead.
  const edges = [...new Set(windows.flatMap((w) => [w.from, w.to]))].sort((a, b) => a - b);
  for (let i = 0; i < minutes;) {
    const local = DateTime.fromMillis(start + i * 60_000, { zone });
    const minute = local.hour * 60 + local.minute;
    const w = windows.find((x) => holds(x, local.weekday, minute));
    let n = Math.min((edges.find((e) => e > minute) ?? 24 * 60) - minute, minutes - i);
    if (n > 30 && DateTime.fromMillis(start + (i + n) * 60_000, { zone }).offset !== local.offset) n = Math.min((Math.floor(minute / 30) + 1) * 30 - minute, n);
    amount += share * n * (w ? w.pricePerKwh : tariff.pricePerKwh);
    i += n;
  }
  return { ...base, amount: round2(amount + perSession), method: 'time-of-use' };
}
