import type { FaultControl } from './types';

interface FaultRule {
  kind: 'fail' | 'drop';
  remaining: number;
  status: 500 | 503;
  retryAfterSec?: number;
  path?: RegExp;
}

export type Fault = { kind: 'drop' } | { kind: 'fail'; status: 500 | 503; retryAfterSec?: number };

/** A fault of the login service's refresh grant: a 5xx with an OAuth `server_error` body, or no answer. */
export type RefreshFault = { kind: 'drop' } | { kind: 'fail'; status: 500 | 502 | 503 };

/** Switchable failures for REST requests and token refreshes. Rules are consumed in the order they were added. */
export class Faults implements FaultControl {
  latencyMs = 0;
  private rules: FaultRule[] = [];
  private refreshRules: Array<{ fault: RefreshFault; remaining: number }> = [];

  failNext(count: number, status: 500 | 503 = 503, opts: { retryAfterSec?: number; path?: RegExp } = {}): void {
    if (status !== 500 && status !== 503) throw new Error('failNext: status must be 500 or 503');
    if (count > 0) this.rules.push({ kind: 'fail', remaining: count, status, retryAfterSec: opts.retryAfterSec, path: opts.path });
  }

  dropNext(count: number, opts: { path?: RegExp } = {}): void {
    if (count > 0) this.rules.push({ kind: 'drop', remaining: count, status: 503, path: opts.path });
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

  /** The fault for a REST request to `path`, consuming one use of the first matching rule. */
  take(path: string): Fault | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (!r.path || testPath(r.path, path)));
    if (!rule) return undefined;
    rule.remaining--;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.kind === 'drop' ? { kind: 'drop' } : { kind: 'fail', status: rule.status, retryAfterSec: rule.retryAfterSec };
  }
}

// A /g or /y RegExp keeps lastIndex between test() calls, which would make matches alternate.
function testPath(re: RegExp, path: string): boolean {
  re.lastIndex = 0;
  return re.test(path);
}
