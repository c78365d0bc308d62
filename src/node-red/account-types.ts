import type { Node, NodeDef } from 'node-red';
import type { Account, QuotaState, Tariff, TokenSet, VehicleMapping } from '../core';

/** What the account config node keeps as credentials. Everything but clientId is a password credential. */
export interface AccountCredentials {
  clientId?: string;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
  gcid?: string;
  scope?: string;
  /** The access token's expiry as ISO 8601 (core's storedTokens); accounts saved before hold epoch milliseconds as text. */
  expiresAt?: string;
}

export interface AccountConfig extends NodeDef {
  apiBaseUrl?: string;
  authBaseUrl?: string;
  /** CarData stream broker; empty means BMW's. */
  streamUrl?: string;
  dailyQuota?: string | number;
  /** The last calls of the day that only runs started by hand may spend (default DEFAULT_QUOTA_RESERVE). */
  quotaReserve?: string | number;
  /** The user's names for the cars: `VIN=name` entries, one per line or separated by commas. */
  vehicleNames?: string;
  /** The tariff as JSON text (parseTariff); empty: no cost anywhere. */
  tariff?: string;
}

export interface MappedVehicles {
  vehicles: VehicleMapping[];
  /** ISO time of the call that filled the cache, or null when nothing was fetched yet. */
  fetchedAt: string | null;
}

/** What the connection line in the editor shows. Never a token. */
export interface ConnectionState {
  deployed: boolean;
  hasClientId: boolean;
  authorized: boolean;
  /** The GCID shortened to its first and last characters. */
  gcid: string | null;
  /** ISO time the access token expires (it is refreshed on use). */
  accessTokenExpiresAt: string | null;
  quota: QuotaState | null;
}

/** The account config node as the action nodes see it. */
export interface AccountNode extends Node<AccountCredentials> {
  /** The GCDM base URL this account is deployed with: editor logins of a deployed account go there only. */
  authBaseUrl: string;
  /** The stream broker URL of this account, or '' for BMW's. */
  streamUrl: string;
  /** The core account; throws a CarDataError (kind auth/input) when the node has no client ID. */
  account(): Account;
  /** Mapped vehicles from the day-long cache; `refresh` asks BMW (one call), for a run started by hand if `attended`. */
  mappedVehicles(refresh?: boolean, attended?: boolean): Promise<MappedVehicles>;
  /** The account's tariff, parsed; undefined when none is set (or it could not be read: the node warned). */
  tariff?: Tariff;
  /** The friendly name of a car: the user's name, else its model name once basic data was read, else the VIN. */
  vehicleName(vin: string): string;
  /** Keeps a car's model name from a basic data read, for vehicleName. */
  rememberModel(vin: string, modelName: string): void;
  /** Puts fresh mappings into the cache (the vehicles node does this after its own call). */
  rememberVehicles(vehicles: VehicleMapping[]): void;
  /** Takes tokens from a device login done in the editor (with the client ID the login used), stored already. */
  adoptTokens(tokens: TokenSet, clientId?: string): Promise<void>;
}

export const ACCOUNT_TYPE = 'bmw-cardata-account';

/** A config field, credential or request field as trimmed text; '' when it is not text. */
export function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}
