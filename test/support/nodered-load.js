'use strict';
// Starts Node-RED (the node-red in node_modules, or the one at NODE_RED_PATH) on a user directory, asks its admin
// API which node sets it loaded, and fails unless every node type of node-red-contrib-bmw-cardata is there, enabled
// and without error, and the editor's shared script is served from the package's resources/.
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');
const { freePort } = require('./free-port');

const userDir = path.resolve(process.argv[2]);
const MODULE = 'node-red-contrib-bmw-cardata';
const expected = Object.keys(JSON.parse(fs.readFileSync(path.join(userDir, 'node_modules', MODULE, 'package.json'), 'utf8'))['node-red'].nodes);

function getJson(port, route) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: route, headers: { Accept: 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${route}: ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

(async () => {
  const port = await freePort();
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, credentialSecret: false, flowFile: 'flows.json', logging: { console: { level: 'warn' } }, telemetry: { enabled: false } };\n`,
  );
  const redJs = process.env.NODE_RED_PATH ? path.join(process.env.NODE_RED_PATH, 'red.js') : require.resolve('node-red/red.js');
  const red = spawn(process.execPath, [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    let nodes;
    for (let i = 0; i < 120 && !nodes; i += 1) {
      await new Promise((r) => setTimeout(r, 500));
      nodes = await getJson(port, '/nodes').catch(() => undefined);
    }
    if (!nodes) throw new Error('Node-RED did not answer');
    const version = (await getJson(port, '/settings')).version;
    const sets = nodes.filter((s) => s.id.startsWith(`${MODULE}/`));
    const problems = expected.filter((name) => {
      const set = sets.find((s) => s.id === `${MODULE}/${name}`);
      return !set || set.enabled === false || set.err || !set.types?.length;
    });
    if (problems.length)
      throw new Error(`not loaded: ${problems.map((n) => `${n} (${sets.find((s) => s.id === `${MODULE}/${n}`)?.err ?? 'missing'})`).join(', ')}`);
    const script = await new Promise((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: `/resources/${MODULE}/bmw-cardata-editor.js` }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
        .on('error', reject),
    );
    if (script !== 200) throw new Error(`resources/${MODULE}/bmw-cardata-editor.js: ${script}`);
    console.log(`Node-RED ${version} on Node ${process.version}: ${MODULE} loaded ${sets.length} node sets (${sets.flatMap((s) => s.types).join(', ')})`);
  } finally {
    red.kill();
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
