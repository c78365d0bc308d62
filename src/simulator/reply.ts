import type { IncomingMessage, ServerResponse } from 'http';
import type { CuCode } from './errors';
import { CarDataError, errorBody } from './errors';

/**
 * What a handler answers. Handlers never touch the response object, so the dispatcher alone decides about
 * latency, logging and dropped connections.
 */
export interface Reply {
  status: number;
  body?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
  exveErrorId?: string;
  oauthError?: string;
}

export function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify(value), contentType: 'application/json', headers };
}

export function cuError(code: CuCode, opts: { status?: number; note?: string; headers?: Record<string, string> } = {}): Reply {
  const err = new CarDataError(code, opts);
  return { ...json(err.status, errorBody(code, opts.note), opts.headers), exveErrorId: code };
}

export function fromCarDataError(err: CarDataError): Reply {
  return cuError(err.code, { status: err.status, note: err.note });
}

export function oauthError(status: number, error: string, description: string): Reply {
  return {
    ...json(status, { error, error_description: description }, { 'Cache-Control': 'no-store' }),
    oauthError: error,
  };
}

export function html(status: number, page: string): Reply {
  return { status, body: page, contentType: 'text/html; charset=utf-8' };
}

export function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | number> = { ...(reply.headers ?? {}) };
  if (reply.contentType) headers['Content-Type'] = reply.contentType;
  const body = reply.body === undefined ? undefined : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
  headers['Content-Length'] = body ? body.length : 0;
  res.writeHead(reply.status, headers);
  res.end(body);
}

/**
 * Reads the request body, rejecting one larger than `limit` bytes. The rest is drained rather than the socket
 * destroyed, so the caller can still answer with an error.
 */
export function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => (size > limit ? reject(new Error('body too large')) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export function isFormEncoded(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

export function parseForm(body: Buffer): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
}
