'use strict';
// Runs the checks of `node-red-dev validate` (the flow library's scorecard) on a package folder, offline:
//   node test/support/node-red-validate.js <node-red-dev install dir> <package dir>
// node-red-dev asks three services: catalogue.nodered.org (P08 similar names, N01 unique node types), the npm
// registry's node-red document (P06 Node-RED versions, P07 Node.js version) and the registry for the dependency
// trees (D02 incompatible packages, D03 latest versions). The node-red document comes from `npm view` (npm's own
// client, so its proxy and cache settings apply); when npm cannot answer, P06/P07 are not run. The catalogue and
// the dependency trees are not asked for: their checks are reported as not run. Every check that runs must pass.
const path = require('path');
const { execFileSync } = require('child_process');

const [devDir, pkgDir] = process.argv.slice(2).map((p) => path.resolve(p));
const dev = path.join(devDir, 'node_modules', 'node-red-dev');
const devRequire = (id) => require(require.resolve(id, { paths: [dev] }));
const notRun = {};

function nodeRedDocument() {
  try {
    const view = JSON.parse(
      execFileSync('npm', ['view', 'node-red', 'dist-tags', 'engines', '--json'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] }),
    );
    return { 'dist-tags': view['dist-tags'], versions: { [view['dist-tags'].latest]: { engines: view.engines } } };
  } catch {
    return undefined;
  }
}
const nodeRed = nodeRedDocument();
if (!nodeRed) notRun.P06 = notRun.P07 = 'the npm registry did not answer `npm view node-red`';
notRun.P08 = notRun.N01 = 'needs catalogue.nodered.org (the flow library catalogue)';
notRun.D02 = 'needs the dependency trees from the npm registry (npm-remote-ls)';
notRun.D03 = 'needs the latest versions from the npm registry (npm-check)';

// node-red-dev's HTTP client answers from here: the node-red document, an empty catalogue (its checks are not run).
devRequire('axios').defaults.adapter = async (config) => {
  const data =
    config.url === 'https://registry.npmjs.org/node-red' && nodeRed ? nodeRed : /catalogue\.nodered\.org/.test(config.url) ? { modules: [] } : undefined;
  if (!data) throw new Error(`offline: ${config.url} is not asked`);
  return { data, status: 200, statusText: 'OK', headers: {}, config, request: {} };
};
// The dependency-tree tools are never started.
const stub = (id, exports) => {
  const file = require.resolve(id, { paths: [path.join(dev, 'src/libs')] });
  require.cache[file] = { id: file, filename: file, loaded: true, exports };
};
stub('npm-remote-ls', { ls: (name, version, flat, done) => done([]), config: () => {} });
stub('npm-check', () => Promise.resolve({ get: () => [] }));

const lines = [];
const cli = {
  log: (m) => lines.push(m),
  warn: (m) => lines.push(`warning: ${m}`),
  error: (e) => {
    throw e instanceof Error ? e : new Error(String(e));
  },
};

(async () => {
  const scorecard = {};
  await require(path.join(dev, 'src/libs/checkpackage'))(pkgDir, cli, scorecard, false);
  await require(path.join(dev, 'src/libs/checknodes'))(pkgDir, cli, scorecard, false);
  await require(path.join(dev, 'src/libs/checkdeps'))(pkgDir, cli, scorecard, false);
  // checknodes finds the node types by parsing each editor file; none found would pass N02 for nothing.
  const unparsed = lines.filter((l) => /Unable to parse/.test(l));
  let failed = unparsed.length > 0;
  for (const [rule, result] of Object.entries(scorecard)
    .filter(([k]) => /^[PND]\d\d$/.test(k))
    .sort()) {
    if (notRun[rule]) console.log(`${rule} not run: ${notRun[rule]}`);
    else {
      console.log(`${rule} ${result.test ? 'passed' : 'FAILED'}${result.nodes ? ` (${result.nodes.length} node types)` : ''}`);
      failed = failed || !result.test;
    }
  }
  for (const l of lines.filter((x) => /^warning|Unable/.test(x))) console.log(`  node-red-dev: ${l}`);
  if (!scorecard.N02 || !(scorecard.N02.nodes || []).length) failed = true;
  console.log(
    failed ? 'node-red-dev validate: FAILED' : `node-red-dev validate: every check that runs offline passed (${Object.keys(notRun).sort().join(', ')} not run)`,
  );
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(`node-red-dev validate: ${e.message}`);
  process.exit(1);
});
