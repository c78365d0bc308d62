import { type Clock, realClock } from '../transport';
import type { VehicleMapping } from '../types';

/** Mapped vehicles change rarely: a list read from BMW is used for a day before it counts as stale. */
export const VEHICLE_CACHE_MS = 24 * 60 * 60 * 1000;

/** A vehicle list as read from BMW, with when (epoch ms). */
export interface CachedVehicles {
  list: VehicleMapping[];
  fetchedAt: number;
}

/** Where a host keeps the list of one account: in memory (n8n), in a file (Node-RED). */
export interface VehicleStore {
  load(): CachedVehicles | undefined;
  save(entry: CachedVehicles): void;
}

/**
 * The day-cached list of one account's mapped vehicles, so pickers and VIN fallbacks spend no call while it is
 * fresh. Callers that ask BMW at once share one call.
 */
export class VehicleCache {
  private listing?: Promise<CachedVehicles>;

  constructor(
    private readonly store: VehicleStore,
    private readonly now: Clock = realClock,
  ) {}

  /** The list, if one was read within the last day. */
  fresh(): CachedVehicles | undefined {
    const entry = this.store.load();
    return entry && this.now() - entry.fetchedAt < VEHICLE_CACHE_MS ? entry : undefined;
  }

  /** Keeps a list read elsewhere (a Get Many run), as fresh from now. */
  remember(list: VehicleMapping[]): CachedVehicles {
    const entry = { list: list.map((v) => ({ ...v })), fetchedAt: this.now() };
    this.store.save(entry);
    return entry;
  }

  /** Reads the list from BMW (one call) and keeps it. */
  refresh(client: { getMappings(): Promise<VehicleMapping[]> }): Promise<CachedVehicles> {
    this.listing ??= client
      .getMappings()
      .then((list) => this.remember(list))
      .finally(() => {
        this.listing = undefined;
      });
    return this.listing;
  }

  /** The fresh list, else one read from BMW. */
  async get(client: { getMappings(): Promise<VehicleMapping[]> }): Promise<CachedVehicles> {
    return this.fresh() ?? this.refresh(client);
  }
}
