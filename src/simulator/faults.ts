import type { FaultControl, RawAnswer } from './types';

interface FaultRule {
  fault: Fault;
  remaining: number;
  path?: RegExp;
  /** Matching requests still let through before the fault applies. */
  skip: number;
}

/**
 * - `fail`: a CU-500 / CU-503 error body; `drop`: the socket is destroyed without an answer;
 * - `answer`: exactly this status, body and content type (an HTML page, truncated JSON, a login-service 5xx);
 * - `hang`: headers never come; `drip`: the real answer, one byte every `intervalMs`.
 */
export type Fault =
  | { kind: 'drop' }
  | { kind: 'fail'; status: 500 | 503; retryAfterSec?: number }
  | { kind: 'answer'; answer: RawAnswer }
  | { kind: 'hang' }
  | { kind: 'drip'; intervalMs: number };

/** A fault of the login service's refresh grant: a 5xx with an OAuth `server_error` body, or no answer. */
export type RefreshFault = { kind: 'drop' } | { kind: 'fail'; status: 500 | 502 | 503 };

/**
 * Switchable failures. Rules are consumed in the order they were added. A rule without `path` applies to REST
 * requests; login requests (`/gcdm/oauth/...`) only meet rules whose `path` matches them.
 */
export class Faults implements FaultControl {
  latencyMs = 0;
  private rules: FaultRule[] = [];
  private refreshRules: Array<{ fault: RefreshFault; remaining: number }> = [];

  private add(fault: Fault, count: number, path?: RegExp, skip = 0): void {
    if (count > 0) this.rules.push({ fault, remaining: count, path, skip });
  }

  failNext(count: number, status: 500 | 503 = 503, opts: { retryAfterSec?: number; path?: RegExp } = {}): void {
    if (status !== 500 && status !== 503) throw new Error('failNext: status must be 500 or 503');
    this.add({ kind: 'fail', status, retryAfterSec: opts.retryAfterSec }, count, opts.path);
  }

  dropNext(count: number, opts: { path?: RegExp } = {}): void {
    this.add({ kind: 'drop' }, count, opts.path);
  }

  answerNext(count: number, answer: RawAnswer, opts: { path?: RegExp; skip?: number } = {}): void {
    this.add({ kind: 'answer', answer: { ...answer } }, count, opts.path, opts.skip);
  }

  hangNext(count: number, opts: { path?: RegExp } = {}): void {
    this.add({ kind: 'hang' }, count, opts.path);
  }

  dripNext(count: number, opts: { intervalMs?: number; path?: RegExp } = {}): void {
    this.add({ kind: 'drip', intervalMs: opts.intervalMs ?? 5000 }, count, opts.path);
  }

  failNextRefresh(count: number, status: 500 | 502 | 503 = 500): void {
    if (status !== 500 && status !== 502 && status !== 503) throw new Error('failNextRefresh: status must be 500, 502 or 503');
    if (count > 0) this.refreshRules.push({ fault: { kind: 'fail', status }, remaining: count });
  }

  dropNextRefresh(count: number): void {
    if (count > 0) this.refreshRules.push({ fault: { kind: 'drop' }, remaining: count });
  }

  reset(): void {
    this.latencyMs = 0;
    this.rules = [];
    this.refreshRules = [];
  }

  /** The fault for a refresh-grant token request, consuming one use of the oldest rule. */
  takeRefresh(): RefreshFault | undefined {
    const rule = this.refreshRules[0];
    if (!rule) return undefined;
    if (--rule.remaining <= 0) this.refreshRules.shift();
    return rule.fault;
  }

  /** The fault for a request to `path`, consuming one use of the first matching rule. */
  take(path: string, kind: 'rest' | 'auth' = 'rest'): Fault | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (r.path ? testPath(r.path, path) : kind === 'rest'));
    if (!rule) return undefined;
    if (rule.skip > 0) {
      rule.skip -= 1;
      return undefined;
    }
    rule.remaining--;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.fault;
  }
}

// A /g or /y RegExp keeps lastIndex between test() calls, which would make matches alternate.
function testPath(re: RegExp, path: string): boolean {
  re.lastIndex = 0;
  return re.test(path);
}
