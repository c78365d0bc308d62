'use strict';
// Live data pipeline: stream messages through normalise -> de-duplicate -> state -> charging events and trips
// (LiveData). Prints the throughput in readings per second on BMW-shaped messages (the charging and trip scripts back
// to back for a few cars whose state already holds the streamable descriptors, every tenth message sent twice; the
// host's clock follows the messages, so charges and trips finish), and the added
// latency of one reading (one-reading messages, each call timed): median and p99 in microseconds; what a
// host adds when it takes a copy of the car's whole state on a change; and the live feed with saving on for a
// fleet of cars (FEED_CARS, default 100) through a simulated hour: its throughput, and the saves (disk writes) per
// hour, batched, against a save per change.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { LiveData, DESCRIPTORS, createLiveFeed, parseTariff, compileFilter, filterStreamMessage, normalizeStreamMessage } = require('../dist/src/core');

const EVERYTHING = compileFilter({});
/** A message as the stream connection hands it on: read once, readings included. */
const streamed = (m) => filterStreamMessage(m, m.topic, normalizeStreamMessage(m, m.topic), EVERYTHING);
const { writePrivateText } = require('../dist/src/node/private-file');
const { CHARGING_SCRIPTS, chargingScriptItems } = require('../dist/src/simulator/charging-scripts');
const { TRIP_SCRIPTS } = require('../dist/src/simulator/trip-scripts');

/** Every car's charges are priced (a time-of-use tariff, the dearest case) and counted in its ledger. */
const TARIFF = parseTariff({
  currency: 'EUR',
  pricePerKwh: 0.35,
  perSession: 0.5,
  timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.22 }],
  timeZone: 'Europe/Berlin',
});
const ROUNDS = Number(process.env.BENCH_ROUNDS || 400);
const VINS = ['WBY31AW090FP15732', 'WBA5P710X0FK48219', 'WBA21EN0X0CK77104'];
const DAY = 86_400_000;

/** A plausible value for a descriptor of the catalogue, for the cars' first, full message. */
function sample(d, i) {
  if (d.datatype === 'boolean') return i % 2 === 0;
  if (/int|float|double/.test(d.datatype) || d.unit) return (i * 7) % 100;
  return 'UNKNOWN';
}

function fullState(vin, at) {
  const data = {};
  DESCRIPTORS.filter((d) => d.streamable).forEach((d, i) => {
    data[d.id] = { value: sample(d, i), unit: null, timestamp: at };
  });
  return { vin, topic: vin, timestamp: at, data };
}

function buildStream() {
  const messages = [];
  VINS.forEach((vin) => messages.push(fullState(vin, new Date(Date.UTC(2026, 10, 1)).toISOString())));
  const scripts = [...Object.values(CHARGING_SCRIPTS), ...Object.values(TRIP_SCRIPTS)];
  let n = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const vin of VINS) {
      const script = scripts[(round + vin.length) % scripts.length];
      const start = Date.UTC(2026, 10, 2) + round * DAY;
      for (const item of chargingScriptItems(script, { vin, start })) {
        if (!('message' in item)) continue;
        messages.push(item.message);
        if (++n % 10 === 0) messages.push(item.message);
      }
    }
  }
  return messages;
}

function readingsOf(messages) {
  return messages.reduce((sum, m) => sum + Object.keys(m.data).length, 0);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** The host's clock at each message: the latest message time so far (a host receives them as they are sent). */
function clockOf(messages) {
  let clock = 0;
  return messages.map((m) => (clock = Math.max(clock, Date.parse(m.timestamp) || 0)));
}

function throughput(messages, clocks) {
  let clock = 0;
  const live = new LiveData({ now: () => clock, tariff: TARIFF });
  let events = 0;
  let trips = 0;
  let ledger = 0;
  const t = process.hrtime.bigint();
  for (let i = 0; i < messages.length; i += 1) {
    clock = clocks[i];
    const u = live.ingest(messages[i], messages[i].topic);
    events += u.events.length;
    trips += u.trips?.length ?? 0;
    ledger += u.ledger?.length ?? 0;
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { seconds, events, trips, ledger };
}

/** The same stream, one reading per message, each call timed. */
function latency(messages) {
  const single = [];
  for (const m of messages) {
    for (const [k, v] of Object.entries(m.data)) single.push({ vin: m.vin, topic: m.topic, timestamp: m.timestamp, data: { [k]: v } });
  }
  const clocks = clockOf(single);
  let clock = 0;
  const live = new LiveData({ now: () => clock, tariff: TARIFF });
  const samples = new Float64Array(single.length);
  for (let i = 0; i < single.length; i += 1) {
    clock = clocks[i];
    const t = process.hrtime.bigint();
    live.ingest(single[i], single[i].topic);
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  // Skip the cars' first, full messages: they are setup, not the steady stream.
  const setup = readingsOf(messages.slice(0, VINS.length));
  const steady = Array.from(samples.subarray(setup)).sort((a, b) => a - b);
  return { count: steady.length, median: percentile(steady, 50), p99: percentile(steady, 99), live };
}

/** What a host pays to take the whole state of a car on a change: live.vehicle(vin). */
function snapshotCost(live) {
  const samples = [];
  for (let i = 0; i < 20000; i += 1) {
    const t = process.hrtime.bigint();
    live.vehicle(VINS[i % VINS.length]);
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { median: percentile(samples, 50), p99: percentile(samples, 99) };
}

const FEED_CARS = Number(process.env.FEED_CARS || 100);
const HOUR = 3_600_000;
/** A reading every this often per car: 5 values that change (range, speed, consumption, ...), a busy car. */
const EVERY_MS = 10_000;
const PLAIN = DESCRIPTORS.filter((d) => d.streamable && /float|int|double/.test(d.datatype) && !/charg|battery/i.test(d.id)).slice(0, 5);

function fleetVin(i) {
  return `WBA00000000${String(100000 + i).slice(-6)}`;
}

/**
 * One hour of a fleet: every car starts with its whole state (244 keys), sends 5 changing values every 10 s and
 * charges once (a charging script squeezed into its hour, at a start of its own), all in time order.
 */
function buildHour() {
  const t0 = Date.UTC(2026, 10, 2);
  const setup = [];
  const timed = [];
  const scripts = Object.values(CHARGING_SCRIPTS);
  for (let c = 0; c < FEED_CARS; c += 1) {
    const vin = fleetVin(c);
    setup.push(fullState(vin, new Date(t0 - DAY).toISOString()));
    const offset = (c * 7919) % EVERY_MS;
    for (let t = offset, n = 0; t < HOUR; t += EVERY_MS, n += 1) {
      const at = new Date(t0 + t).toISOString();
      const data = {};
      PLAIN.forEach((d, i) => {
        data[d.id] = { value: String((n * (i + 3) + c) % 500), unit: d.unit || null, timestamp: at };
      });
      timed.push({ at: t0 + t, message: { vin, topic: vin, timestamp: at, data } });
    }
    const script = scripts[c % scripts.length];
    const items = [...chargingScriptItems(script, { vin, start: 0 })].filter((i) => 'message' in i);
    const span = Math.max(1, Date.parse(items.at(-1).message.timestamp) - Date.parse(items[0].message.timestamp));
    const start = ((c * 104729) % (HOUR / 2)) + 1;
    for (const item of items) {
      const at = t0 + start + Math.round(((Date.parse(item.message.timestamp) - Date.parse(items[0].message.timestamp)) * (HOUR / 3)) / span);
      timed.push({ at, message: retime(item.message, at) });
    }
  }
  timed.sort((a, b) => a.at - b.at);
  return { t0, setup, timed };
}

/** A script message moved to `at` (each reading keeps its distance to the message's time). */
function retime(m, at) {
  const shift = at - Date.parse(m.timestamp);
  const move = (ts) => (ts ? new Date(Date.parse(ts) + shift).toISOString() : ts);
  const data = {};
  for (const [k, v] of Object.entries(m.data)) data[k] = v && typeof v === 'object' ? { ...v, timestamp: move(v.timestamp) } : v;
  return { ...m, timestamp: move(m.timestamp), data };
}

/** A clock and timers that move only with the stream's time, so an hour runs as fast as the feed goes. */
function streamClock(start) {
  let now = start;
  let seq = 0;
  const pending = new Map();
  return {
    now: () => now,
    timers: {
      setTimeout: (fn, ms) => (pending.set(++seq, { at: now + ms, fn }), seq),
      clearTimeout: (id) => pending.delete(id),
    },
    to(t) {
      for (;;) {
        let next;
        for (const entry of pending) if (entry[1].at <= t && (!next || entry[1].at < next[1].at)) next = entry;
        if (!next) break;
        pending.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = Math.max(now, t);
    },
  };
}

/**
 * The hour through the feed; `write` is what a save does with the text, or with `perCar` what it does with each
 * changed car's text (as the hosts keep them: a file or a record per car).
 */
async function feedHour(hour, { saveAfterMs, write, perCar = false }) {
  const clock = streamClock(hour.t0 - DAY);
  const counts = { saves: 0, bytes: 0, events: 0, eventSaves: 0 };
  let eventPending = false;
  const feed = createLiveFeed({
    timers: clock.timers,
    now: clock.now,
    tariff: TARIFF,
    saveAfterMs,
    [perCar ? 'saveCars' : 'save']: async (saved) => {
      counts.saves += 1;
      if (eventPending) counts.eventSaves += 1;
      if (!perCar) {
        counts.bytes += saved.length;
        return write(saved);
      }
      const cars = Object.entries(saved);
      for (const [, text] of cars) counts.bytes += text.length;
      counts.files = (counts.files ?? 0) + cars.length;
      await Promise.all(cars.map(([vin, text]) => write(text, vin)));
    },
    onChargingEvent: () => (counts.events += 1),
  });
  for (const m of hour.setup) await feed.push(streamed(m));
  await feed.flush();
  Object.assign(counts, { saves: 0, bytes: 0 });
  const t = process.hrtime.bigint();
  for (const { at, message } of hour.timed) {
    clock.to(at);
    eventPending = true; // counted as an event save when the message's events force it (cleared below otherwise)
    const before = counts.saves;
    const events = counts.events;
    await feed.push(streamed(message));
    if (counts.events === events && counts.saves > before) counts.eventSaves -= counts.saves - before;
    eventPending = false;
  }
  clock.to(hour.t0 + HOUR);
  await feed.close();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { seconds, ...counts };
}

/** The messages of the hour that change the state: a save each, when every change is saved. */
function changesOf(hour) {
  const live = new LiveData({ now: () => hour.t0 });
  for (const m of hour.setup) live.ingest(m, m.topic);
  return hour.timed.filter(({ message }) => live.ingest(message, message.topic)?.changed).length;
}

async function feedBench() {
  const hour = buildHour();
  const readings = readingsOf(hour.timed.map((x) => x.message));
  const memory = () => undefined;
  await feedHour(hour, { saveAfterMs: 30_000, write: memory, perCar: true }); // warm-up
  const runs = [];
  for (let i = 0; i < 3; i += 1) runs.push(await feedHour(hour, { saveAfterMs: 30_000, write: memory, perCar: true }));
  const batched = runs.sort((a, b) => a.seconds - b.seconds)[0];
  const whole = await feedHour(hour, { saveAfterMs: 30_000, write: memory });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-bench-'));
  const onDisk = await feedHour(hour, { saveAfterMs: 30_000, perCar: true, write: (text, vin) => writePrivateText(path.join(dir, `${vin}.json`), text) });
  fs.rmSync(dir, { recursive: true, force: true });
  // A save per change, as before: every message that changed the state (the first 2,000 timed: it is slow).
  const part = { ...hour, timed: hour.timed.slice(0, 2000) };
  const perChange = await feedHour(part, { saveAfterMs: 0, write: memory });
  const partReadings = readingsOf(part.timed.map((x) => x.message));
  const rate = (n, r) => Math.round(n / r.seconds).toLocaleString('en');
  const mb = (b) => Math.round(b / 1e6).toLocaleString('en');
  console.log(
    `live feed, saving on: ${FEED_CARS} cars, one simulated hour: ${hour.timed.length} messages, ${readings} readings, ${batched.events} charging events (each car: 5 values every ${EVERY_MS / 1000} s, one charge); state ${Math.round(whole.bytes / Math.max(1, whole.saves) / 1000)} kB`,
  );
  console.log(
    `  throughput   ${rate(readings, batched)} readings/s saving the changed cars (as the hosts do, best of 3); ${rate(readings, onDisk)} readings/s writing a file per changed car; ${rate(readings, whole)} readings/s saving the whole state as one text`,
  );
  console.log(
    `  disk writes  ${batched.saves} saves per hour (${batched.saves - batched.eventSaves} batches of readings, ${batched.eventSaves} for messages with events): ${batched.files} car files, ${mb(batched.bytes)} MB (the whole state each time: ${mb(whole.bytes)} MB)`,
  );
  console.log(
    `  before       a save per change: ${changesOf(hour)} writes per hour; ${rate(partReadings, perChange)} readings/s (first ${part.timed.length} messages)`,
  );
}

async function main() {
  const messages = buildStream();
  const readings = readingsOf(messages);
  const clocks = clockOf(messages);
  throughput(messages, clocks); // warm-up
  const runs = [throughput(messages, clocks), throughput(messages, clocks), throughput(messages, clocks)].sort((a, b) => a.seconds - b.seconds);
  const best = runs[0];
  latency(messages); // warm-up
  const lat = latency(messages);
  const snap = snapshotCost(lat.live);
  console.log(
    `events: ${messages.length} messages, ${readings} readings, ${VINS.length} cars (${DESCRIPTORS.filter((d) => d.streamable).length} descriptors held each), ${best.events} charging events, ${best.trips} trip events and ${best.ledger} ledger events (summaries and months closed; charges priced by a time-of-use tariff) per pass`,
  );
  console.log(
    `  throughput   ${Math.round(readings / best.seconds).toLocaleString('en')} readings/s (${Math.round(messages.length / best.seconds).toLocaleString('en')} messages/s), best of 3`,
  );
  console.log(`  per reading  median ${lat.median.toFixed(2)} µs, p99 ${lat.p99.toFixed(2)} µs (${lat.count} one-reading messages, each timed)`);
  console.log(
    `  state copy   median ${snap.median.toFixed(2)} µs, p99 ${snap.p99.toFixed(2)} µs (live.vehicle(vin) of a car holding ${Object.keys(lat.live.vehicle(VINS[0]).values).length} descriptors)`,
  );
  await feedBench();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
