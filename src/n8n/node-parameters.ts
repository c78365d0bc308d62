import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_DAILY_QUOTA } from '../core/api/quota';

/** What the BMW CarData node does. */
export const NODE_DESCRIPTION = 'Read vehicles, telematic data, charging history, charging settings, tyre diagnosis and images from BMW CarData';

/**
 * The polling trigger's description. n8n's node panel shows a node and its `<name>Trigger` as one entry, under
 * the trigger's description: so it says what both do.
 */
export const TRIGGER_DESCRIPTION = `${NODE_DESCRIPTION}, or start a workflow for each charging session a vehicle has finished`;

/** VIN as BMW writes it: 17 upper-case letters and digits. */
export const VIN_REGEX = '^[A-Z0-9]{17}$';

/** The vehicle, picked from the account's mapped vehicles or typed as a VIN. */
export function vinLocator(resource: string, operations: string[]): INodeProperties {
  return {
    displayName: 'Vehicle',
    name: 'vin',
    type: 'resourceLocator',
    default: { mode: 'list', value: '' },
    description:
      'The vehicle, one of those mapped to the BMW account as primary user. Empty: every one of them, one call each, each item with its VIN and vehicleName.',
    displayOptions: { show: { resource: [resource], operation: operations } },
    modes: [
      {
        displayName: 'From List',
        name: 'list',
        type: 'list',
        typeOptions: { searchListMethod: 'searchVehicles', searchable: true },
      },
      {
        displayName: 'By VIN',
        name: 'vin',
        type: 'string',
        placeholder: 'e.g. WBA11AA010CH00001',
        validation: [{ type: 'regex', properties: { regex: VIN_REGEX, errorMessage: 'A VIN is 17 upper-case letters and digits' } }],
      },
    ],
  };
}

/** Telematic descriptors from the bundled catalogue, labelled by category. */
/** Shows a field only for one operation of one resource. */
export function shownFor(resource: string, operation: string): INodeProperties['displayOptions'] {
  return { show: { resource: [resource], operation: [operation] } };
}

export function descriptorsField(displayOptions: INodeProperties['displayOptions'], name = 'descriptors'): INodeProperties {
  return {
    displayName: 'Descriptor Names or IDs',
    name,
    type: 'multiOptions',
    typeOptions: { loadOptionsMethod: 'getDescriptors' },
    default: [],
    required: true,
    description:
      'Telematic keys to read, e.g. vehicle.drivetrain.batteryManagement.header (state of charge). Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
    displayOptions,
  };
}

/** A container given by its ID (BMW's IDs are always 13 characters). */
export function containerIdField(displayOptions: INodeProperties['displayOptions'], description = 'The 13-character ID of the container'): INodeProperties {
  return {
    displayName: 'Container ID',
    name: 'containerId',
    type: 'string',
    default: '',
    required: true,
    placeholder: 'e.g. C1A2B3C4D5E6F',
    description,
    displayOptions,
  };
}

export function returnAllAndLimit(resource: string, operation: string): INodeProperties[] {
  return [
    {
      displayName: 'Return All',
      name: 'returnAll',
      type: 'boolean',
      default: false,
      description: 'Whether to return all results or only up to a given limit',
      hint: 'Every page of results costs one of the 50 daily CarData calls',
      displayOptions: shownFor(resource, operation),
    },
    {
      displayName: 'Limit',
      name: 'limit',
      type: 'number',
      typeOptions: { minValue: 1 },
      default: 50,
      description: 'Max number of results to return',
      displayOptions: { show: { resource: [resource], operation: [operation], returnAll: [false] } },
    },
  ];
}

function lifetimeText(ms: number): string {
  if (ms === 0) return 'none: BMW is asked every time';
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day${ms === 86_400_000 ? '' : 's'}`;
  return `${ms / 3_600_000} hour${ms === 3_600_000 ? '' : 's'}`;
}

/** "Answer From Cache Up To": how old an answer from the account's cache may be (core's parseMaxAge reads it). */
export function cacheOption(defaultMs: number): INodeProperties {
  return {
    displayName: 'Answer From Cache Up To',
    name: 'cacheMaxAge',
    type: 'string',
    default: '',
    placeholder: 'e.g. 30m, 2h, 1d',
    description: `Serve an answer BMW gave within this time from the account's cache, at no call: 0 always asks BMW, a number counts seconds, or 90s, 30m, 2h, 1d. Empty: the operation's default (${lifetimeText(defaultMs)}). The cache lives in this n8n process and is shared by its workflows.`,
  };
}

const QUOTA_DESCRIPTION = `Whether to add _quota to each item: calls used today, the daily limit (${DEFAULT_DAILY_QUOTA}), calls remaining and when the count resets (00:00 UTC)`;

/** Whether items carry `_quota` (calls used, limit, remaining, reset time): on for single answers... */
export const quotaOptionOn: INodeProperties = {
  displayName: 'Include Quota',
  name: 'includeQuota',
  type: 'boolean',
  default: true,
  description: QUOTA_DESCRIPTION,
};

/** ...off for rows that feed a CSV or a sheet. */
export const quotaOptionOff: INodeProperties = {
  displayName: 'Include Quota',
  name: 'includeQuota',
  type: 'boolean',
  default: false,
  description: QUOTA_DESCRIPTION,
};

/** How tool descriptions name the quota: every call counts against the account's day, whatever the car. */
export const DAILY_CALLS = `of the account's ${DEFAULT_DAILY_QUOTA} CarData calls a day (shared by all its cars, reset at 00:00 UTC)`;

/** What an empty Vehicle means to an agent, and what it costs. */
export const EVERY_CAR =
  'Without a VIN it reads every car mapped to the account as primary user, one call per car (the vehicle list costs one more, at most once a day).';
