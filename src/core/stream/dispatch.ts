import { filterStreamMessage, normalizeStreamMessage, parseStreamPayload, vinOfTopic, type StreamEvent, type StreamRawMessage } from './message';
import { clip, describe, report, type Subscriber } from './subscriber';

/** Skipped messages are reported at most this often (ms). */
const SKIP_REPORT_MS = 60_000;

/**
 * Hands each message of a connection to the subscribers that want it. Nothing a message carries may escape into
 * the MQTT client's handler (an exception there ends the host): a message that cannot be read is skipped, and a
 * subscriber whose handler throws is told, not the others.
 */
export class MessageDispatch {
  /** Unreadable messages since the last report, and when that was (epoch ms). */
  private skips = { count: 0, reportedAt: -Infinity };

  constructor(
    private readonly subs: ReadonlySet<Subscriber>,
    private readonly now: () => number,
  ) {}

  dispatch(topic: string, payload: Buffer | string): void {
    let raw: StreamRawMessage | undefined;
    let events: StreamEvent[];
    try {
      raw = parseStreamPayload(payload);
      if (!raw) return this.skipped(topic, 'it is not a JSON object');
      events = normalizeStreamMessage(raw, topic);
    } catch (e) {
      return this.skipped(topic, describe(e));
    }
    for (const s of [...this.subs]) {
      try {
        const message = filterStreamMessage(raw, topic, events, s.filter);
        if (!message) continue;
        s.opts.onMessage?.(message);
        if (s.opts.onEvent) for (const e of message.events) if (!s.dedupe || s.dedupe.pass(e)) s.opts.onEvent(e);
      } catch (e) {
        report(s, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /**
   * A message that cannot be read is skipped; subscribers hear of it at most once a minute, with the count and
   * the reason (never the payload, which can carry anything).
   */
  private skipped(topic: string, reason: string): void {
    this.skips.count++;
    const now = this.now();
    if (now - this.skips.reportedAt < SKIP_REPORT_MS) return;
    const n = this.skips.count;
    this.skips = { count: 0, reportedAt: now };
    const what = n === 1 ? 'A stream message' : `${n} stream messages (since the last report)`;
    const err = new Error(
      `${what} could not be read and ${n === 1 ? 'was' : 'were'} skipped; the last, for ${vinOfTopic(topic) || 'an unknown car'}, because ${clip(reason)}`,
    );
    for (const s of [...this.subs]) report(s, err);
  }
}
