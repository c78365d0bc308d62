import { randomUUID } from 'crypto';
import { CU_CODES, type CuCode } from '../core/errors';
import type { CustomerErrorResponse } from '../core/types';

export type { CuCode };

/** Thrown by REST handlers; the dispatcher turns it into BMW's error body. */
export class CarDataError extends Error {
  readonly code: CuCode;
  readonly status: number;
  readonly note?: string;

  constructor(code: CuCode, opts: { status?: number; note?: string } = {}) {
    super(`${code} ${CU_CODES[code].message}`);
    this.code = code;
    this.status = opts.status ?? CU_CODES[code].status;
    this.note = opts.note;
  }
}

export function errorBody(code: CuCode, note?: string): CustomerErrorResponse {
  return {
    exveErrorId: code,
    exveErrorMsg: CU_CODES[code].message,
    exveErrorRef: randomUUID(),
    exveNote: note ?? CU_CODES[code].note,
  };
}
