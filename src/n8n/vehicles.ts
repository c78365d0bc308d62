import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import type { VehicleMapping } from '../core/types';
import { openAccount } from './account';
import { toNodeError } from './errors';

/**
 * The picker of the Vehicle field: the account's mapped vehicles from the process's cache of answers (a day
 * long, shared with Vehicle > Get Many), so the picker costs a call a day at most.
 */
export async function searchVehicles(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  const account = await openAccount(this);
  let vehicles: VehicleMapping[];
  try {
    vehicles = await account.client.getMappings();
  } catch (e) {
    throw toNodeError(this.getNode(), e);
  }
  const needle = (filter ?? '').trim().toUpperCase();
  const results = vehicles
    .filter((v) => typeof v.vin === 'string' && (!needle || v.vin.includes(needle)))
    .map((v) => ({ name: `${v.vin}${v.mappingType ? ` (${String(v.mappingType).toLowerCase()})` : ''}`, value: v.vin as string }));
  return { results };
}
