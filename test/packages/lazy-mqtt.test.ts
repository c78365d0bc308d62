// How the built code loads mqtt (compiled to CommonJS, as the packages ship it): only with the first stream
// connection, and again after a failed load. Needs the build (npm run build).
import assert from 'assert';
import * as path from 'path';
import { execFileSync } from 'child_process';

const DIST = path.join(__dirname, '../../dist');

describe('the built code loads mqtt when a stream connects', function () {
  it('mqtt is loaded with the first stream connection, never by the REST client, core or the other commands', () => {
    const script = `
      const loaded = () => Object.keys(require.cache).some((f) => /node_modules.mqtt./.test(f));
      const seen = [];
      for (const m of ['src/core', 'src/node', 'src/cli/main.js', 'src/node-red/bmw-cardata-account.js', 'src/node-red/bmw-cardata-stream.js', 'nodes/BmwCarDataStreamTrigger/BmwCarDataStreamTrigger.node.js']) {
        require(${JSON.stringify(DIST)} + '/' + m);
        seen.push(loaded());
      }
      const events = { connect() {}, message() {}, error() {}, close: () => console.log(JSON.stringify([...seen, loaded()])) };
      require(${JSON.stringify(DIST)} + '/src/node').mqttConnect('mqtt://127.0.0.1:9', { clientId: 'c', username: 'u', password: 'p', keepaliveSec: 30, connectTimeoutMs: 1000, rejectUnauthorized: true }, events);`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.deepStrictEqual(JSON.parse(out), [false, false, false, false, false, false, true]);
  });

  it('mqtt that could not be loaded is loaded again at the next attempt', () => {
    const script = `
      const Module = require('module');
      const load = Module._load;
      let refuse = true;
      Module._load = function (request, ...rest) {
        if (request === 'mqtt' && refuse) {
          refuse = false;
          throw new Error('mqtt not loadable');
        }
        return load.call(this, request, ...rest);
      };
      const { mqttConnect } = require(${JSON.stringify(DIST)} + '/src/node');
      const login = { clientId: 'c', username: 'u', password: 'p', keepaliveSec: 30, connectTimeoutMs: 1000, rejectUnauthorized: true };
      const attempt = () => new Promise((resolve) => {
        const errors = [];
        mqttConnect('mqtt://127.0.0.1:9', login, { connect() {}, message() {}, error: (e) => errors.push(e.message), close: () => resolve(errors) });
      });
      attempt().then(async (first) => console.log(JSON.stringify([first, await attempt()])));`;
    const [first, second] = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 }));
    assert.deepStrictEqual(first, ['mqtt not loadable']);
    assert.ok(second.length > 0 && second.every((m) => !/not loadable/.test(m)), JSON.stringify(second));
  });
});
