'use strict';
// End to end in a real n8n: installs the packed n8n packages into n8n's nodes folder as n8n installs community
// packages, imports a credential pointed at the simulator (with an expired access token) and a workflow using the
// node (charging sessions in a date range, which needs luxon, from n8n), runs it with `n8n execute`, checks the
// output, and checks that n8n stored the refresh token BMW rotated. Called by n8n-e2e.sh with N8N_BIN and
// NODE24_BIN set; needs the tarballs of `npm run packages`.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { startSimulator, SIM_VINS } = require('../../dist/src/simulator');
const { installPackages, describeInstall, traceModules, checkModuleTrace, TYPES } = require('../support/n8n-packages');

const N8N = process.env.N8N_BIN;
const NODE24 = process.env.NODE24_BIN;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-e2e-'));
// N8N_BIN is <n8n install>/node_modules/n8n/bin/n8n.
const N8N_DIR = path.join(path.dirname(N8N), '..', '..', '..');
const TRACE = path.join(work, 'modules.trace');
const env = {
  ...process.env,
  PATH: `${path.dirname(NODE24)}:${process.env.PATH}`,
  N8N_USER_FOLDER: path.join(work, 'user'),
  N8N_ENCRYPTION_KEY: 'e2e-only-key',
  N8N_DIAGNOSTICS_ENABLED: 'false',
  N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
  N8N_LOG_LEVEL: 'info',
  N8N_RUNNERS_BROKER_PORT: String(15700 + Math.floor(Math.random() * 200)),
  ...traceModules(TRACE),
};

// Asynchronous on purpose: the simulator answers from this process while n8n runs.
function n8n(args) {
  return new Promise((resolve, reject) => {
    execFile(NODE24, [N8N, ...args], { env, cwd: work, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 180000 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve(stdout);
    });
  });
}

/** The run's JSON in n8n's output: log lines may come before and after it. */
function runData(output) {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.startsWith('{'));
  assert.ok(start >= 0, `no JSON in n8n output:\n${output.slice(0, 2000)}`);
  for (let end = start; end < lines.length; end += 1) {
    if (!lines[end].trimEnd().endsWith('}')) continue;
    try {
      return JSON.parse(lines.slice(start, end + 1).join('\n')).data.resultData.runData;
    } catch {
      // Not the end of the object yet.
    }
  }
  throw new Error(`no complete JSON in n8n output:\n${output.slice(0, 2000)}`);
}

async function main() {
  const install = await installPackages(env.N8N_USER_FOLDER, N8N_DIR);
  console.log(describeInstall(install));
  const sim = await startSimulator({ port: 0, chargingPageSize: 10 });
  try {
    const t = sim.issueTokens({ clientId: 'e2e-client-id' });
    sim.expireAccessTokens();
    const credential = {
      id: 'bmwE2eCredential01',
      name: 'BMW CarData (simulator)',
      type: 'bmwCarDataApi',
      data: {
        clientId: 'e2e-client-id',
        apiBaseUrl: sim.apiBaseUrl,
        authBaseUrl: sim.authBaseUrl,
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        gcid: t.gcid,
      },
    };
    const creds = { bmwCarDataApi: { id: credential.id, name: credential.name } };
    const vin = { __rl: true, mode: 'vin', value: SIM_VINS.bev };
    const workflow = {
      id: 'bmwE2eWorkflow0001',
      name: 'BMW CarData end to end',
      active: false,
      settings: { executionOrder: 'v1' },
      nodes: [
        { id: 'a1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
        {
          id: 'a2',
          name: 'Charging sessions',
          type: TYPES.bmwCarData,
          typeVersion: 1,
          position: [200, 0],
          credentials: creds,
          parameters: {
            resource: 'chargingHistory',
            operation: 'getAll',
            vin,
            range: 'custom',
            from: '2000-01-01T00:00:00Z',
            to: new Date(Date.now() + 86_400_000).toISOString(),
            returnAll: false,
            limit: 15,
          },
        },
        {
          id: 'a3',
          name: 'Vehicle image',
          type: TYPES.bmwCarData,
          typeVersion: 1,
          position: [400, 0],
          executeOnce: true,
          credentials: creds,
          parameters: { resource: 'image', operation: 'get', vin, binaryPropertyName: 'data' },
        },
      ],
      connections: {
        Start: { main: [[{ node: 'Charging sessions', type: 'main', index: 0 }]] },
        'Charging sessions': { main: [[{ node: 'Vehicle image', type: 'main', index: 0 }]] },
      },
    };
    fs.writeFileSync(path.join(work, 'creds.json'), JSON.stringify([credential]));
    fs.writeFileSync(path.join(work, 'wf.json'), JSON.stringify(workflow));
    await n8n(['import:credentials', `--input=${path.join(work, 'creds.json')}`]);
    await n8n(['import:workflow', `--input=${path.join(work, 'wf.json')}`]);

    const first = runData(await n8n(['execute', `--id=${workflow.id}`, '--rawOutput']));
    const sessions = first['Charging sessions'][0].data.main[0];
    assert.strictEqual(sessions.length, 15);
    assert.ok(sessions[0].json.start && 'energyFromGridKwh' in sessions[0].json, 'flat session rows');
    const image = first['Vehicle image'][0].data.main[0];
    assert.strictEqual(image.length, 1);
    assert.strictEqual(image[0].binary.data.mimeType, 'image/png');
    assert.strictEqual(image[0].binary.data.fileName, `${SIM_VINS.bev}.png`);
    assert.strictEqual(image[0].json._quota.used, 3);
    const refreshes = sim.requests.filter((r) => r.grantType === 'refresh_token');
    assert.strictEqual(refreshes.length, 1, 'one refresh after the 401');
    for (const line of checkModuleTrace(TRACE, install, path.resolve(N8N_DIR))) console.log(line);
    console.log(
      `n8n run 1: ${sessions.length} sessions, image ${image[0].json.bytes} bytes, REST ${sim
        .restCalls()
        .map((c) => c.status)
        .join(',')}`,
    );

    const exported = path.join(work, 'creds-out.json');
    await n8n(['export:credentials', '--all', '--decrypted', `--output=${exported}`]);
    const stored = JSON.parse(fs.readFileSync(exported, 'utf8')).find((c) => c.id === credential.id).data;
    assert.notStrictEqual(stored.refreshToken, t.refresh_token, 'n8n stored the rotated refresh token');
    assert.notStrictEqual(stored.accessToken, t.access_token);
    assert.strictEqual(stored.gcid, t.gcid);
    console.log('n8n stored the rotated refresh token');

    sim.clearLog();
    const second = runData(await n8n(['execute', `--id=${workflow.id}`, '--rawOutput']));
    assert.strictEqual(second['Charging sessions'][0].data.main[0].length, 15);
    assert.strictEqual(sim.requests.filter((r) => r.kind === 'auth').length, 0, 'second run reuses the stored access token');
    console.log(
      `n8n run 2: no login call, REST ${sim
        .restCalls()
        .map((c) => c.status)
        .join(',')}`,
    );
    console.log('n8n end to end: OK');
  } finally {
    await sim.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  if (e && e.stdout) console.error(String(e.stdout).slice(-3000));
  if (e && e.stderr) console.error(String(e.stderr).slice(-3000));
  process.exit(1);
});
