'use strict';
// A real Node-RED process (its own HTTP server, admin API and adminAuth) with the Node-RED package installed in a
// temporary user directory, for what the test helper cannot show: permissions, module loading, the editor files.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const bcrypt = require('bcryptjs');

// The Node-RED package as `npm run packages` assembles it from dist/ (assembled here, so it matches the build).
const { PACKAGES, assemble } = require('../../scripts/packages');
const { freePort } = require('./free-port');
const MODULE = 'node-red-contrib-bmw-cardata';

function redScript() {
  if (process.env.NODE_RED_PATH) return path.join(process.env.NODE_RED_PATH, 'red.js');
  return require.resolve('node-red/red.js');
}

/**
 * Starts Node-RED with `users` ({username, password, permissions}) under adminAuth, or with adminAuth off when
 * there are none, and the given flows, in the language `lang` (Node-RED's setting; English unless given, whatever the
 * machine's LANG). Resolves with { url, userDir, pid, stop(), restart(), log() } once the admin API
 * answers.
 */
async function startNodeRed({ users = [], flows = [], credentials, lang = 'en-US' }) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-nr-runtime-'));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(assemble(PACKAGES.find((p) => p.name === MODULE)).dir, path.join(userDir, 'node_modules', MODULE), 'dir');
  const port = await freePort();
  const settings = {
    uiPort: port,
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: 'runtime-test-secret',
    editorTheme: { tours: false },
    lang,
    logging: { console: { level: 'info' } },
  };
  if (users.length > 0) {
    settings.adminAuth = {
      type: 'credentials',
      users: users.map((u) => ({ username: u.username, password: bcrypt.hashSync(u.password, 8), permissions: u.permissions })),
    };
  }
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  // Credentials in the clear ({ nodeId: {...} }): Node-RED encrypts them with the credential secret on its first save.
  if (credentials) fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
  let output = '';
  let child;
  const url = `http://127.0.0.1:${port}`;
  // Starts the process on the user directory and waits until the admin API answers and the flows run.
  const launch = async () => {
    const since = output.length;
    child = spawn(process.execPath, [redScript(), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited: ${output}`);
      try {
        const res = await fetch(`${url}/auth/login`);
        // Node-RED logs in its language: English, or German (lang: 'de'). "Server now running" comes before the flows
        // run, so it is no sign that a node's admin route (an inject's) answers yet.
        if (res.ok && /Started flows|Flows sind gestartet/.test(output.slice(since))) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill();
        throw new Error(`Node-RED did not start: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const stop = (signal = 'SIGTERM') => {
    const c = child;
    return new Promise((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill(signal);
      setTimeout(() => c.kill('SIGKILL'), 5000).unref();
    });
  };
  await launch();
  return {
    url,
    userDir,
    log: () => output,
    async token(username, password, scope = '*') {
      const res = await fetch(`${url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }),
      });
      if (!res.ok) throw new Error(`login of ${username} failed: ${res.status}`);
      return (await res.json()).access_token;
    },
    /** The process id of the running Node-RED. */
    get pid() {
      return child.pid;
    },
    /** Stops Node-RED (SIGTERM, else `signal`) and starts it again on the same user directory and port. */
    async restart(signal) {
      await stop(signal);
      await launch();
    },
    stop: () => stop(),
  };
}

/** The header the editor's script sets on every request to the account's admin routes. */
const EDITOR_HEADERS = { 'BMW-CarData-Editor': '1' };

module.exports = { MODULE, startNodeRed, EDITOR_HEADERS };
