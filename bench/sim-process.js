'use strict';
// Starts the simulator in a child process (so its memory does not count against the client being measured)
// and logs in through the device flow with auto-approve.
const { spawn } = require('child_process');
const path = require('path');
const core = require('../dist/src/node');

async function startSimulatorProcess(args) {
  const child = spawn(process.execPath, [path.join(__dirname, '../dist/src/simulator/cli.js'), '--port', '0', '--auto-approve', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const apiBaseUrl = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/(http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${out}`)));
  });
  const endpoint = { transport: new core.AxiosTransport(), sleep: core.nodeSleep, clientId: 'bench-client', authBaseUrl: `${apiBaseUrl}/gcdm` };
  const auth = await core.startDeviceAuthorization(endpoint);
  const tokens = await core.waitForDeviceAuthorization(endpoint, auth, { sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) });
  return { child, apiBaseUrl, authBaseUrl: endpoint.authBaseUrl, tokens, stop: () => child.kill('SIGTERM') };
}

module.exports = { startSimulatorProcess };
