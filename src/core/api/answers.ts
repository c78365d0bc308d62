import { CarDataError } from '../errors';
import type { AnswerShape, OperationSpec } from './operations';
import type { TransportResponse } from '../transport';

function byteLength(body: unknown): number {
  if (body === undefined || body === null) return 0;
  if (Buffer.isBuffer(body)) return body.length;
  if (typeof body === 'string') return Buffer.byteLength(body);
  return Buffer.byteLength(JSON.stringify(body));
}

function notCarData(spec: OperationSpec, res: TransportResponse, what: string): CarDataError {
  const type = (res.headers['content-type'] ?? '').split(';')[0].trim() || 'no content type';
  return new CarDataError({
    kind: 'response',
    status: res.status,
    operation: spec.id,
    // Only the type and the size: the body may be a proxy's page with anything in it.
    message: `${spec.id}: BMW answered with ${what}: ${type}, ${byteLength(res.body)} bytes`,
    hint: 'Something between you and BMW (a proxy, a captive portal, a firewall) or BMW itself sent this instead of CarData. Try again later; if it persists, check the network and the API base URL.',
    retryable: true,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function hasFields(value: Record<string, unknown>, fields: AnswerShape['fields']): string | undefined {
  for (const [name, type] of Object.entries(fields ?? {})) {
    const v = value[name];
    if (type === 'object' ? !isObject(v) : typeof v !== type) return name;
  }
  return undefined;
}

/** The list of an answer, by the shape's candidates, or undefined if none is there. */
function findList(body: unknown, shape: AnswerShape): unknown[] | undefined {
  for (const field of shape.list ?? []) {
    const value = field === '' ? body : isObject(body) ? body[field] : undefined;
    if (Array.isArray(value)) return value;
  }
  // One item on its own (BMW's spec describes the mappings answer as a single object).
  if (isObject(body) && shape.itemFields && !hasFields(body, shape.itemFields)) return [body];
  return undefined;
}

/**
 * Checks a success answer against what the operation promises, so an HTML page, truncated JSON or a body without
 * its list never becomes data. Returns the body (for lists: the body as BMW sent it).
 */
export function checkAnswer(spec: OperationSpec, res: TransportResponse): unknown {
  const type = (res.headers['content-type'] ?? '').toLowerCase();
  // No body is promised; a page (a proxy's login form) means the request never got to BMW.
  if (spec.response === 'none') {
    if (type.startsWith('text/html')) throw notCarData(spec, res, 'a web page');
    if (typeof res.body === 'string' && res.body.trim() !== '') throw notCarData(spec, res, 'something that is not CarData JSON');
    return res.body;
  }
  if (spec.response === 'binary') {
    if (!Buffer.isBuffer(res.body) || res.body.length === 0 || (type !== '' && !type.startsWith('image/') && !type.startsWith('application/octet-stream'))) {
      throw notCarData(spec, res, 'something that is not an image');
    }
    return res.body;
  }
  if ((type !== '' && !type.includes('json')) || res.body === undefined || typeof res.body !== 'object' || Buffer.isBuffer(res.body) || res.body === null) {
    throw notCarData(spec, res, 'something that is not CarData JSON');
  }
  const shape = spec.answer;
  if (shape.list) {
    const list = findList(res.body, shape);
    if (!list) throw notCarData(spec, res, `JSON without its list (${shape.list.filter(Boolean).join(' or ') || 'an array'})`);
    const bad = list.findIndex((item) => !isObject(item) || (shape.itemFields && hasFields(item, shape.itemFields)));
    if (bad >= 0)
      throw notCarData(
        spec,
        res,
        `a list whose entry ${bad + 1} of ${list.length} is ${isObject(list[bad]) ? 'incomplete' : String(list[bad] === null ? 'null' : typeof list[bad])}`,
      );
    return res.body;
  }
  if (!isObject(res.body)) throw notCarData(spec, res, 'JSON that is not an object');
  const missing = hasFields(res.body, shape.fields);
  if (missing) throw notCarData(spec, res, `JSON without "${missing}"`);
  return res.body;
}
