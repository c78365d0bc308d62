import { numberOf, type StateValue } from './vehicle-state';

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
}

export function initialChargingState(): ChargingState {
  return { plugged: null, status: null, statusAt: null, phase: null, charging: false, powerKw: 0, session: null };
}

export type ChargingEventKind =
  | 'plugged-in'
  | 'charging-started'
  | 'charging-interrupted'
  | 'charging-error'
  | 'target-reached'
  | 'charging-finished'
  | 'unplugged';

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
   * `battery-energy-content`: the battery's energy content, end minus start;
   * `soc-x-battery-size`: the estimate.
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
}

export type ChargingEvent =
  | PluggedInEvent
  | UnpluggedEvent
  | ChargingStartedEvent
  | ChargingInterruptedEvent
  | TargetReachedEvent
  | ChargingFinishedEvent;

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

function energyAdded(session: ChargingSessionState, values: Record<string, StateValue>, socAdded: number | null): EnergyAdded | null {
  const grid = inSession(session, numberOf(values, CHARGING_DESCRIPTORS.gridEnergy));
  if (grid && session.startGridEnergyKwh !== null && grid.value >= session.startGridEnergyKwh) {
    return { kwh: round(grid.value - session.startGridEnergyKwh), estimate: false, method: 'grid-energy-counter' };
  }
  const content = inSession(session, numberOf(values, CHARGING_DESCRIPTORS.energyContent));
  if (content && session.startEnergyContentKwh !== null && content.value >= session.startEnergyContentKwh) {
    return { kwh: round(content.value - session.startEnergyContentKwh), estimate: false, method: 'battery-energy-content' };
  }
  const size = firstNumber(values, CHARGING_DESCRIPTORS.batterySize);
  if (socAdded !== null && size && size.value > 0) {
    return { kwh: round((socAdded / 100) * size.value), estimate: true, method: 'soc-x-battery-size' };
  }
  return null;
}

function finished(
  vin: string,
  session: ChargingSessionState,
  values: Record<string, StateValue>,
  endedAt: string,
  endedBy: 'status' | 'unplugged',
  endStatus: string | null,
): ChargingFinishedEvent {
  const endSoc = inSession(session, firstNumber(values, CHARGING_DESCRIPTORS.soc))?.value ?? null;
  const socAdded = session.startSoc !== null && endSoc !== null ? round(endSoc - session.startSoc) : null;
  const targetSoc = numberOf(values, CHARGING_DESCRIPTORS.targetSoc)?.value ?? null;
  const figures = {
    startSoc: session.startSoc,
    endSoc,
    socAdded,
    maxPowerKw: session.maxPowerKw,
    energyAdded: energyAdded(session, values, socAdded),
    targetSoc,
  };
  return {
    kind: 'charging-finished',
    vin,
    at: endedAt,
    sessionId: session.id,
    startedAt: session.startedAt,
    endedAt,
    durationSeconds: Math.max(0, Math.round((Date.parse(endedAt) - Date.parse(session.startedAt)) / 1000)),
    ...figures,
    targetReached: session.targetReachedSoc !== null,
    endedBy,
    endStatus,
    interruptions: session.interruptions,
    errors: session.errors,
    startObserved: session.startObserved,
    missing: Object.entries(figures)
      .filter(([, v]) => v === null)
      .map(([k]) => k),
  };
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
): ChargingEvent[] {
  const events: ChargingEvent[] = [];
  // A session whose "charging" is the first thing ever heard of the car did not start under observation.
  const knewBefore = state.phase !== null || state.plugged !== null;
  const source = statusSource(values);
  let statusTouched = false;
  let plugAt: string | undefined;
  for (const id of touched) {
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
    events.push({ kind: 'plugged-in', vin, at: plugAt, soc: soc() });
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
          events.push({
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
          events.push({
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
    if (current && target && target.value > 0 && current.value >= target.value && (session.targetReachedSoc === null || target.value > session.targetReachedSoc)) {
      session.targetReachedSoc = target.value;
      events.push({
        kind: 'target-reached',
        vin,
        at: new Date(Math.max(current.time, target.time)).toISOString(),
        sessionId: session.id,
        soc: current.value,
        targetSoc: target.value,
      });
    }
    if (endByStatus) {
      events.push(finished(vin, session, values, endByStatus.at, 'status', endByStatus.status));
      state.session = null;
    } else if (plugAt !== undefined && plugged === false && plugAt >= session.startedAt) {
      events.push(finished(vin, session, values, plugAt, 'unplugged', null));
      state.session = null;
    }
  }

  if (plugAt !== undefined && plugged === false && state.plugged !== false) {
    if (state.plugged === true) events.push({ kind: 'unplugged', vin, at: plugAt, soc: soc() });
    state.plugged = false;
    // Unplugged means not charging, whatever status the car sent last.
    if (state.phase !== null && state.phase !== 'idle' && state.phase !== 'ended') state.phase = 'idle';
  }

  state.charging = state.session !== null && state.phase === 'charging';
  const power = state.session && state.charging ? inSession(state.session, numberOf(values, CHARGING_DESCRIPTORS.power)) : undefined;
  state.powerKw = power ? round(kw(power)) : 0;
  return events;
}
