import { randomUUID } from 'crypto';
import type { CustomerErrorResponse } from '../core/types';

// BMW's error catalogue (Integration Guide §3.4). The HTTP status per code is not documented by BMW; these follow
// what clients observed (CU-429 and CU-105 as 403, CU-122 as 208, missing image as 404) and otherwise the obvious
// class of the error.
export const CU = {
  'CU-100': { status: 401, msg: 'No token sent', note: 'No token was included in the request.' },
  'CU-101': { status: 401, msg: 'Authentication error', note: 'The token could not be validated.' },
  'CU-102': { status: 401, msg: 'Token expired', note: 'The access token has expired. Refresh it.' },
  'CU-103': {
    status: 403,
    msg: 'Token-scope is not CarData',
    note: 'The token does not carry the CarData scope (cardata:api:read).',
  },
  'CU-104': {
    status: 403,
    msg: 'No permission for specified VIN',
    note: 'The vehicle is not telematics-capable or the user is not its primary user.',
  },
  'CU-105': {
    status: 403,
    msg: 'No permission for specified containerId',
    note: 'The container does not belong to the user or does not exist.',
  },
  'CU-120': {
    status: 400,
    msg: 'Format of parameter VIN is invalid',
    note: 'A VIN has exactly 17 upper-case characters.',
  },
  'CU-121': {
    status: 400,
    msg: 'Format of parameter containerId is invalid',
    note: 'A containerId has exactly 13 characters.',
  },
  'CU-122': { status: 208, msg: 'Container already set for deletion', note: 'Nothing to do.' },
  'CU-124': {
    status: 403,
    msg: 'Maximum number of containers reached',
    note: 'Delete a container first. Deleted containers count until they are removed after 29 days.',
  },
  'CU-125': { status: 400, msg: 'Pagination-Token expired', note: 'Start again from the first page.' },
  'CU-126': { status: 404, msg: 'No vehicle image found for given VIN', note: 'No image is available.' },
  'CU-127': { status: 404, msg: 'No LBCS data found', note: 'No location based charging settings are stored.' },
  'CU-400': { status: 400, msg: 'Bad request', note: 'Please check the API specification.' },
  'CU-401': { status: 400, msg: 'Parameter Invalid', note: 'At least one parameter is invalid.' },
  'CU-402': {
    status: 400,
    msg: 'Telematic key is invalid',
    note: 'At least one requested telematic key was not found.',
  },
  'CU-429': {
    status: 403,
    msg: 'API rate limit reached',
    note: 'The daily rate limit has been reached. Use CarData Streaming for frequent data.',
  },
  'CU-500': { status: 500, msg: 'Internal server error', note: 'Report this error if it occurs.' },
  'CU-503': {
    status: 503,
    msg: 'Service temporarily unavailable',
    note: 'A partner system is out of order. Retry later.',
  },
} as const;

export type CuCode = keyof typeof CU;

/** Thrown by REST handlers; the dispatcher turns it into BMW's error body. */
export class CarDataError extends Error {
  readonly code: CuCode;
  readonly status: number;
  readonly note?: string;

  constructor(code: CuCode, opts: { status?: number; note?: string } = {}) {
    super(`${code} ${CU[code].msg}`);
    this.code = code;
    this.status = opts.status ?? CU[code].status;
    this.note = opts.note;
  }
}

export function errorBody(code: CuCode, note?: string): CustomerErrorResponse {
  return {
    exveErrorId: code,
    exveErrorMsg: CU[code].msg,
    exveErrorRef: randomUUID(),
    exveNote: note ?? CU[code].note,
  };
}
