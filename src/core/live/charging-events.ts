import { numberOf, type StateValue } from './vehicle-state';
import type { ChargingCost } from '../tariff';

// Charging events derived from the stream: plugged in, charging started, interrupted / error, target reached,
// charging finished (with the session's figures), unplugged. Pure: the tracker reads the vehicle's typed values
// (see vehicle-state.ts) after each message, compares them with what it believed before, and keeps its belief
// in a plain JSON object (ChargingState) that survives a host restart.

/** The descriptors the tracker reads, from BMW's catalogue. */
export const CHARGING_DESCRIPTORS = {
  /** NOCHARGING, INITIALIZATION, CHARGINGACTIVE, CHARGINGPAUSED, CHARGINGENDED, CHARGINGERROR, CHARGINGINTERRUPTED, CHARGINGDISRUPTED, UNKNOWN. */
  status: 'vehicle.drivetrain.electricEngine.charging.status',
  /** Another value set; read only for cars that never stream `status`. */
  hvStatus: 'vehicle.drivetrain.electricEngine.charging.hvStatus',
  /** In order of preference; Neue Klasse cars send only `stateOfCharge.displayed` (not in the catalogue snapshot). */
  soc: ['vehicle.drivetrain.batteryManagement.header', 'vehicle.powertrain.electric.battery.stateOfCharge.displayed'],
  targetSoc: 'vehicle.powertrain.electric.battery.stateOfCharge.target',
  /** W. BMW stops sending it when a charge ends (no final 0). */
  power: 'vehicle.powertrain.electric.battery.charging.power',
  /** The battery's current energy content (kWh). */
  energyContent: 'vehicle.drivetrain.batteryManagement.maxEnergy',
  /** Energy supplied through the charging cable over the car's life (kWh, PHEV). */
  gridEnergy: 'vehicle.drivetrain.electricEngine.charging.consumptionOverLifeTime.overall.gridEnergy',
  batterySize: ['vehicle.drivetrain.batteryManagement.batterySizeMax', 'vehicle.drivetrain.electricEngine.hvsMaxEnergyAbsolute'],
  /** CONNECTED / DISCONNECTED states and isPlugged flags: plugged when any says so. */
  plug: [
    'vehicle.body.chargingPort.status',
    'vehicle.body.chargingPort.dcStatus',
    'vehicle.body.chargingPort.statusClearText',
    'vehicle.body.chargingPort.combinedStatus',
    'vehicle.drivetrain.electricEngine.charging.connectorStatus',
    ...['anyPosition', 'frontLeft', 'frontMiddle', 'frontRight', 'rearLeft', 'rearMiddle', 'rearRight'].map(
      (p) => `vehicle.powertrain.tractionBattery.charging.port.${p}.isPlugged`,
    ),
  ],
} as const;

/**
 * How far (ms) a reading may lie before the start of a session and still count for it, and how long after the
 * start a first state of charge or energy reading still counts as the start value. BMW sends values of one
 * moment in messages seconds apart.
 */
export const SESSION_SLACK_MS = 60_000;

/** The tracker's reading of the charging status. */
export type ChargingPhase = 'idle' | 'preparing' | 'charging' | 'paused' | 'ended' | 'interrupted' | 'error';

const STATUS_PHASES: Readonly<Record<string, ChargingPhase>> = {
  NOCHARGING: 'idle',
  INITIALIZATION: 'preparing',
  CHARGINGACTIVE: 'charging',
  CHARGINGPAUSED: 'paused',
  CHARGINGENDED: 'ended',
  CHARGINGERROR: 'error',
  CHARGINGINTERRUPTED: 'interrupted',
  CHARGINGDISRUPTED: 'interrupted',
};

const HV_STATUS_PHASES: Readonly<Record<string, ChargingPhase>> = {
  NOT_CHARGING: 'idle',
  WAITING_FOR_CHARGING: 'preparing',
  CHARGING: 'charging',
  FINISHED_FULLY_CHARGED: 'ended',
  FINISHED_NOT_FULL: 'ended',
  ERROR: 'error',
};

const PLUG_SET: ReadonlySet<string> = new Set(CHARGING_DESCRIPTORS.plug);

/** The descriptors whose readings a session keeps to compute its figures by time. */
const SAMPLED: ReadonlySet<string> = new Set([
  ...CHARGING_DESCRIPTORS.soc,
  CHARGING_DESCRIPTORS.energyContent,
  CHARGING_DESCRIPTORS.gridEnergy,
  CHARGING_DESCRIPTORS.power,
]);

/** An open charging session, as kept in the state. */
export interface ChargingSessionState {
  id: string;
  startedAt: string;
  /** false when "charging" was the first status or plug reading ever seen for the car: the start was not observed. */
  startObserved: boolean;
  startSoc: number | null;
  startEnergyContentKwh: number | null;
  startGridEnergyKwh: number | null;
  maxPowerKw: number | null;
  /** The target the state of charge reached in this session (null: not reached). */
  targetReachedSoc: number | null;
  interruptions: number;
  errors: number;
  /**
   * The readings the finish's figures are computed from, by their own times: `[epoch ms, value]` per descriptor
   * (state of charge, energy content, grid energy, power), in time order, including readings that arrived late.
   * Absent in states saved by earlier versions (the figures then come from the values held).
   */
  samples?: Record<string, Array<[number, number]>>;
  /** A plug or status reading from before the start arrived after it (out of order): the start was observed. */
  seenBefore?: boolean;
}

/**
 * A session whose end was seen and whose figures wait for readings that BMW delivers late (it buffers them through
 * tunnels and garages): the finish goes out once the settle window after its end has passed; events of the car
 * that happened after the end wait behind it, so events keep their order.
 */
export interface FinishingState {
  session: ChargingSessionState;
  endedAt: string;
  endedBy: 'status' | 'unplugged';
  endStatus: string | null;
  /** Events of the car after the end, held until the finish goes out. */
  after: ChargingEvent[];
}

/** What the tracker believes about a car's charging; plain JSON, part of the persisted state. */
export interface ChargingState {
  /** null until a plug or port reading arrived. */
  plugged: boolean | null;
  /** The latest charging status as BMW sent it, and its time. */
  status: string | null;
  statusAt: string | null;
  phase: ChargingPhase | null;
  /** A session is open and the status says charging. */
  charging: boolean;
  /** The latest charging power of the open session in kW; 0 otherwise (BMW stops sending power instead of 0). */
  powerKw: number;
  session: ChargingSessionState | null;
  /** The session that ended and waits for late readings before its finish goes out (see FinishingState). */
  finishing?: FinishingState | null;
}

export function initialChargingState(): ChargingState {
  return { plugged: null, status: null, statusAt: null, phase: null, charging: false, powerKw: 0, session: null, finishing: null };
}

/**
 * How long (ms) after the end of a charge, by the car's clock, its finish waits for readings BMW delivers late.
 * BMW holds readings back for minutes when the car has no signal; a late state of charge would otherwise
 * falsify the session's figures. The cost: `charging-finished` (and what the car did after it) comes this much
 * after the end.
 */
export const FINISH_SETTLE_MS = 5 * 60_000;

/** Readings kept per descriptor and session for its figures; beyond it, the oldest after the start go first. */
const MAX_SAMPLES = 1_000;

export type ChargingEventKind =
  'plugged-in' | 'charging-started' | 'charging-interrupted' | 'charging-error' | 'target-reached' | 'charging-finished' | 'unplugged';

/** Every event kind, in the order they come within one message; hosts offer them as choices. */
export const CHARGING_EVENT_KINDS: readonly ChargingEventKind[] = [
  'plugged-in',
  'charging-started',
  'charging-interrupted',
  'charging-error',
  'target-reached',
  'charging-finished',
  'unplugged',
];

interface EventBase {
  vin: string;
  /** When it happened: the timestamp of the reading that showed it. */
  at: string;
}

export interface PluggedInEvent extends EventBase {
  kind: 'plugged-in';
  soc: number | null;
}

export interface UnpluggedEvent extends EventBase {
  kind: 'unplugged';
  soc: number | null;
}

export interface ChargingStartedEvent extends EventBase {
  kind: 'charging-started';
  sessionId: string;
  startSoc: number | null;
  targetSoc: number | null;
  startObserved: boolean;
}

export interface ChargingInterruptedEvent extends EventBase {
  kind: 'charging-interrupted' | 'charging-error';
  /** The status as BMW sent it: CHARGINGINTERRUPTED, CHARGINGDISRUPTED, CHARGINGERROR (or hvStatus ERROR). */
  status: string;
  /** null when no session was open (for example an error while the charge was being prepared). */
  sessionId: string | null;
  soc: number | null;
}

export interface TargetReachedEvent extends EventBase {
  kind: 'target-reached';
  sessionId: string;
  soc: number;
  targetSoc: number;
}

/** Energy added in a session: reported by the car, or estimated from state of charge and battery size. */
export interface EnergyAdded {
  kwh: number;
  /** true: not measured by the car, but socAdded × battery size. */
  estimate: boolean;
  /**
   * `grid-energy-counter`: the car's lifetime counter of energy through the cable (PHEV), end minus start;
   * `battery-energy-content`: the battery's energy content (maxEnergy), end minus start, when it agrees with the
   *   estimate (see ENERGY_AGREEMENT);
   * `soc-x-battery-size`: the estimate, SoC added × the battery's size (else × maxEnergy, sent as about the usable
   *   capacity).
   */
  method: 'grid-energy-counter' | 'battery-energy-content' | 'soc-x-battery-size';
}

export interface ChargingFinishedEvent extends EventBase {
  kind: 'charging-finished';
  sessionId: string;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  startSoc: number | null;
  endSoc: number | null;
  socAdded: number | null;
  maxPowerKw: number | null;
  energyAdded: EnergyAdded | null;
  targetSoc: number | null;
  targetReached: boolean;
  /** `status`: the car said the charge ended; `unplugged`: the cable was pulled first (or the end status was missed). */
  endedBy: 'status' | 'unplugged';
  /** The status that ended it (CHARGINGENDED, NOCHARGING …); null when ended by unplugging. */
  endStatus: string | null;
  interruptions: number;
  errors: number;
  startObserved: boolean;
  /** The names of the figures above that are null because the car did not send what they need. */
  missing: string[];
  /**
   * Only with a tariff (LiveDataOptions.tariff): what the session cost, computed by us on `energyAdded` (the cost
   * says whether that was measured or an estimate); null when the energy is not known.
   */
  cost?: ChargingCost | null;
}

export type ChargingEvent = PluggedInEvent | UnpluggedEvent | ChargingStartedEvent | ChargingInterruptedEvent | TargetReachedEvent | ChargingFinishedEvent;

interface Timed {
  value: number;
  unit: string | null;
  time: number;
}

function firstNumber(values: Record<string, StateValue>, ids: readonly string[]): Timed | undefined {
  for (const id of ids) {
    const n = numberOf(values, id);
    if (n) return n;
  }
  return undefined;
}

/** Event times in one format (ISO 8601 with milliseconds, UTC), whatever BMW's spelling. */
function iso(timestamp: string): string {
  return new Date(Date.parse(timestamp)).toISOString();
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function kw(power: Timed): number {
  const u = power.unit?.toLowerCase();
  return u === 'kw' ? power.value : power.value / 1000;
}

function plugValue(entry: StateValue | undefined): boolean | undefined {
  if (!entry) return undefined;
  const v = entry.value;
  if (typeof v === 'boolean') return v;
  if (v === 'CONNECTED') return true;
  if (v === 'DISCONNECTED') return false;
  return undefined;
}

/** Plugged when any plug or port reading says so, unplugged when one says so and none says plugged. */
export function pluggedFrom(values: Record<string, StateValue>): boolean | null {
  let unplugged = false;
  for (const id of CHARGING_DESCRIPTORS.plug) {
    const p = plugValue(values[id]);
    if (p === true) return true;
    if (p === false) unplugged = true;
  }
  return unplugged ? false : null;
}

function statusSource(values: Record<string, StateValue>): { id: string; phases: Readonly<Record<string, ChargingPhase>> } | undefined {
  if (values[CHARGING_DESCRIPTORS.status]) return { id: CHARGING_DESCRIPTORS.status, phases: STATUS_PHASES };
  if (values[CHARGING_DESCRIPTORS.hvStatus]) return { id: CHARGING_DESCRIPTORS.hvStatus, phases: HV_STATUS_PHASES };
  return undefined;
}

/** A reading counts for the session when it is not from long before its start. */
function inSession(session: ChargingSessionState, t: Timed | undefined): Timed | undefined {
  return t && t.time >= Date.parse(session.startedAt) - SESSION_SLACK_MS ? t : undefined;
}

/** A start value: the value held when the session started, or the first one within the slack after it. */
function startValue(session: ChargingSessionState, t: Timed | undefined): number | null {
  return t && t.time <= Date.parse(session.startedAt) + SESSION_SLACK_MS ? t.value : null;
}

function openSession(vin: string, startedAt: string, startObserved: boolean): ChargingSessionState {
  return {
    id: `${vin}/${startedAt}`,
    startedAt,
    startObserved,
    startSoc: null,
    startEnergyContentKwh: null,
    startGridEnergyKwh: null,
    maxPowerKw: null,
    targetReachedSoc: null,
    interruptions: 0,
    errors: 0,
  };
}

/** Fills start values that arrived late (within the slack) and the highest power, from the current values. */
function updateSession(session: ChargingSessionState, values: Record<string, StateValue>): void {
  if (session.startSoc === null) session.startSoc = startValue(session, firstNumber(values, CHARGING_DESCRIPTORS.soc));
  if (session.startEnergyContentKwh === null) session.startEnergyContentKwh = startValue(session, numberOf(values, CHARGING_DESCRIPTORS.energyContent));
  if (session.startGridEnergyKwh === null) session.startGridEnergyKwh = startValue(session, numberOf(values, CHARGING_DESCRIPTORS.gridEnergy));
  const power = inSession(session, numberOf(values, CHARGING_DESCRIPTORS.power));
  if (power) {
    const p = round(kw(power));
    if (session.maxPowerKw === null || p > session.maxPowerKw) session.maxPowerKw = p;
  }
}

/** One reading as the tracker sees it: every reading of a message that was not a duplicate, late ones included. */
export interface TrackedReading {
  descriptor: string;
  value: StateValue['value'];
  unit: string | null;
  /** Epoch ms. */
  time: number;
}

type Sample = [number, number];

function addSample(session: ChargingSessionState, descriptor: string, time: number, value: number): void {
  const samples = (session.samples ??= {});
  const list = (samples[descriptor] ??= []);
  let i = list.length;
  while (i > 0 && list[i - 1][0] > time) i -= 1;
  if (i > 0 && list[i - 1][0] === time) list[i - 1] = [time, value];
  else list.splice(i, 0, [time, value]);
  if (list.length > MAX_SAMPLES) {
    const after = list.findIndex(([t]) => t > Date.parse(session.startedAt) + SESSION_SLACK_MS);
    list.splice(after > 0 && after < list.length - 1 ? after : 1, 1);
  }
}

/** A sampled value as kept: power in kW, the others as they are. */
function sampleValue(descriptor: string, value: number, unit: string | null): number {
  return descriptor === CHARGING_DESCRIPTORS.power ? round(kw({ value, unit, time: 0 })) : value;
}

/** The values held when a session opens, with their times (a state of charge from before the plug went in counts). */
function seedSamples(session: ChargingSessionState, values: Record<string, StateValue>): void {
  session.samples ??= {};
  for (const id of SAMPLED) {
    const n = numberOf(values, id);
    if (n) addSample(session, id, n.time, sampleValue(id, n.value, n.unit));
  }
}

/** A session saved before sessions kept their readings: its start values stand at its start. */
function upgradeSession(session: ChargingSessionState, values: Record<string, StateValue>): void {
  if (session.samples) return;
  const at = Date.parse(session.startedAt);
  session.samples = {};
  if (session.startSoc !== null) addSample(session, CHARGING_DESCRIPTORS.soc[0], at, session.startSoc);
  if (session.startEnergyContentKwh !== null) addSample(session, CHARGING_DESCRIPTORS.energyContent, at, session.startEnergyContentKwh);
  if (session.startGridEnergyKwh !== null) addSample(session, CHARGING_DESCRIPTORS.gridEnergy, at, session.startGridEnergyKwh);
  if (session.maxPowerKw !== null) addSample(session, CHARGING_DESCRIPTORS.power, at, session.maxPowerKw);
  seedSamples(session, values);
}

function samplesOf(session: ChargingSessionState, ids: readonly string[]): Sample[] {
  for (const id of ids) {
    const list = session.samples?.[id];
    if (list && list.length > 0) return list;
  }
  return [];
}

/** The latest sample at or before `limit`, unless it is from before the session (less the slack). */
function endValue(session: ChargingSessionState, list: Sample[], limit: number): number | null {
  const from = Date.parse(session.startedAt) - SESSION_SLACK_MS;
  for (let i = list.length - 1; i >= 0; i -= 1) if (list[i][0] <= limit) return list[i][0] >= from ? list[i][1] : null;
  return null;
}

/** The value at the start: the latest at or before it, else the first within the slack after it. */
function startSample(session: ChargingSessionState, list: Sample[]): number | null {
  const start = Date.parse(session.startedAt);
  let value: number | null = null;
  for (const [t, v] of list) {
    if (t <= start) value = v;
    else return value ?? (t <= start + SESSION_SLACK_MS ? v : null);
  }
  return value;
}

/**
 * Whether maxEnergy's rise over a charge can be taken as the energy added: BMW's catalogue calls it the battery's
 * energy content, but cars send about their usable capacity, nearly constant over a charge (its rise is then about
 * 0). It counts as measured only when it agrees with SoC added × battery size within ENERGY_AGREEMENT (1 kWh at
 * least); without the SoC to check it against, it is not taken.
 */
function agrees(content: number, fromSoc: number | null): boolean {
  return fromSoc !== null && Math.abs(content - fromSoc) <= Math.max(1, ENERGY_AGREEMENT * fromSoc);
}

/** How far (a share of the estimate) maxEnergy's rise may lie from SoC added × battery size and still count. */
export const ENERGY_AGREEMENT = 0.3;

type Figures = Pick<ChargingFinishedEvent, 'startSoc' | 'endSoc' | 'socAdded' | 'maxPowerKw' | 'energyAdded' | 'targetSoc'>;

/** A session's figures from its readings by their own times, whatever order they arrived in. */
function figures(session: ChargingSessionState, values: Record<string, StateValue>, endedAt: string): Figures {
  const end = Date.parse(endedAt);
  const from = Date.parse(session.startedAt) - SESSION_SLACK_MS;
  const soc = samplesOf(session, CHARGING_DESCRIPTORS.soc);
  const startSoc = startSample(session, soc);
  const endSoc = endValue(session, soc, end);
  const socAdded = startSoc !== null && endSoc !== null ? round(endSoc - startSoc) : null;
  let maxPowerKw: number | null = null;
  for (const [t, v] of samplesOf(session, [CHARGING_DESCRIPTORS.power])) if (t >= from && t <= end && (maxPowerKw === null || v > maxPowerKw)) maxPowerKw = v;
  const delta = (id: string): number | null => {
    const list = samplesOf(session, [id]);
    const a = startSample(session, list);
    const b = endValue(session, list, end);
    return a !== null && b !== null && b >= a ? round(b - a) : null;
  };
  const grid = delta(CHARGING_DESCRIPTORS.gridEnergy);
  const content = grid === null ? delta(CHARGING_DESCRIPTORS.energyContent) : null;
  // The battery's size; else maxEnergy itself, which cars send as about their usable capacity.
  const size = firstNumber(values, CHARGING_DESCRIPTORS.batterySize)?.value ?? numberOf(values, CHARGING_DESCRIPTORS.energyContent)?.value;
  const fromSoc = socAdded !== null && size !== undefined && size > 0 ? round((socAdded / 100) * size) : null;
  let energy: EnergyAdded | null = null;
  if (grid !== null) energy = { kwh: grid, estimate: false, method: 'grid-energy-counter' };
  else if (content !== null && agrees(content, fromSoc)) energy = { kwh: content, estimate: false, method: 'battery-energy-content' };
  else if (fromSoc !== null) energy = { kwh: fromSoc, estimate: true, method: 'soc-x-battery-size' };
  const targetSoc = numberOf(values, CHARGING_DESCRIPTORS.targetSoc)?.value ?? null;
  return { startSoc, endSoc, socAdded, maxPowerKw, energyAdded: energy, targetSoc };
}

function finished(vin: string, f: FinishingState, values: Record<string, StateValue>): ChargingEvent[] {
  const { session, endedAt } = f;
  const fig = figures(session, values, endedAt);
  const out: ChargingEvent[] = [];
  // A state of charge that arrived late can show the target reached before the end.
  const target = fig.targetSoc;
  if (session.targetReachedSoc === null && target !== null && target > 0) {
    const start = Date.parse(session.startedAt);
    const hit = samplesOf(session, CHARGING_DESCRIPTORS.soc).find(([t, v]) => t >= start && t <= Date.parse(endedAt) && v >= target);
    if (hit) {
      session.targetReachedSoc = target;
      out.push({ kind: 'target-reached', vin, at: new Date(hit[0]).toISOString(), sessionId: session.id, soc: hit[1], targetSoc: target });
    }
  }
  out.push({
    kind: 'charging-finished',
    vin,
    at: endedAt,
    sessionId: session.id,
    startedAt: session.startedAt,
    endedAt,
    durationSeconds: Math.max(0, Math.round((Date.parse(endedAt) - Date.parse(session.startedAt)) / 1000)),
    ...fig,
    targetReached: session.targetReachedSoc !== null,
    endedBy: f.endedBy,
    endStatus: f.endStatus,
    interruptions: session.interruptions,
    errors: session.errors,
    startObserved: session.startObserved || session.seenBefore === true,
    missing: Object.entries(fig)
      .filter(([, v]) => v === null)
      .map(([k]) => k),
  });
  return out;
}

/** The finish of the session that waits, with the events held behind it. */
function release(vin: string, state: ChargingState, values: Record<string, StateValue>): ChargingEvent[] {
  const f = state.finishing;
  if (!f) return [];
  state.finishing = null;
  return [...finished(vin, f, values), ...f.after];
}

/** Readings that arrived after their session had opened (or ended) go to the session's figures by their time. */
function record(state: ChargingState, values: Record<string, StateValue>, readings: readonly TrackedReading[]): void {
  const source = statusSource(values);
  for (const r of readings) {
    const n = typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : undefined;
    for (const session of [state.session, state.finishing?.session]) {
      if (!session) continue;
      if (n !== undefined && SAMPLED.has(r.descriptor)) addSample(session, r.descriptor, r.time, sampleValue(r.descriptor, n, r.unit));
      if (r.time < Date.parse(session.startedAt) && (PLUG_SET.has(r.descriptor) || r.descriptor === source?.id)) session.seenBefore = true;
    }
    // The earliest end signal decides the end, in whatever order the signals arrived.
    const f = state.finishing;
    if (!f || r.time >= Date.parse(f.endedAt) || r.time < Date.parse(f.session.startedAt)) continue;
    const at = new Date(r.time).toISOString();
    if (source && r.descriptor === source.id && typeof r.value === 'string') {
      const phase = source.phases[r.value];
      if (phase === 'idle' || phase === 'ended') Object.assign(f, { endedAt: at, endedBy: 'status', endStatus: r.value });
    } else if (PLUG_SET.has(r.descriptor) && plugValue({ value: r.value, unit: null, timestamp: at }) === false) {
      Object.assign(f, { endedAt: at, endedBy: 'unplugged', endStatus: null });
    }
  }
}

/** Options of trackCharging and settleCharging. */
export interface TrackOptions {
  /** The host's clock (epoch ms); without it, a finish goes out at once. */
  now?: number;
  /** Default FINISH_SETTLE_MS. */
  settleMs?: number;
  /**
   * Every reading of the message that was not a duplicate, late (stale) ones included, for the session's figures.
   * Default: the touched descriptors' values.
   */
  readings?: readonly TrackedReading[];
}

function due(state: ChargingState, opts: TrackOptions): boolean {
  const f = state.finishing;
  return !!f && (opts.now === undefined || opts.now >= Date.parse(f.endedAt) + (opts.settleMs ?? FINISH_SETTLE_MS));
}

/** The finish that waits for late readings, once its settle window has passed (for a timer: no message needed). */
export function settleCharging(vin: string, state: ChargingState, values: Record<string, StateValue>, opts: TrackOptions = {}): ChargingEvent[] {
  return due(state, opts) ? release(vin, state, values) : [];
}

/** When (epoch ms) the finish that waits is due; undefined when none waits. */
export function settleDueAt(state: ChargingState, settleMs = FINISH_SETTLE_MS): number | undefined {
  return state.finishing ? Date.parse(state.finishing.endedAt) + settleMs : undefined;
}

/**
 * Updates `state` after one message of `vin` was applied to `values`, and returns the events it showed, in
 * order: plugged-in, charging-started, charging-interrupted / charging-error, target-reached,
 * charging-finished, unplugged. `touched` lists the descriptors the message changed or re-sent (not the
 * duplicates or stale readings, which must not drive transitions).
 */
export function trackCharging(
  vin: string,
  state: ChargingState,
  values: Record<string, StateValue>,
  touched: Iterable<string>,
  opts: TrackOptions = {},
): ChargingEvent[] {
  const out: ChargingEvent[] = [];
  // Events that happened after the end of the session that waits for late readings are held behind its finish.
  const emit = (e: ChargingEvent): void => {
    if (state.finishing) state.finishing.after.push(e);
    else out.push(e);
  };
  if (state.session) upgradeSession(state.session, values);
  if (state.finishing) upgradeSession(state.finishing.session, values);
  const ids = [...touched];
  record(
    state,
    values,
    opts.readings ??
      ids.filter((id) => values[id]).map((id) => ({ descriptor: id, value: values[id].value, unit: values[id].unit, time: Date.parse(values[id].timestamp) })),
  );
  const end = (session: ChargingSessionState, endedAt: string, endedBy: 'status' | 'unplugged', endStatus: string | null): void => {
    // A finish still waiting goes out now: only one waits at a time.
    out.push(...release(vin, state, values));
    state.finishing = { session, endedAt, endedBy, endStatus, after: [] };
    state.session = null;
  };
  // A session whose "charging" is the first thing ever heard of the car did not start under observation.
  const knewBefore = state.phase !== null || state.plugged !== null;
  const source = statusSource(values);
  let statusTouched = false;
  let plugAt: string | undefined;
  for (const id of ids) {
    if (source && id === source.id) statusTouched = true;
    else if (PLUG_SET.has(id)) {
      const ts = iso(values[id].timestamp);
      if (plugAt === undefined || ts > plugAt) plugAt = ts;
    }
  }
  const soc = (): number | null => firstNumber(values, CHARGING_DESCRIPTORS.soc)?.value ?? null;
  const plugged = plugAt !== undefined ? pluggedFrom(values) : state.plugged;

  if (plugAt !== undefined && plugged === true && state.plugged !== true) {
    state.plugged = true;
    emit({ kind: 'plugged-in', vin, at: plugAt, soc: soc() });
  }

  let endByStatus: { at: string; status: string } | undefined;
  if (statusTouched && source) {
    const entry = values[source.id];
    const at = iso(entry.timestamp);
    const phase = typeof entry.value === 'string' ? source.phases[entry.value] : undefined;
    // UNKNOWN, INVALID and values outside the set change nothing.
    if (phase) {
      const previous = state.phase;
      const changedValue = entry.value !== state.status;
      state.status = entry.value as string;
      state.statusAt = at;
      // The same status sent again after the tracker set the phase to idle on unplugging starts nothing while unplugged.
      if (phase !== previous && (changedValue || plugged !== false)) {
        state.phase = phase;
        const session = state.session;
        if (phase === 'charging' && !session) {
          state.session = openSession(vin, at, knewBefore);
          updateSession(state.session, values);
          seedSamples(state.session, values);
          emit({
            kind: 'charging-started',
            vin,
            at,
            sessionId: state.session.id,
            startSoc: state.session.startSoc,
            targetSoc: numberOf(values, CHARGING_DESCRIPTORS.targetSoc)?.value ?? null,
            startObserved: state.session.startObserved,
          });
        } else if (phase === 'interrupted' || phase === 'error') {
          if (session) {
            if (phase === 'interrupted') session.interruptions += 1;
            else session.errors += 1;
          }
          emit({
            kind: phase === 'interrupted' ? 'charging-interrupted' : 'charging-error',
            vin,
            at,
            status: entry.value as string,
            sessionId: session?.id ?? null,
            soc: soc(),
          });
        } else if ((phase === 'idle' || phase === 'ended') && session && at >= session.startedAt) {
          endByStatus = { at, status: entry.value as string };
        }
      }
    }
  }

  const session = state.session;
  if (session) {
    updateSession(session, values);
    const current = inSession(session, firstNumber(values, CHARGING_DESCRIPTORS.soc));
    const target = numberOf(values, CHARGING_DESCRIPTORS.targetSoc);
    if (
      current &&
      target &&
      target.value > 0 &&
      current.value >= target.value &&
      (session.targetReachedSoc === null || target.value > session.targetReachedSoc)
    ) {
      session.targetReachedSoc = target.value;
      emit({
        kind: 'target-reached',
        vin,
        at: new Date(Math.max(current.time, target.time)).toISOString(),
        sessionId: session.id,
        soc: current.value,
        targetSoc: target.value,
      });
    }
    if (endByStatus) end(session, endByStatus.at, 'status', endByStatus.status);
    else if (plugAt !== undefined && plugged === false && plugAt >= session.startedAt) end(session, plugAt, 'unplugged', null);
  }

  if (plugAt !== undefined && plugged === false && state.plugged !== false) {
    if (state.plugged === true) emit({ kind: 'unplugged', vin, at: plugAt, soc: soc() });
    state.plugged = false;
    // Unplugged means not charging, whatever status the car sent last.
    if (state.phase !== null && state.phase !== 'idle' && state.phase !== 'ended') state.phase = 'idle';
  }

  state.charging = state.session !== null && state.phase === 'charging';
  const power = state.session && state.charging ? inSession(state.session, numberOf(values, CHARGING_DESCRIPTORS.power)) : undefined;
  state.powerKw = power ? round(kw(power)) : 0;
  return [...out, ...settleCharging(vin, state, values, opts)];
}
