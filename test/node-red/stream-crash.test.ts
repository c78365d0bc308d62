// A real Node-RED process with the stream node on the simulator's broker, fed the messages that once ended the whole
// process (a timestamp beyond JavaScript's dates) and generated hostile batches: it keeps running, its flows go on,
// and the good message sent after them reaches the flow.
import assert from 'assert';
import fc from 'fast-check';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { startNodeRed } from '../support/nodered-runtime';
import { authorizedCredentials } from '../support/nodered';
import { until } from '../support/wait';
import { SOC, CHARGING_STATUS as STATUS } from '../../src/simulator/descriptor-names';

describe('Node-RED process: no stream message ends it', function () {
  this.timeout(120_000);
  let sim;
  let red;

  after(async () => {
    if (red) await red.stop();
    if (sim) await sim.close();
  });

  it('out-of-range timestamps and generated hostile batches: Node-RED keeps running and relays the next good message', async () => {
    sim = await startSimulator({ stream: true });
    const vin = SIM_VINS.bev;
    red = await startNodeRed({
      flows: [
        { id: 'tab', type: 'tab', label: 'stream' },
        {
          id: 'acc',
          type: 'bmw-cardata-account',
          name: 'sim',
          apiBaseUrl: sim.apiBaseUrl,
          authBaseUrl: sim.authBaseUrl,
          streamUrl: sim.streamUrl,
          dailyQuota: 50,
        },
        {
          id: 'ev',
          z: 'tab',
          type: 'bmw-cardata-stream',
          account: 'acc',
          vin: '',
          descriptors: [],
          output: 'event',
          streamUrl: sim.streamUrl,
          wires: [['dbg']],
        },
        {
          id: 'st',
          z: 'tab',
          type: 'bmw-cardata-stream',
          account: 'acc',
          vin: '',
          descriptors: [],
          output: 'state',
          streamUrl: sim.streamUrl,
          wires: [['dbg']],
        },
        {
          id: 'ch',
          z: 'tab',
          type: 'bmw-cardata-stream',
          account: 'acc',
          vin: '',
          descriptors: [],
          output: 'charging',
          streamUrl: sim.streamUrl,
          wires: [['dbg']],
        },
        { id: 'dbg', z: 'tab', type: 'debug', active: true, tosidebar: false, console: true, complete: 'payload', wires: [] },
      ],
      credentials: { acc: authorizedCredentials(sim) },
    });
    await until(() => sim.stream.connections() >= 1, 20_000, 'the stream connection');
    await new Promise((r) => setTimeout(r, 500));

    const hostile = [
      { vin, timestamp: 1e20, data: { [SOC]: { value: 50, timestamp: 1e20 } } },
      { vin, timestamp: 9e15, data: { [SOC]: { value: 51, timestamp: 9e15 }, [STATUS]: { value: 'CHARGINGACTIVE', timestamp: -1e20 } } },
      { vin: '__proto__', data: { __proto__: { value: 1 }, constructor: { value: 2 } } },
      { vin, data: { [SOC]: { value: { deep: [[[[[[{}]]]]]] }, timestamp: '2027-01-01T00:00:00Z' } } },
    ].map((m) => JSON.stringify(m));
    const generated = fc.sample(
      fc.record({
        vin: fc.oneof(fc.constant(vin), fc.string()),
        timestamp: fc.oneof(fc.double(), fc.string(), fc.constantFrom(1e20, 9e15, -9e15)),
        data: fc.dictionary(
          fc.oneof(fc.constantFrom(SOC, STATUS, '__proto__'), fc.string()),
          fc.record({ value: fc.jsonValue({ maxDepth: 3 }), timestamp: fc.oneof(fc.double(), fc.string(), fc.constant(1e20)) }, { requiredKeys: [] }),
        ),
      }),
      { numRuns: 60, seed: 42 },
    );
    const payloads = [...hostile, ...generated.map((m) => JSON.stringify(m)), '{not json', JSON.stringify({ vin, data: { [SOC]: 1 } }).slice(0, 20)];
    for (const p of payloads) await sim.stream.publishRaw(vin, p);
    await sim.stream.publish(vin, { [SOC]: 87.5 });

    await until(() => /87\.5/.test(red.log()), 20_000, `the good message in the flow (log: ${red.log().slice(-2000)})`);
    assert.doesNotMatch(red.log(), /RangeError|Invalid time value|Uncaught|Error: Stopping/);
    // Still running, and still answering.
    const res = await fetch(`${red.url}/flows`);
    assert.strictEqual(res.status, 200);
  });
});
