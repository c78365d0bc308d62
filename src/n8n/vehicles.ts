import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import type { VehicleMapping } from '../core/types';
import { type CachedVehicles, VehicleCache } from '../core/api/vehicle-cache';
import { openAccount } from './account';
import { toNodeError } from './errors';

// The mapped vehicles of every account this n8n process has read, so the picker costs a call a day at most.
const lists = new Map<string, CachedVehicles>();
const caches = new Map<string, VehicleCache>();

function cacheOf(accountId: string): VehicleCache {
  let cache = caches.get(accountId);
  if (!cache) {
    cache = new VehicleCache({ load: () => lists.get(accountId), save: (entry) => lists.set(accountId, entry) });
    caches.set(accountId, cache);
  }
  return cache;
}

/** Keeps what a Vehicle > Get Many run read, so the picker reuses it. */
export function rememberVehicles(accountId: string, vehicles: VehicleMapping[]): void {
  cacheOf(accountId).remember(vehicles);
}

/** The picker of the Vehicle field: the account's mapped vehicles, read once a day. */
export async function searchVehicles(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  const account = await openAccount(this);
  let vehicles: VehicleMapping[];
  try {
    vehicles = (await cacheOf(account.client.accountId).get(account.client)).list;
  } catch (e) {
    throw toNodeError(this.getNode(), e);
  }
  const needle = (filter ?? '').trim().toUpperCase();
  const results = vehicles
    .filter((v) => typeof v.vin === 'string' && (!needle || v.vin.includes(needle)))
    .map((v) => ({ name: `${v.vin}${v.mappingType ? ` (${String(v.mappingType).toLowerCase()})` : ''}`, value: v.vin as string }));
  return { results };
}
