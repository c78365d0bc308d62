import * as http from 'http';
import * as https from 'https';
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { type Transport, type TransportRequest, type TransportResponse, TransportError } from '../core/transport';

function flattenHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers || typeof headers !== 'object') return out;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function parseBody(data: Buffer, contentType: string, responseType: TransportRequest['responseType']): unknown {
  if (data.length === 0) return undefined;
  if (contentType.includes('json') || (responseType !== 'binary' && /^\s*[[{]/.test(data.subarray(0, 1).toString()))) {
    try {
      return JSON.parse(data.toString('utf8'));
    } catch {
      return data.toString('utf8');
    }
  }
  return responseType === 'binary' ? data : data.toString('utf8');
}

/** The axios adapter of the transport port. */
export class AxiosTransport implements Transport {
  private http?: AxiosInstance;

  constructor(
    private readonly defaultTimeoutMs = 30_000,
    instance?: AxiosInstance,
  ) {
    this.http = instance;
  }

  // axios is loaded on first use, so hosts with a transport of their own (n8n) never load it.
  private async instance(): Promise<AxiosInstance> {
    if (!this.http) {
      const axios = (await import('axios')).default;
      // Keep-alive saves a TCP and TLS handshake per call; idle sockets do not keep the process running.
      this.http = axios.create({ httpAgent: new http.Agent({ keepAlive: true }), httpsAgent: new https.Agent({ keepAlive: true }) });
    }
    return this.http;
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    let data: unknown;
    if (req.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      data = new URLSearchParams(req.form).toString();
    } else if (req.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      data = JSON.stringify(req.json);
    }
    // axios's own timeout only notices a silent socket; the signal ends an answer that drips in too slowly.
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const config: AxiosRequestConfig = {
      method: req.method,
      url: req.url,
      params: req.query,
      headers,
      data,
      timeout: timeoutMs,
      signal: req.signal ? AbortSignal.any([deadline, req.signal]) : deadline,
      responseType: 'arraybuffer',
      validateStatus: () => true,
      maxRedirects: 0,
      transitional: { clarifyTimeoutError: true },
    };
    try {
      const res = await (await this.instance()).request<ArrayBuffer>(config);
      const responseHeaders = flattenHeaders(res.headers);
      const buffer = Buffer.from(res.data ?? new ArrayBuffer(0));
      return {
        status: res.status,
        headers: responseHeaders,
        body: parseBody(buffer, responseHeaders['content-type'] ?? '', req.responseType),
      };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      // axios puts the request config (with the Authorization header) on its errors: only the code and a
      // generic message leave this adapter.
      const code = deadline.aborted ? 'ETIMEDOUT' : req.signal?.aborted ? 'ECANCELED' : (err.code ?? 'ENETWORK');
      throw new TransportError(`no answer from ${new URL(req.url).host} (${code})`, code);
    }
  }
}
