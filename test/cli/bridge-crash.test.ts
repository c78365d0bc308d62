// The bridge as a real process, fed the messages that once ended it (a timestamp beyond JavaScript's dates) and
// generated hostile batches: it keeps running and relays the good message sent after them to the user's broker
// (the simulator's embedded broker here, so this needs nothing beyond Node.js).
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { startPlainBroker } from '../../src/simulator/plain-broker';
import { writeAccount, spawnBridge, watch, until, CONNECTED } from '../support/bridge';
import { SOC, CHARGING_STATUS as STATUS } from '../../src/simulator/descriptor-names';

describe('bridge process: no stream message ends it', function () {
  this.timeout(120_000);
  let sim;
  let broker;
  let bridge;
  let watcher;

  after(async () => {
    if (bridge && bridge.proc.exitCode === null) await bridge.stop();
    if (watcher) await watcher.close();
    if (broker) await broker.close();
    if (sim) await sim.close();
  });

  it('out-of-range timestamps and generated hostile batches: the bridge keeps running and relays the next good message', async () => {
    sim = await startSimulator({ stream: true });
    broker = await startPlainBroker();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-bridge-fuzz-'));
    const acc = writeAccount(sim, dir);
    bridge = spawnBridge([...acc.args, '--broker', broker.url]);
    await bridge.waitFor(CONNECTED, 20_000);
    watcher = await watch(broker.url, 'bmw-cardata/#');
    const vin = SIM_VINS.bev;
    const hostile = [
      { vin, timestamp: 1e20, data: { [SOC]: { value: 50, timestamp: 1e20 } } },
      { vin, timestamp: 9e15, data: { [SOC]: { value: 51, timestamp: 9e15 }, [STATUS]: { value: 'CHARGINGACTIVE', timestamp: -1e20 } } },
      { vin: '__proto__', data: { __proto__: { value: 1 } } },
      { vin: 'WBA#0000000000001', data: { [SOC]: { value: 1 } } },
      { vin, data: { [SOC]: { value: 'x'.repeat(100_000), timestamp: '2027-01-01T00:00:00Z' } } },
    ].map((m) => JSON.stringify(m));
    const generated = fc.sample(
      fc.record({
        vin: fc.oneof(fc.constant(vin), fc.string()),
        timestamp: fc.oneof(fc.double(), fc.string(), fc.constantFrom(1e20, 9e15)),
        data: fc.dictionary(
          fc.oneof(fc.constantFrom(SOC, STATUS, '__proto__'), fc.string()),
          fc.record({ value: fc.jsonValue({ maxDepth: 3 }), timestamp: fc.oneof(fc.double(), fc.string(), fc.constant(1e20)) }, { requiredKeys: [] }),
        ),
      }),
      { numRuns: 60, seed: 7 },
    );
    for (const p of [...hostile, ...generated.map((m) => JSON.stringify(m)), '{"vin":', '']) await sim.stream.publishRaw(vin, p);
    // A reading stamped ahead of the clock is taken as received when the bridge reads it: the good one is sent once
    // the bad ones are read, so that it is the newer.
    await new Promise((r) => setTimeout(r, 1500));
    await sim.stream.publish(vin, { [SOC]: 88.5 });
    await until(
      () => watcher.messages.some((m) => m.topic === `bmw-cardata/${vin}/${SOC}` && m.payload === '88.5'),
      20_000,
      () => `the good value at the broker (${watcher.messages.map((m) => `${m.topic}=${m.payload.slice(0, 30)}`).join(', ')})`,
    );
    assert.strictEqual(bridge.proc.exitCode, null, 'still running');
    assert.doesNotMatch(bridge.stderr, /RangeError|Invalid time value/);
    assert.ok(!watcher.messages.some((m) => m.topic.includes('#') || m.topic.includes('__proto__')), 'no topic from a name that is not a VIN');
    const { code } = await bridge.stop();
    assert.strictEqual(code, 0);
  });
});
