import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import type { VehicleMapping } from '../core/types';
import { openAccount } from './account';
import { toNodeError } from './errors';

/** Mapped vehicles change rarely: the picker reuses what it read for a day (a Vehicle > Get Many run renews it). */
const DAY_MS = 24 * 60 * 60 * 1000;
const cache = new Map<string, { at: number; vehicles: VehicleMapping[] }>();

export function rememberVehicles(accountId: string, vehicles: VehicleMapping[]): void {
  cache.set(accountId, { at: Date.now(), vehicles: vehicles.map((v) => ({ ...v })) });
}

/** The picker of the Vehicle field: the account's mapped vehicles, read once a day. */
export async function searchVehicles(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  const account = await openAccount(this);
  let entry = cache.get(account.client.accountId);
  if (!entry || Date.now() - entry.at > DAY_MS) {
    try {
      rememberVehicles(account.client.accountId, await account.client.getMappings());
    } catch (e) {
      throw toNodeError(this.getNode(), e);
    }
    entry = cache.get(account.client.accountId);
  }
  const needle = (filter ?? '').trim().toUpperCase();
  const results = (entry?.vehicles ?? [])
    .filter((v) => typeof v.vin === 'string' && (!needle || v.vin.includes(needle)))
    .map((v) => ({ name: `${v.vin}${v.mappingType ? ` (${String(v.mappingType).toLowerCase()})` : ''}`, value: v.vin as string }));
  return { results };
}
