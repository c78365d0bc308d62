// The CarData stream's message format and its normalisation into one event per descriptor.
// BMW publishes `{vin, entityId, topic, timestamp, data: {<descriptor>: {timestamp, value, unit}}}` on
// `<gcid>/<VIN>`; one message can carry several descriptors, and values may be strings, numbers or booleans.

export type StreamValue = string | number | boolean | null;

/** One descriptor reading inside a stream message, as BMW sends it. */
export interface StreamDataPoint {
  value?: StreamValue;
  unit?: string | null;
  timestamp?: string | number | null;
}

/** A stream message as BMW publishes it (every field optional: nothing is guaranteed). */
export interface StreamRawMessage {
  vin?: string;
  entityId?: string;
  topic?: string;
  timestamp?: string | number;
  data?: Record<string, StreamDataPoint | null>;
  [key: string]: unknown;
}

/** One descriptor change: what flows and triggers emit. */
export interface StreamEvent {
  vin: string;
  descriptor: string;
  value: StreamValue;
  /** The value as a number when it is one (or a plain numeric string); absent otherwise. */
  numericValue?: number;
  unit: string | null;
  /** When the car measured the value (ISO 8601), else when BMW sent the message, else null. */
  timestamp: string | null;
  /** When BMW sent the message (ISO 8601), if it said so. */
  messageTimestamp: string | null;
  /** The MQTT topic the message arrived on (`<gcid>/<VIN>`). */
  topic: string;
}

/** A whole stream message after filtering: its events, plus the message as it arrived. */
export interface StreamMessage {
  vin: string;
  entityId: string | null;
  topic: string;
  timestamp: string | null;
  /** The descriptors of the message that pass the subscriber's filter, in BMW's shape. */
  data: Record<string, StreamDataPoint>;
  /** The same, one event per descriptor. */
  events: StreamEvent[];
  /**
   * Every reading of the message, unfiltered, as the connection read them once: what the live state takes, so
   * that no host parses a message twice.
   */
  readings: StreamEvent[];
  /** The message exactly as BMW sent it (unfiltered). */
  raw: StreamRawMessage;
}

/** Which messages a subscriber wants. Empty or missing lists mean "all". */
export interface StreamFilter {
  vins?: string[];
  /** Descriptor ids; an entry ending in `*` matches every descriptor starting with what precedes it. */
  descriptors?: string[];
}

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The largest distance from 1970 a JavaScript date can hold (ms). */
const MAX_DATE_MS = 8.64e15;

/**
 * Epoch seconds or milliseconds, or an ISO string, as an ISO string. Anything else is kept as text; a number
 * outside the dates JavaScript can hold is no timestamp (null).
 */
export function streamTimestamp(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const ms = Math.abs(value) < 1e12 ? value * 1000 : value;
    return Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : null;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const t = value.trim();
    if (/^\d{10,13}$/.test(t)) return streamTimestamp(Number(t));
    return t;
  }
  return null;
}

function scalar(value: unknown): StreamValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // Not seen from BMW; keep structured values readable rather than dropping them.
  return JSON.stringify(value);
}

/** A number for numeric values and plain numeric strings ("80", "48.16402"); undefined otherwise. */
export function numericValueOf(value: StreamValue): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMERIC.test(value.trim())) {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** The VIN part of a `<gcid>/<VIN>` topic. */
export function vinOfTopic(topic: string): string {
  const i = topic.lastIndexOf('/');
  return i >= 0 ? topic.slice(i + 1) : topic;
}

/** Parses a stream payload. Returns undefined when it is not a JSON object. */
export function parseStreamPayload(payload: Buffer | string): StreamRawMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as StreamRawMessage;
}

/** One event per descriptor of a BMW stream message (all descriptors, no filter). */
export function normalizeStreamMessage(raw: StreamRawMessage, topic = ''): StreamEvent[] {
  const vin = typeof raw.vin === 'string' && raw.vin ? raw.vin : vinOfTopic(topic);
  const messageTimestamp = streamTimestamp(raw.timestamp);
  const events: StreamEvent[] = [];
  const data = raw.data && typeof raw.data === 'object' ? raw.data : {};
  for (const [descriptor, point] of Object.entries(data)) {
    const p: StreamDataPoint = point && typeof point === 'object' ? point : { value: scalar(point) };
    const value = scalar(p.value);
    const event: StreamEvent = {
      vin,
      descriptor,
      value,
      unit: typeof p.unit === 'string' && p.unit !== '' ? p.unit : null,
      timestamp: streamTimestamp(p.timestamp) ?? messageTimestamp,
      messageTimestamp,
      topic,
    };
    const n = numericValueOf(value);
    if (n !== undefined) event.numericValue = n;
    events.push(event);
  }
  return events;
}

/** A compiled filter: quick membership tests for the dispatch loop. */
export interface CompiledFilter {
  allVins: boolean;
  vins: ReadonlySet<string>;
  matchesVin(vin: string): boolean;
  matchesDescriptor(descriptor: string): boolean;
}

export function compileFilter(filter: StreamFilter): CompiledFilter {
  const vins = new Set((filter.vins ?? []).map((v) => v.trim()).filter(Boolean));
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const d of filter.descriptors ?? []) {
    const t = d.trim();
    if (!t) continue;
    if (t.endsWith('*')) prefixes.push(t.slice(0, -1));
    else exact.add(t);
  }
  const allDescriptors = exact.size === 0 && prefixes.length === 0;
  return {
    allVins: vins.size === 0,
    vins,
    matchesVin: (vin) => vins.size === 0 || vins.has(vin),
    matchesDescriptor: (descriptor) => allDescriptors || exact.has(descriptor) || prefixes.some((p) => descriptor.startsWith(p)),
  };
}

/** The message as a subscriber with `filter` sees it, or undefined when nothing of it passes. */
export function filterStreamMessage(raw: StreamRawMessage, topic: string, events: StreamEvent[], filter: CompiledFilter): StreamMessage | undefined {
  const vin = events[0]?.vin ?? (typeof raw.vin === 'string' && raw.vin ? raw.vin : vinOfTopic(topic));
  if (!filter.matchesVin(vin)) return undefined;
  const kept = events.filter((e) => filter.matchesDescriptor(e.descriptor));
  if (kept.length === 0) return undefined;
  const data: Record<string, StreamDataPoint> = {};
  for (const e of kept) {
    const point = raw.data?.[e.descriptor];
    data[e.descriptor] = point && typeof point === 'object' ? point : { value: e.value };
  }
  return {
    vin,
    entityId: typeof raw.entityId === 'string' ? raw.entityId : null,
    topic,
    timestamp: streamTimestamp(raw.timestamp),
    data,
    events: kept,
    readings: events,
    raw,
  };
}

/**
 * Passes each reading once: BMW re-sends identical readings (same VIN, descriptor, value and timestamp). Only the
 * last reading of each VIN and descriptor is kept, for at most `maxKeys` pairs (the longest unchanged are
 * forgotten first), so memory stays bounded however long the stream runs.
 */
export class ReadingDeduplicator {
  private readonly last = new Map<string, string>();

  constructor(private readonly maxKeys = 10_000) {}

  /** False when `event` repeats the last reading of its VIN and descriptor. A reading without a timestamp always passes. */
  pass(event: StreamEvent): boolean {
    if (event.timestamp === null) return true;
    const key = `${event.vin}\n${event.descriptor}`;
    const reading = `${event.timestamp}\n${JSON.stringify(event.value)}`;
    if (this.last.get(key) === reading) return false;
    // Deleted first so that the map stays in order of the last change, oldest first.
    this.last.delete(key);
    this.last.set(key, reading);
    if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string);
    return true;
  }

  get size(): number {
    return this.last.size;
  }
}
