/**
 * The transport port: the only way core reaches the network. Adapters exist for axios (src/node: Node-RED, CLI,
 * tests) and for n8n's request helpers (src/n8n), so core never depends on a host.
 */
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface TransportRequest {
  method: HttpMethod;
  url: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A JSON body (sent as application/json) or form fields (sent as application/x-www-form-urlencoded). */
  json?: unknown;
  form?: Record<string, string>;
  /** `binary` returns the body as a Buffer; `json` parses JSON when the answer is JSON. */
  responseType?: 'json' | 'binary';
  /** The attempt's total deadline in ms: headers and the whole body must have arrived by then. */
  timeoutMs?: number;
  /** Aborts the request; the client's deadline. */
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, a string, a Buffer (binary), or undefined (no body). */
  body: unknown;
}

/** Every HTTP status comes back as a response; only a failure to get an answer at all is thrown. */
export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
}

/**
 * Thrown by adapters when no answer arrived (timeout, reset, refused, DNS). `code` is Node's error code; a
 * deadline that ran out is `ETIMEDOUT`.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Waits. Core keeps no timers of its own: each host passes its own (Node's timers, n8n-workflow's sleep). */
export type Sleep = (ms: number) => Promise<void>;
export type Clock = () => number;

export const realClock: Clock = () => Date.now();
