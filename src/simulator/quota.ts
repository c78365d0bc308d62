import type { QuotaSnapshot } from './types';

const DAY_MS = 86_400_000;

interface Counter {
  day: number;
  used: number;
}

/**
 * BMW's daily REST budget per account (GCID), shared by all vehicles and endpoints. It resets at 00:00 UTC of the
 * simulator clock, which is what the community clients assume (BMW does not document it).
 */
export class QuotaCounter {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly now: () => number,
    public limit: number,
  ) {}

  /** Counts one call; false when the budget of the day is spent (the refused call is not counted). */
  tryConsume(gcid: string): boolean {
    const c = this.counter(gcid);
    if (c.used >= this.limit) return false;
    c.used++;
    return true;
  }

  snapshot(gcid: string): QuotaSnapshot {
    const c = this.counter(gcid);
    return { used: c.used, limit: this.limit, resetsAt: new Date((c.day + 1) * DAY_MS).toISOString() };
  }

  setUsed(gcid: string, used: number): void {
    this.counter(gcid).used = Math.max(0, Math.floor(used));
  }

  private counter(gcid: string): Counter {
    const day = Math.floor(this.now() / DAY_MS);
    let c = this.counters.get(gcid);
    if (!c || c.day !== day) {
      c = { day, used: 0 };
      this.counters.set(gcid, c);
    }
    return c;
  }
}
