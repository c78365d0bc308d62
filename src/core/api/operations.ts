import { DAY_MS, HOUR_MS } from './answer-cache';
import type { HttpMethod } from '../transport';

/** The 11 operations of the CarData Customer API, by BMW's operationId. */
export type OperationId =
  | 'getMappings'
  | 'getBasicData'
  | 'getTelematicData'
  | 'getChargingHistory'
  | 'getLocationBasedChargingSettings'
  | 'getSmartMaintenanceTyreDiagnosis'
  | 'getImage'
  | 'listContainers'
  | 'createContainer'
  | 'getContainerDetails'
  | 'deleteContainer';

/** What hosts group operations under (n8n's resources). */
export type ResourceId = 'vehicle' | 'telematicData' | 'chargingHistory' | 'chargingSettings' | 'tyreDiagnosis' | 'image' | 'container';

/** How a parameter is checked before any request (see validation.ts). */
export type ParameterKind = 'vin' | 'containerId' | 'dateTime' | 'pageToken' | 'containerBody';

export interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'body';
  kind: ParameterKind;
  required: boolean;
  description: string;
}

export interface OperationSpec {
  id: OperationId;
  method: HttpMethod;
  path: string;
  summary: string;
  /** The resource hosts group the operation under. */
  resource: ResourceId;
  parameters: ParameterSpec[];
  /** HTTP statuses that mean success (BMW answers 201 on create, 208 when a container was already deleted). */
  success: number[];
  response: 'json' | 'binary' | 'none';
  /** For paged operations: the array of items, and the answer fields that may carry the next page token. */
  paging?: { itemsField: string; tokenFields: string[]; tokenQuery: string };
  /** What a success answer must hold (BMW's schema, as far as clients rely on it); see answers.ts. */
  answer: AnswerShape;
  /**
   * How long an answer is served from the account's cache instead of asking BMW (ms) unless a node says
   * otherwise; 0: never by default, but a node may ask for it. Absent: never cached (containers change).
   */
  cacheMs?: number;
}

/**
 * The promise of a success answer. `list`: where the items are (a field, or `''` for the body itself; the first
 * one present counts), each a JSON object; `fields`: fields the body must have, with their JSON type.
 */
export interface AnswerShape {
  list?: readonly string[];
  /** Fields every item of the list must have. */
  itemFields?: Readonly<Record<string, 'string' | 'object'>>;
  fields?: Readonly<Record<string, 'string' | 'object'>>;
}

const vin: ParameterSpec = { name: 'vin', in: 'path', kind: 'vin', required: true, description: 'Vehicle identification number (17 characters)' };
const containerIdPath: ParameterSpec = {
  name: 'containerId',
  in: 'path',
  kind: 'containerId',
  required: true,
  description: 'Container ID (13 characters)',
};
const nextToken: ParameterSpec = { name: 'nextToken', in: 'query', kind: 'pageToken', required: false, description: 'Page token of the previous answer' };
// BMW spells the token differently per operation (next_token vs nextToken): both are read from every answer.
const tokenFields = ['next_token', 'nextToken'];

export const OPERATIONS: Readonly<Record<OperationId, OperationSpec>> = {
  getMappings: {
    id: 'getMappings',
    method: 'GET',
    path: '/customers/vehicles/mappings',
    summary: 'List the vehicles mapped to the account',
    resource: 'vehicle',
    parameters: [],
    success: [200],
    response: 'json',
    answer: { list: ['', 'mappings', 'vehicles', 'data'], itemFields: { vin: 'string' } },
    cacheMs: DAY_MS,
  },
  getBasicData: {
    id: 'getBasicData',
    method: 'GET',
    path: '/customers/vehicles/{vin}/basicData',
    summary: 'Basic vehicle data (model, brand, drive train, battery size)',
    resource: 'vehicle',
    parameters: [vin],
    success: [200],
    response: 'json',
    answer: { fields: { vin: 'string' } },
    cacheMs: DAY_MS,
  },
  getTelematicData: {
    id: 'getTelematicData',
    method: 'GET',
    path: '/customers/vehicles/{vin}/telematicData',
    summary: "Telematic values of a container's descriptors",
    resource: 'telematicData',
    parameters: [vin, { name: 'containerId', in: 'query', kind: 'containerId', required: true, description: 'Container ID (13 characters)' }],
    success: [200],
    response: 'json',
    answer: { fields: { telematicData: 'object' } },
    cacheMs: 0,
  },
  getChargingHistory: {
    id: 'getChargingHistory',
    method: 'GET',
    path: '/customers/vehicles/{vin}/chargingHistory',
    summary: 'Charging sessions between two instants',
    resource: 'chargingHistory',
    parameters: [
      vin,
      { name: 'from', in: 'query', kind: 'dateTime', required: true, description: 'Start, ISO 8601 date-time' },
      { name: 'to', in: 'query', kind: 'dateTime', required: true, description: 'End, ISO 8601 date-time' },
      nextToken,
    ],
    success: [200],
    response: 'json',
    paging: { itemsField: 'data', tokenFields, tokenQuery: 'nextToken' },
    answer: { list: ['data'] },
    cacheMs: 0,
  },
  getLocationBasedChargingSettings: {
    id: 'getLocationBasedChargingSettings',
    method: 'GET',
    path: '/customers/vehicles/{vin}/locationBasedChargingSettings',
    summary: 'Charging settings per location',
    resource: 'chargingSettings',
    parameters: [vin, nextToken],
    success: [200],
    response: 'json',
    paging: { itemsField: 'data', tokenFields, tokenQuery: 'nextToken' },
    answer: { list: ['data'] },
    cacheMs: HOUR_MS,
  },
  getSmartMaintenanceTyreDiagnosis: {
    id: 'getSmartMaintenanceTyreDiagnosis',
    method: 'GET',
    path: '/customers/vehicles/{vin}/smartMaintenanceTyreDiagnosis',
    summary: 'Tyre diagnosis (mounted and stored tyres)',
    resource: 'tyreDiagnosis',
    parameters: [vin],
    success: [200],
    response: 'json',
    answer: {},
    cacheMs: HOUR_MS,
  },
  getImage: {
    id: 'getImage',
    method: 'GET',
    path: '/customers/vehicles/{vin}/image',
    summary: 'Vehicle image',
    resource: 'image',
    parameters: [vin],
    success: [200],
    response: 'binary',
    answer: {},
    cacheMs: DAY_MS,
  },
  listContainers: {
    id: 'listContainers',
    method: 'GET',
    path: '/customers/containers',
    summary: 'List the containers of the account',
    resource: 'container',
    parameters: [],
    success: [200],
    response: 'json',
    answer: { list: ['containers', ''], itemFields: { containerId: 'string' } },
  },
  createContainer: {
    id: 'createContainer',
    method: 'POST',
    path: '/customers/containers',
    summary: 'Create a container of descriptors',
    resource: 'container',
    parameters: [{ name: 'body', in: 'body', kind: 'containerBody', required: true, description: 'name, purpose and technicalDescriptors' }],
    success: [200, 201],
    response: 'json',
    answer: { fields: { containerId: 'string' } },
  },
  getContainerDetails: {
    id: 'getContainerDetails',
    method: 'GET',
    path: '/customers/containers/{containerId}',
    summary: 'Container details with its descriptors',
    resource: 'container',
    parameters: [containerIdPath],
    success: [200],
    response: 'json',
    answer: { fields: { containerId: 'string' } },
  },
  deleteContainer: {
    id: 'deleteContainer',
    method: 'DELETE',
    path: '/customers/containers/{containerId}',
    summary: 'Delete a container',
    resource: 'container',
    parameters: [containerIdPath],
    success: [200, 204, 208],
    response: 'none',
    answer: {},
  },
};

export const OPERATION_IDS = Object.keys(OPERATIONS) as OperationId[];

/** The resources, in the order of their first operation in the table: the order hosts list them in. */
export const RESOURCE_IDS: readonly ResourceId[] = [...new Set(OPERATION_IDS.map((id) => OPERATIONS[id].resource))];

/** The headers every request of an operation carries. */
export function operationHeaders(spec: OperationSpec): Record<string, string> {
  return { 'x-version': 'v1', Accept: spec.response === 'binary' ? '*/*' : 'application/json' };
}
