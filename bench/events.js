'use strict';
// Live data pipeline: stream messages through normalise -> de-duplicate -> state -> charging events (LiveData).
// Prints the throughput in readings per second on BMW-shaped messages (the charging scripts back to back for a
// few cars whose state already holds the streamable descriptors, every tenth message sent twice), and the added
// latency of one reading (one-reading messages, each call timed): median and p99 in microseconds; and what a
// host adds when it takes a copy of the car's whole state on a change.
const { LiveData, DESCRIPTORS } = require('../dist/src/core');
const { CHARGING_SCRIPTS, chargingScriptItems } = require('../dist/src/simulator/charging-scripts');

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
  const scripts = Object.values(CHARGING_SCRIPTS);
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

function throughput(messages) {
  const live = new LiveData({ now: () => 0 });
  let events = 0;
  const t = process.hrtime.bigint();
  for (const m of messages) events += live.ingest(m, m.topic).events.length;
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { seconds, events };
}

/** The same stream, one reading per message, each call timed. */
function latency(messages) {
  const single = [];
  for (const m of messages) {
    for (const [k, v] of Object.entries(m.data)) single.push({ vin: m.vin, topic: m.topic, timestamp: m.timestamp, data: { [k]: v } });
  }
  const live = new LiveData({ now: () => 0 });
  const samples = new Float64Array(single.length);
  for (let i = 0; i < single.length; i += 1) {
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

function main() {
  const messages = buildStream();
  const readings = readingsOf(messages);
  throughput(messages); // warm-up
  const runs = [throughput(messages), throughput(messages), throughput(messages)].sort((a, b) => a.seconds - b.seconds);
  const best = runs[0];
  latency(messages); // warm-up
  const lat = latency(messages);
  const snap = snapshotCost(lat.live);
  console.log(`events: ${messages.length} messages, ${readings} readings, ${VINS.length} cars (${DESCRIPTORS.filter((d) => d.streamable).length} descriptors held each), ${best.events} charging events per pass`);
  console.log(`  throughput   ${Math.round(readings / best.seconds).toLocaleString('en')} readings/s (${Math.round(messages.length / best.seconds).toLocaleString('en')} messages/s), best of 3`);
  console.log(`  per reading  median ${lat.median.toFixed(2)} µs, p99 ${lat.p99.toFixed(2)} µs (${lat.count} one-reading messages, each timed)`);
  console.log(`  state copy   median ${snap.median.toFixed(2)} µs, p99 ${snap.p99.toFixed(2)} µs (live.vehicle(vin) of a car holding ${Object.keys(lat.live.vehicle(VINS[0]).values).length} descriptors)`);
}

main();
