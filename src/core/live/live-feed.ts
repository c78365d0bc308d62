import type { ChargingEvent, ChargingEventKind } from './charging-events';
import type { TripEvent, TripEventKind } from './trips';
import type { HistoryImport, LedgerEvent, LedgerEventKind } from './ledger';
import type { Tariff } from '../tariff';
import type { ChargingSession } from '../types';
import {
  DEFAULT_LIVE_DATA_LIMITS,
  LiveData,
  restoreLiveDataState,
  type DroppedReadings,
  type LiveDataLimits,
  type LiveDataState,
  type LiveUpdate,
  type VehicleRecord,
} from './live-data';
import { normalizeStreamMessage, type StreamEvent, type StreamMessage, type StreamRawMessage } from '../stream/message';
import type { StreamTimers } from '../stream/types';
import type { TelematicDataResponse } from '../types';

/**
 * A host's own use of each car update, changed or not, of a message, a finish that settled or an imported charging
 * history, in turn with the messages (the bridge's topics and its outbox of events).
 */
export interface LiveSubscriber {
  /**
   * Awaited before the update's state is saved: what must be on disk before the state says it happened (an outbox of
   * events, a log of trips) is written here, so that a crash can repeat an event, never lose it.
   */
  beforeSave?(update: LiveUpdate): void | Promise<void>;
  /** Awaited once the update's state is saved (one that changed nothing is not saved) and the callbacks below were told. */
  afterSave?(update: LiveUpdate): void | Promise<void>;
}

/** What a host wants from the stream besides raw readings. */
export interface LiveFeedOptions {
  /**
   * The state saved before (the text from `save`, or that text parsed), to continue after a restart; a broken one
   * is reported and dropped.
   */
  saved?: unknown;
  /**
   * Persists the state: the whole of it as JSON text (LiveData.serializeText: only the cars that changed are
   * serialised again). Saves come one after another, never two at once. A message that gives charging or trip
   * events is saved, awaited, before its events go out, so a restart never repeats or loses an event. Other changes are saved
   * in batches, `saveAfterMs` after the first unsaved one; call `flush()` or `close()` before the host stops.
   */
  save?: (json: string) => void | Promise<void>;
  /**
   * How long plain readings may wait for a save (ms), as Node-RED's own file store waits 30 s: at most what came
   * in this long before a crash is lost, never an event. Only with `timers`; without them, or with 0, every change
   * is saved before the feed goes on. Default 30,000.
   */
  saveAfterMs?: number;
  /**
   * Instead of `save`: persists only the cars that changed, each as JSON text by VIN (a host that keeps one record
   * per car writes what changed, not the whole state). `liveStateFromCars` turns the records back into `saved`.
   */
  saveCars?: (cars: Record<string, string>) => void | Promise<void>;
  /** The timers that batch the saves (src/node's nodeTimers in the hosts). */
  timers?: StreamTimers;
  /**
   * The cars whose updates are saved and handed on (default, or empty: every car). The finishes of another car, one
   * of an earlier save, still settle in the state, but are neither saved at once nor handed on.
   */
  vins?: readonly string[];
  subscriber?: LiveSubscriber;
  /** The car's whole state, when a message changed it. `descriptors` limits the values handed out. */
  onVehicle?: (vehicle: VehicleRecord, update: LiveUpdate) => void;
  /** Charging events, in the order they happened; `kinds` limits them. */
  onChargingEvent?: (event: ChargingEvent) => void;
  kinds?: readonly ChargingEventKind[];
  /** Trip events (trip-started, trip-finished), in the order they happened, after the charging events; `tripKinds` limits them. */
  onTripEvent?: (event: TripEvent) => void;
  tripKinds?: readonly TripEventKind[];
  /**
   * Ledger events (see ledger.ts): `summary` after each finished charge or trip (its month so far), `month-closed`
   * once per month with the final figures; after the events they follow from. `ledgerKinds` limits them.
   */
  onLedgerEvent?: (event: LedgerEvent) => void;
  ledgerKinds?: readonly LedgerEventKind[];
  /** The account's tariff (parseTariff): charging-finished gains `cost`, the monthly figures a cost. */
  tariff?: Tariff;
  descriptors?: readonly string[];
  /**
   * Told when the saved state was unusable, when saving failed (once until a save works again) and, once per car
   * and limit, when readings were dropped (LiveDataLimits); the feed goes on.
   */
  onProblem?: (message: string) => void;
  now?: () => number;
  /**
   * How long a finished charge or trip waits for readings BMW delivers late (ms; default FINISH_SETTLE_MS, 5
   * minutes): its figures then come from the readings' own times. With `timers` it goes out when the wait is over;
   * without, with the car's next message.
   */
  settleMs?: number;
  /** What one car may hold; default DEFAULT_LIVE_DATA_LIMITS. */
  limits?: Partial<LiveDataLimits>;
}

export interface LiveFeed {
  /** Hand every stream message here (`onMessage` of subscribeStream). Messages are handled one after another. */
  push(message: StreamMessage): Promise<void>;
  /**
   * Seeds one car's state with a REST telematics answer (`telematicData`, the same shape the stream sends), as
   * if it had streamed it; a later streamed reading of a key wins when it is newer.
   */
  seed(vin: string, telematicData: TelematicDataResponse['telematicData']): Promise<void>;
  /**
   * Adds a car's charging history read over REST (the sessions of every page of getChargingHistory: one call per
   * page) to its energy counter, once per car; sessions overlapping one counted are left out. What it added is saved
   * and the car handed on (an update without events) before it resolves.
   */
  importChargingHistory(vin: string, sessions: readonly ChargingSession[]): Promise<HistoryImport>;
  /** Saves what has not been saved yet, after the messages pushed before. */
  flush(): Promise<void>;
  /** Stops the batch timer and saves what is left; later changes, if any, are saved at once. */
  close(): Promise<void>;
  readonly live: LiveData;
}

function restore(saved: unknown, options: LiveFeedOptions): LiveData {
  const fresh = { now: options.now, limits: options.limits, settleMs: options.settleMs, tariff: options.tariff };
  if (saved === undefined || saved === null) return new LiveData(fresh);
  try {
    const state = (typeof saved === 'string' ? JSON.parse(saved) : saved) as LiveDataState;
    return new LiveData({ ...fresh, state });
  } catch (e) {
    options.onProblem?.(`The saved live state could not be used (${(e as Error).message}); starting afresh.`);
    return new LiveData(fresh);
  }
}

/** The longest delay a timer takes (ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Text from the stream, cut for a log line. */
function short(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** What a host is told, once per car and limit, when LiveData dropped readings. */
function droppedMessage(vin: string, kind: keyof DroppedReadings, first: string, limits: LiveDataLimits): string {
  return kind === 'keys'
    ? `Car ${short(vin)} holds ${limits.maxKeysPerCar} data keys: new keys the catalogue does not know are dropped (first: ${short(first)}).`
    : `Car ${short(vin)}: a reading longer than ${limits.maxReadingChars} characters was dropped, the value held before stays (${short(first)}); later ones are dropped too.`;
}

/**
 * A saved state from the records a host kept per car (`saveCars`): JSON text (or parsed) by VIN. A record that
 * cannot be read is left out and named in `broken`, so one bad record costs that car's state, not every car's.
 */
export function liveStateFromCars(cars: Record<string, unknown>): { saved: LiveDataState; broken: string[] } {
  const saved: LiveDataState = { version: 1, vehicles: {} };
  const broken: string[] = [];
  for (const [vin, record] of Object.entries(cars)) {
    try {
      const value = typeof record === 'string' ? (JSON.parse(record) as unknown) : record;
      saved.vehicles[vin] = restoreLiveDataState({ version: 1, vehicles: { [vin]: value } }).vehicles[vin];
      if (!saved.vehicles[vin]) delete saved.vehicles[vin];
    } catch {
      broken.push(vin);
    }
  }
  return { saved, broken };
}

/** An update of a car whose state changed without a message: its imported charging history. */
function quietUpdate(vin: string): LiveUpdate {
  return { vin, changed: true, changes: [], duplicates: 0, stale: 0, future: 0, events: [], trips: [], ledger: [] };
}

/**
 * Stream messages in, the car's state, charging and trip events out, with the state saved before any event leaves:
 * the one loop the Node-RED node, the n8n trigger and the bridge share.
 */
export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const live = restore(options.saved, options);
  const limits: LiveDataLimits = { ...DEFAULT_LIVE_DATA_LIMITS, ...options.limits };
  const kinds = options.kinds && options.kinds.length > 0 ? new Set(options.kinds) : undefined;
  const tripKinds = options.tripKinds && options.tripKinds.length > 0 ? new Set(options.tripKinds) : undefined;
  const ledgerKinds = options.ledgerKinds && options.ledgerKinds.length > 0 ? new Set(options.ledgerKinds) : undefined;
  const descriptors = options.descriptors && options.descriptors.length > 0 ? new Set(options.descriptors) : undefined;
  const vins = options.vins && options.vins.length > 0 ? new Set(options.vins) : undefined;
  const follows = (vin: string): boolean => !vins || vins.has(vin);
  const timers = options.timers;
  const saveAfterMs = options.saveAfterMs ?? 30_000;
  const told = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  /** The cars with a change not saved yet. */
  const unsaved = new Set<string>();
  let timer: unknown;
  /** Fires when the next finish waiting for late readings is due. */
  let settleTimer: unknown;
  const now = options.now ?? Date.now;
  let closed = false;
  let failing = false;

  const stopTimer = (): void => {
    if (timer !== undefined) timers?.clearTimeout(timer);
    timer = undefined;
  };

  /** Saves every car's changes, or with `vin` that car's (the others as they were last saved, for an event). */
  const save = async (vin?: string): Promise<void> => {
    if (unsaved.size === 0 || (!options.save && !options.saveCars)) return stopTimer();
    const saving = vin === undefined ? [...unsaved] : [vin];
    for (const v of saving) unsaved.delete(v);
    if (unsaved.size === 0) stopTimer();
    try {
      if (options.saveCars) await options.saveCars(live.serializeCars(saving));
      else await options.save?.(live.serializeText(vin === undefined ? undefined : saving));
      failing = false;
    } catch (e) {
      for (const v of saving) unsaved.add(v);
      if (!failing) options.onProblem?.(`The live state could not be saved: ${(e as Error).message}`);
      failing = true;
      later();
    }
  };

  /** Saves in a while, unless a save is due already. */
  function later(): void {
    if (timer !== undefined || closed || !timers) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void enqueue(() => save());
    }, saveAfterMs);
  }

  const report = (vin: string, dropped: DroppedReadings): void => {
    for (const kind of ['keys', 'size'] as const) {
      const key = `${kind}\n${vin}`;
      if (dropped[kind].length === 0 || told.has(key)) continue;
      told.add(key);
      options.onProblem?.(droppedMessage(vin, kind, dropped[kind][0], limits));
    }
  };

  /** A timer for the next finish that waits; it goes out (saved first) when the wait is over. */
  let settleAt: number | undefined;
  const scheduleSettle = (): void => {
    const finish = closed || !timers ? undefined : live.nextSettleAt();
    const month = closed || !timers ? undefined : live.nextMonthEnd();
    const at = finish === undefined ? month : month === undefined ? finish : Math.min(finish, month);
    if (at === settleAt && (at === undefined || settleTimer !== undefined)) return;
    if (settleTimer !== undefined) timers?.clearTimeout(settleTimer);
    settleTimer = undefined;
    settleAt = at;
    if (at === undefined || !timers) return;
    settleTimer = timers.setTimeout(
      () => {
        settleTimer = undefined;
        settleAt = undefined;
        void enqueue(async () => {
          for (const update of live.settle()) if (follows(update.vin)) await deliver(update);
          scheduleSettle();
        });
      },
      // Timers take at most 2^31 - 1 ms (24.8 days); a month's end further away is looked at again then.
      Math.min(MAX_TIMER_MS, Math.max(0, at - now())),
    );
  };

  const handle = async (readings: readonly StreamEvent[]): Promise<void> => {
    const update = live.ingestEvents(readings)[0];
    if (!update || !follows(update.vin)) return;
    if (update.dropped) report(update.vin, update.dropped);
    if (update.future > 0 && !told.has(`future\n${update.vin}`)) {
      told.add(`future\n${update.vin}`);
      options.onProblem?.(
        `Car ${short(update.vin)} sends readings stamped ahead of this machine's clock: they are taken as received now (is the clock right?).`,
      );
    }
    await deliver(update);
    scheduleSettle();
  };

  /**
   * Saves what changed (at once for an event, that car alone with `atOnce`, else in the next batch), then hands the
   * car and its events on; the subscriber is told of every update, before and after.
   */
  const deliver = async (update: LiveUpdate, atOnce = false): Promise<void> => {
    await options.subscriber?.beforeSave?.(update);
    if (update.changed) {
      unsaved.add(update.vin);
      if (atOnce) await save(update.vin);
      else if (closed || !timers || saveAfterMs <= 0) await save();
      else if (update.events.length > 0 || update.trips.length > 0 || update.ledger.length > 0) await save(update.vin);
      else later();
      handOn(update);
    }
    await options.subscriber?.afterSave?.(update);
  };

  const handOn = (update: LiveUpdate): void => {
    if (options.onVehicle && (!descriptors || update.changes.some((d) => descriptors.has(d)) || update.events.length > 0)) {
      const vehicle = live.vehicle(update.vin) as VehicleRecord;
      if (descriptors) vehicle.values = Object.fromEntries(Object.entries(vehicle.values).filter(([d]) => descriptors.has(d)));
      options.onVehicle(vehicle, update);
    }
    if (options.onChargingEvent) for (const e of update.events) if (!kinds || kinds.has(e.kind)) options.onChargingEvent(e);
    if (options.onTripEvent) for (const e of update.trips) if (!tripKinds || tripKinds.has(e.kind)) options.onTripEvent(e);
    if (options.onLedgerEvent) for (const e of update.ledger) if (!ledgerKinds || ledgerKinds.has(e.kind)) options.onLedgerEvent(e);
  };

  scheduleSettle();
  return {
    live,
    push(message: StreamMessage): Promise<void> {
      return enqueue(() => handle(message.readings));
    },
    seed(vin: string, telematicData: TelematicDataResponse['telematicData']): Promise<void> {
      return enqueue(() => handle(normalizeStreamMessage({ vin, data: (telematicData ?? {}) as StreamRawMessage['data'] }, '')));
    },
    importChargingHistory(vin: string, sessions: readonly ChargingSession[]): Promise<HistoryImport> {
      let result: HistoryImport | undefined;
      let failure: unknown;
      return enqueue(async () => {
        try {
          result = live.importChargingHistory(vin, sessions);
          if (!result.alreadyImported) await deliver(quietUpdate(vin), true);
        } catch (e) {
          failure = e;
        }
      }).then(() => {
        if (failure !== undefined) throw failure;
        return result as HistoryImport;
      });
    },
    flush(): Promise<void> {
      return enqueue(() => save());
    },
    close(): Promise<void> {
      closed = true;
      stopTimer();
      scheduleSettle();
      return enqueue(() => save());
    },
  };

  function enqueue(task: () => Promise<void>): Promise<void> {
    chain = chain.then(task).catch((e: unknown) => options.onProblem?.(`A stream message could not be handled: ${(e as Error).message}`));
    return chain;
  }
}
