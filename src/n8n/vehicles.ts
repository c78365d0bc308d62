import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import type { VehicleMapping } from '../core/types';
import { type CachedVehicles, VehicleCache } from '../core/vehicle-cache';
import { primaryVins, vehicleNameOf } from '../core/vehicle-names';
import { type N8nAccount, openAccount } from './account';
import { toNodeError } from './errors';

// The mapped vehicles of every account this n8n process has read, so the picker costs a call a day at most.
const lists = new Map<string, CachedVehicles>();
const caches = new Map<string, VehicleCache>();
// Model names from the basic data reads of this n8n process, per account: a car's name when the user gave none.
const models = new Map<string, Record<string, string>>();

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

/** Keeps a car's model name from a basic data read, so later items can name the car at no call. */
export function rememberModel(accountId: string, vin: string, modelName: string): void {
  models.set(accountId, { ...models.get(accountId), [vin]: modelName.slice(0, 60) });
}

/** The car's name: the credential's, else its model name once read, else the VIN. */
export function vehicleName(account: N8nAccount, vin: string): string {
  return vehicleNameOf(vin, { names: account.vehicleNames, models: models.get(account.client.accountId) });
}

/** The VINs mapped to the account as PRIMARY user, from the day-cached list (one call when there is none). */
export async function primaryVehicles(account: N8nAccount): Promise<string[]> {
  return primaryVins((await cacheOf(account.client.accountId).get(account.client)).list);
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
