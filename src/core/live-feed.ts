import type { ChargingEvent, ChargingEventKind } from './charging-events';
import { LiveData, type LiveDataState, type LiveUpdate, type VehicleRecord } from './live-data';
import type { StreamMessage, StreamRawMessage } from './stream-message';
import type { TelematicDataResponse } from './types';

/** What a host wants from the stream besides raw readings. */
export interface LiveFeedOptions {
  /** The state saved before (from `save`), to continue after a restart; a broken one is reported and dropped. */
  saved?: unknown;
  /** Persists the state. Awaited before anything is emitted, so a restart never repeats or loses an event. */
  save?: (state: LiveDataState) => void | Promise<void>;
  /** The car's whole state, when a message changed it. `descriptors` limits the values handed out. */
  onVehicle?: (vehicle: VehicleRecord, update: LiveUpdate) => void;
  /** Charging events, in the order they happened; `kinds` limits them. */
  onChargingEvent?: (event: ChargingEvent) => void;
  kinds?: readonly ChargingEventKind[];
  descriptors?: readonly string[];
  /** Told when the saved state was unusable or saving failed; the feed goes on. */
  onProblem?: (message: string) => void;
  now?: () => number;
}

export interface LiveFeed {
  /** Hand every stream message here (`onMessage` of subscribeStream). Messages are handled one after another. */
  push(message: StreamMessage): Promise<void>;
  /**
   * Seeds one car's state with a REST telematics answer (`telematicData`, the same shape the stream sends), as
   * if it had streamed it; a later streamed reading of a key wins when it is newer.
   */
  seed(vin: string, telematicData: TelematicDataResponse['telematicData']): Promise<void>;
  readonly live: LiveData;
}

function restore(saved: unknown, options: LiveFeedOptions): LiveData {
  if (saved === undefined || saved === null) return new LiveData({ now: options.now });
  try {
    return new LiveData({ state: saved as LiveDataState, now: options.now });
  } catch (e) {
    options.onProblem?.(`The saved live state could not be used (${(e as Error).message}); starting afresh.`);
    return new LiveData({ now: options.now });
  }
}

/**
 * Stream messages in, the car's state and charging events out, with the state saved before anything leaves:
 * the one loop the Node-RED node, the n8n trigger and the bridge share.
 */
export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const live = restore(options.saved, options);
  const kinds = options.kinds && options.kinds.length > 0 ? new Set(options.kinds) : undefined;
  const descriptors = options.descriptors && options.descriptors.length > 0 ? new Set(options.descriptors) : undefined;
  let chain: Promise<void> = Promise.resolve();

  const handle = async (raw: StreamRawMessage, topic: string): Promise<void> => {
    const update = live.ingest(raw, topic);
    if (!update || !update.changed) return;
    if (options.save) {
      try {
        await options.save(live.serialize());
      } catch (e) {
        options.onProblem?.(`The live state could not be saved: ${(e as Error).message}`);
      }
    }
    if (options.onVehicle && (!descriptors || update.changes.some((d) => descriptors.has(d)) || update.events.length > 0)) {
      const vehicle = live.vehicle(update.vin) as VehicleRecord;
      if (descriptors) vehicle.values = Object.fromEntries(Object.entries(vehicle.values).filter(([d]) => descriptors.has(d)));
      options.onVehicle(vehicle, update);
    }
    if (options.onChargingEvent) for (const e of update.events) if (!kinds || kinds.has(e.kind)) options.onChargingEvent(e);
  };

  return {
    live,
    push(message: StreamMessage): Promise<void> {
      return enqueue(message.raw, message.topic);
    },
    seed(vin: string, telematicData: TelematicDataResponse['telematicData']): Promise<void> {
      return enqueue({ vin, data: (telematicData ?? {}) as StreamRawMessage['data'] }, '');
    },
  };

  function enqueue(raw: StreamRawMessage, topic: string): Promise<void> {
    chain = chain.then(() => handle(raw, topic)).catch((e: unknown) => options.onProblem?.(`A stream message could not be handled: ${(e as Error).message}`));
    return chain;
  }
}
