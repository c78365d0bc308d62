import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import type { VehicleMapping } from '../core/types';
import { primaryVins, vehicleNameOf } from '../core/api/vehicle-names';
import { type N8nAccount, openAccount } from './workflow-account';
import { toNodeError } from './errors';

// Model names from the basic data reads of this n8n process, per account: a car's name when the user gave none.
const models = new Map<string, Record<string, string>>();

/** Keeps a car's model name from a basic data read, so later items can name the car at no call. */
export function rememberModel(accountId: string, vin: string, modelName: string): void {
  models.set(accountId, { ...models.get(accountId), [vin]: modelName.slice(0, 60) });
}

/** The car's name: the credential's, else its model name once read, else the VIN. */
export function vehicleName(account: N8nAccount, vin: string): string {
  return vehicleNameIn(account.client.accountId, account.vehicleNames, vin);
}

/** vehicleName for an account known by its id (accountKey) and the credential's names, as the stream trigger has it. */
export function vehicleNameIn(accountId: string, names: Record<string, string>, vin: string): string {
  return vehicleNameOf(vin, { names, models: models.get(accountId) });
}

/**
 * The VINs mapped to the account as PRIMARY user, from the process's cache of answers (the vehicle list is kept a
 * day), so one call at most when there is none.
 */
export async function primaryVehicles(account: N8nAccount): Promise<string[]> {
  return primaryVins(await account.client.getMappings());
}

/**
 * The picker of the Vehicle field: the account's mapped vehicles from the process's cache of answers (a day
 * long, shared with Vehicle > Get Many), so the picker costs a call a day at most.
 */
export async function searchVehicles(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
  // Someone opened the node's dialog: the list is read by hand.
  const account = await openAccount(this, true);
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
