'use strict';
// The n8n packages as n8n installs community packages: the tarballs `npm run packages` wrote into build/ are
// installed with npm into the nodes folder of an n8n user folder (<N8N_USER_FOLDER>/.n8n/nodes: a package.json
// and node_modules, like ~/.n8n/nodes). n8n 2.41 loads every n8n-nodes-* package it finds in that node_modules at
// each start (`n8n start`, `n8n execute`, workers) and names their node types <package>.<node>.
//
// n8n-workflow (the packages' peer) and luxon are n8n's to provide: n8n puts its own module paths on NODE_PATH
// before it loads any node. So npm leaves the peer out (--legacy-peer-deps, as n8n itself strips
// peerDependencies before its own install; a plain `npm install` would add a second n8n-workflow with its whole
// tree), and the install fails when either module is in the folder or in a node_modules above it, where Node.js
// would find it before n8n's.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');

const ROOT = path.join(__dirname, '..', '..');
const BUILD = path.join(ROOT, 'build');
const PACKAGES = ['n8n-nodes-bmw-cardata', 'n8n-nodes-bmw-cardata-stream'];
const HOST_PROVIDED = ['n8n-workflow', 'luxon'];
/** The node types of the installed packages, as workflows name them. */
const TYPES = {
  bmwCarData: 'n8n-nodes-bmw-cardata.bmwCarData',
  bmwCarDataTrigger: 'n8n-nodes-bmw-cardata.bmwCarDataTrigger',
  bmwCarDataStreamTrigger: 'n8n-nodes-bmw-cardata-stream.bmwCarDataStreamTrigger',
};

/** build/<name>-<version>.tgz of the repository's version. */
function tarball(name) {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const file = path.join(BUILD, `${name}-${version}.tgz`);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run npm run packages first`);
  return file;
}

/** Every folder named `name` in a node_modules tree (scoped and nested packages included). */
function findPackage(nodeModules, name) {
  const found = [];
  if (!fs.existsSync(nodeModules)) return found;
  for (const entry of fs.readdirSync(nodeModules)) {
    const dir = path.join(nodeModules, entry);
    const packages = entry.startsWith('@') ? fs.readdirSync(dir).map((e) => [`${entry}/${e}`, path.join(dir, e)]) : [[entry, dir]];
    for (const [pkg, pkgDir] of packages) {
      if (pkg === name) found.push(pkgDir);
      found.push(...findPackage(path.join(pkgDir, 'node_modules'), name));
    }
  }
  return found;
}

function npm(args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8', timeout: 180_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${`${stdout}${stderr}`.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** Installed package folders under a node_modules, scoped ones included (not nested ones). */
function countPackages(nodeModules) {
  return fs
    .readdirSync(nodeModules)
    .filter((e) => !e.startsWith('.'))
    .reduce((n, e) => n + (e.startsWith('@') ? fs.readdirSync(path.join(nodeModules, e)).length : 1), 0);
}

/**
 * Installs the packed n8n packages into <userFolder>/.n8n/nodes and checks what n8n will load: each package at
 * the repository's version, its own dependencies beside it, and neither n8n-workflow nor luxon anywhere Node.js
 * looks before NODE_PATH, while the n8n in `n8nDir` (its install folder) has both. Returns the folder, the
 * installed names and versions, how many other packages npm put there, the seconds it took and n8n's copies.
 */
async function installPackages(userFolder, n8nDir, names = PACKAGES) {
  const nodesDir = path.join(userFolder, '.n8n', 'nodes');
  const nodeModules = path.join(nodesDir, 'node_modules');
  fs.mkdirSync(nodesDir, { recursive: true });
  fs.writeFileSync(path.join(nodesDir, 'package.json'), `${JSON.stringify({ name: 'installed-nodes', private: true }, null, 2)}\n`);
  const started = Date.now();
  await npm(['install', ...names.map(tarball), '--legacy-peer-deps', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], nodesDir);
  const seconds = (Date.now() - started) / 1000;

  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const installed = names.map((name) => {
    const manifest = path.join(nodeModules, name, 'package.json');
    if (!fs.existsSync(manifest)) throw new Error(`npm did not install ${name} into ${nodeModules}`);
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    if (pkg.version !== version) throw new Error(`${name} ${pkg.version} was installed, not ${version}`);
    // Its own dependencies (mqtt for the stream package) from its install, not from n8n.
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const resolved = require.resolve(`${dep}/package.json`, { paths: [path.join(nodeModules, name)] });
      if (!resolved.startsWith(nodeModules + path.sep)) throw new Error(`${name}'s ${dep} resolves to ${resolved}, outside ${nodeModules}`);
    }
    return `${name}@${pkg.version}`;
  });
  for (const module of HOST_PROVIDED) {
    const inside = findPackage(nodeModules, module);
    if (inside.length) throw new Error(`the install brought its own ${module} (${inside.join(', ')}); n8n provides it`);
    // Node.js looks in every node_modules from the requiring file up to the root, then in NODE_PATH.
    for (let dir = path.dirname(nodesDir); ; dir = path.dirname(dir)) {
      const above = path.join(dir, 'node_modules', module);
      if (fs.existsSync(above)) throw new Error(`${above} would be loaded instead of n8n's ${module}: install outside any project`);
      if (path.dirname(dir) === dir) break;
    }
    for (const dir of [path.join(os.homedir(), '.node_modules'), path.join(os.homedir(), '.node_libraries')]) {
      if (fs.existsSync(path.join(dir, module))) throw new Error(`${path.join(dir, module)} would be loaded instead of n8n's ${module}`);
    }
  }
  // What NODE_PATH gives the nodes in n8n: the modules as n8n's own files resolve them.
  const n8nDist = path.join(n8nDir, 'node_modules', 'n8n', 'dist');
  const provided = HOST_PROVIDED.map((module) => {
    const manifest = require.resolve(`${module}/package.json`, { paths: [n8nDist] });
    return `${module} ${JSON.parse(fs.readFileSync(manifest, 'utf8')).version}`;
  });
  return { nodesDir, installed, dependencies: countPackages(nodeModules) - names.length, seconds, provided };
}

/** One line for the test's log: what was installed where, and what n8n provides. */
function describeInstall({ nodesDir, installed, dependencies, seconds, provided }) {
  return `installed ${installed.join(', ')} (+${dependencies} dependencies) into ${nodesDir} in ${seconds.toFixed(1)} s; ${provided.join(' and ')} from n8n`;
}

/**
 * Environment for n8n that records where Node.js finds each module the packages require (n8n-module-trace.js,
 * preloaded into n8n and its workers), for checkModuleTrace.
 */
function traceModules(file) {
  const preload = `--require "${path.join(__dirname, 'n8n-module-trace.js')}"`;
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' '), N8N_MODULE_TRACE: file };
}

/**
 * What n8n loaded for the packages, from the trace: n8n-workflow and luxon from n8n's install (`n8nDir`), every
 * other module (mqtt) from the nodes folder. Throws on anything else; returns one line per package.
 */
function checkModuleTrace(file, { nodesDir }, n8nDir) {
  if (!fs.existsSync(file)) throw new Error('n8n loaded no file of the BMW CarData packages (no module trace)');
  const byPackage = {};
  // One line per module and package from each n8n process (commands, main, workers).
  for (const line of new Set(fs.readFileSync(file, 'utf8').trim().split('\n'))) {
    const [pkg, module, ...rest] = line.split(' ');
    const resolved = rest.join(' ');
    const home = HOST_PROVIDED.includes(module) ? n8nDir : nodesDir;
    if (!resolved.startsWith(home + path.sep)) throw new Error(`${pkg} loaded ${module} from ${resolved}, not from ${home}`);
    (byPackage[pkg] ??= []).push(
      `${module} from ${HOST_PROVIDED.includes(module) ? "n8n's" : 'its own'} ${path.relative(home, resolved).split(path.sep).slice(0, 2).join('/')}`,
    );
  }
  for (const module of HOST_PROVIDED) {
    if (!Object.values(byPackage).some((list) => list.some((l) => l.startsWith(`${module} `)))) throw new Error(`no package loaded ${module}`);
  }
  return Object.entries(byPackage).map(([pkg, list]) => `${pkg} loaded ${list.join(', ')}`);
}

module.exports = { PACKAGES, TYPES, installPackages, describeInstall, traceModules, checkModuleTrace, tarball };
