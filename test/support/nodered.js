'use strict';
// Node-RED test harness: the real runtime through node-red-node-test-helper, the nodes of the assembled package, and a
// simulator on loopback. NODE_RED_PATH points the helper at another Node-RED (e.g. version 5).
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { EDITOR_HEADERS } = require('./nodered-runtime');

const runtimePath = process.env.NODE_RED_PATH ? require.resolve(process.env.NODE_RED_PATH) : require.resolve('node-red');
helper.init(runtimePath);
// Node-RED gives nodes its hooks engine as RED.hooks; the helper's stand-in runtime leaves it out, so nodes loaded
// here get the runtime's own (the one its messages go through).
if (helper._registryUtil && !helper._registryUtil.__withHooks) {
  const init = helper._registryUtil.init;
  helper._registryUtil.init = (runtime) => init.call(helper._registryUtil, { ...runtime, hooks: runtime.hooks ?? helper._RED.hooks });
  helper._registryUtil.__withHooks = true;
}

// The nodes as users install them: the package `npm run packages` assembles from dist/ (assembled here, so it
// never lags behind the build).
const { PACKAGES, assemble } = require('../../scripts/packages');
const { dir: packageDir } = assemble(PACKAGES.find((p) => p.name === 'node-red-contrib-bmw-cardata'));
const dist = path.join(packageDir, 'dist');

// Node-RED gives each node set RED._, its own message catalog (locales/<lang>/<node>.json, namespace
// <module>/<node>) in the runtime's language; the helper's stand-in gives back the key. The nodes loaded here get the
// runtime's own i18n with the package's catalogs, in English (Node-RED's default), whatever the machine's LANG.
const i18n = require(require.resolve('@node-red/util', { paths: [path.dirname(runtimePath)] })).i18n;
const { sleep } = require('./wait');
i18n.init({ lang: 'en-US' });
const MODULE = 'node-red-contrib-bmw-cardata';
const LOCALES = path.join(dist, 'src/node-red/locales');
/** The node module `name` as Node-RED loads it: RED._ looks up its catalog (the catalog loaded first). */
function withMessages(name) {
  const load = require(path.join(dist, `src/node-red/${name}.js`));
  const ready = i18n.registerMessageCatalog(`${MODULE}/${name}`, LOCALES, `${name}.json`);
  return async (red) => {
    await ready;
    const own = Object.create(red);
    own._ = (key, vars) => i18n._(key.includes(':') ? key : `${MODULE}/${name}:${key}`, vars);
    return load(own);
  };
}
const accountNode = withMessages('bmw-cardata-account');
const streamNode = withMessages('bmw-cardata-stream');
const TYPES = ['vehicles', 'basic-data', 'telematics', 'charging-history', 'tyre-diagnosis', 'charging-settings', 'image', 'containers'];
const actionNodes = Object.fromEntries(TYPES.map((t) => [t, withMessages(`bmw-cardata-${t}`)]));
const allNodes = [accountNode, ...Object.values(actionNodes)];

const CLIENT_ID = 'nr-test-client';

/** A fresh Node-RED user directory, so quota ledgers and token files never leak between tests. */
function freshUserDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-nr-'));
  helper.settings({ userDir: dir });
  return dir;
}

function accountConfig(sim, extra = {}) {
  return { id: 'acc', type: 'bmw-cardata-account', name: 'simulator', apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl, dailyQuota: 50, ...extra };
}

/** Credentials of an authorized account: tokens issued by the simulator without the device flow. */
function authorizedCredentials(sim) {
  const t = sim.issueTokens({ clientId: CLIENT_ID });
  return {
    clientId: CLIENT_ID,
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    idToken: t.id_token,
    gcid: t.gcid,
    expiresAt: String(Date.now() + t.expires_in * 1000),
  };
}

/**
 * Loads one action node wired to a helper node (and a Catch node wired to another helper), all on one tab.
 * Returns the nodes and collectors of what arrived.
 */
async function loadAction(sim, type, config = {}, options = {}) {
  const flow = [
    { id: 'tab', type: 'tab', label: 'test' },
    accountConfig(sim, options.account),
    { id: 'n1', z: 'tab', type: `bmw-cardata-${type}`, account: 'acc', name: '', wires: [['out']], ...config },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    ...(options.extraFlow ?? []),
  ].map((n, i) => (n.z ? { x: 100, y: 40 * (i + 1), ...n } : n));
  const credentials = { acc: options.credentials ?? authorizedCredentials(sim) };
  await helper.load([...allNodes, ...(options.modules ?? [])], flow, credentials);
  const node = helper.getNode('n1');
  const out = collector(helper.getNode('out'));
  const caught = collector(helper.getNode('caught'));
  return { node, out, caught, account: helper.getNode('acc') };
}

/** Records every message a helper node receives; `next(n)` waits for n more. */
function collector(helperNode) {
  const messages = [];
  const waiters = [];
  helperNode.on('input', (msg) => {
    messages.push(msg);
    for (const w of [...waiters]) {
      if (messages.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(messages.slice());
      }
    }
  });
  return {
    messages,
    wait(count = 1, timeoutMs = 10_000) {
      if (messages.length >= count) return Promise.resolve(messages.slice());
      return new Promise((resolve, reject) => {
        const w = { count, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`expected ${count} message(s), got ${messages.length}`));
          }
        }, timeoutMs).unref();
      });
    },
  };
}

/**
 * Starts the helper's Node-RED before each test of the suite, after `prepare()` (a fresh user directory, a clean
 * simulator log...), and unloads the flows and stops it after each.
 */
function serverPerTest(prepare = async () => {}) {
  beforeEach(async () => {
    await prepare();
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });
}

/** The core nodes the example flows use, loaded beside ours when a test deploys an example. */
const EXAMPLE_CORE_NODES = [
  'common/20-inject.js',
  'common/21-debug.js',
  'common/90-comment.js',
  'function/10-function.js',
  'function/10-switch.js',
  'function/15-change.js',
  'function/80-template.js',
  'parsers/70-CSV.js',
  'storage/10-file.js',
  'sequence/17-split.js',
];

/** The account's admin routes as the editor calls them (supertest on the helper's admin app). */
function editor() {
  const request = helper.request();
  return { get: (route) => request.get(route).set(EDITOR_HEADERS), post: (route) => request.post(route).set(EDITOR_HEADERS) };
}

/** The last status the node showed. */
function lastStatus(node) {
  // The test helper spies on the prototype shared by every node: only this node's calls are its status.
  const calls = node.status.getCalls ? node.status.getCalls().filter((c) => c.thisValue === node) : [];
  return calls.length ? calls[calls.length - 1].args[0] : undefined;
}

module.exports = {
  serverPerTest,
  EXAMPLE_CORE_NODES,
  helper,
  editor,
  EDITOR_HEADERS,
  accountNode,
  streamNode,
  actionNodes,
  allNodes,
  CLIENT_ID,
  freshUserDir,
  accountConfig,
  authorizedCredentials,
  loadAction,
  collector,
  sleep,
  lastStatus,
};

/** A core node module of the Node-RED under test (e.g. 'sequence/17-split.js' for Join). */
function coreNode(relative) {
  return require(require.resolve(`@node-red/nodes/core/${relative}`, { paths: [path.dirname(runtimePath)] }));
}
module.exports.coreNode = coreNode;
