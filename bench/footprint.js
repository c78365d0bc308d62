'use strict';
// Install footprint and load time of each package built by `npm run packages`: every tarball in build/ is installed
// with plain npm into an empty folder (peers left to the host: n8n brings n8n-workflow), then the packages and
// megabytes under node_modules are counted, and fresh Node.js processes time what the host does with its files:
// n8n requires each node and credential file and instantiates the class it exports (the node's description, the
// credential's fields); Node-RED requires each node module (registering it with the runtime is not timed); the
// library's entry is required. What the host itself provides (n8n: n8n-workflow and luxon, from the repository's
// node_modules here) is loaded before the clock starts. Figures are medians of RUNS processes (default 7).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const BUILD = path.join(ROOT, 'build');
const RUNS = Number(process.env.RUNS || 7);
const { PACKAGES } = require('../scripts/packages');

function size(dir) {
  let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) bytes += size(p);
    else if (e.isFile()) bytes += fs.statSync(p).size;
  }
  return bytes;
}

function packages(nodeModules) {
  let n = 0;
  if (!fs.existsSync(nodeModules)) return 0;
  for (const e of fs.readdirSync(nodeModules)) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) n += fs.readdirSync(path.join(nodeModules, e)).length;
    else n += 1;
    const nested = path.join(nodeModules, e, 'node_modules');
    if (!e.startsWith('@') && fs.existsSync(nested)) n += packages(nested);
  }
  return n;
}

/** The files a host loads: n8n's nodes and credentials, Node-RED's nodes, the library's entry. */
function hostFiles(pkg) {
  if (pkg.n8n) return [...pkg.n8n.nodes, ...pkg.n8n.credentials];
  if (pkg['node-red']) return Object.values(pkg['node-red'].nodes);
  return [pkg.main];
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** A fresh process's milliseconds per host file, in the order the host loads them. */
function loadScript(pkgDir, files, provided, n8n) {
  const use = n8n ? 'for (const C of Object.values(m)) if (typeof C === "function") { const o = new C(); void (o.description || o.properties); }' : '';
  return `
    for (const p of ${JSON.stringify(provided)}) require(p);
    const ms = [];
    for (const f of ${JSON.stringify(files.map((f) => path.join(pkgDir, f)))}) {
      const t = process.hrtime.bigint();
      const m = require(f);
      ${use}
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    process.stdout.write(JSON.stringify(ms));`;
}

const tarballs = fs.existsSync(BUILD)
  ? fs
      .readdirSync(BUILD)
      .filter((f) => f.endsWith('.tgz'))
      .sort()
  : [];
if (!tarballs.length) throw new Error('no tarballs in build/: run npm run packages first');
const rows = [];
for (const tgz of tarballs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'footprint-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
    execFileSync('npm', ['install', path.join(BUILD, tgz), '--omit=peer', '--legacy-peer-deps', '--no-audit', '--no-fund', '--ignore-scripts', '--silent'], {
      cwd: dir,
      stdio: 'ignore',
    });
    const nodeModules = path.join(dir, 'node_modules');
    const name = fs.readdirSync(nodeModules).find((n) => !n.startsWith('.') && tgz.startsWith(`${n}-`) && /^\d/.test(tgz.slice(n.length + 1)));
    const pkgDir = path.join(nodeModules, name);
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    const files = hostFiles(pkg);
    const provided = (PACKAGES.find((p) => p.name === name) || {}).provided || [];
    // n8n provides n8n-workflow and luxon to its community nodes; here they come from the repository's node_modules.
    const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
    const runs = Array.from({ length: RUNS }, () =>
      JSON.parse(execFileSync(process.execPath, ['-e', loadScript(pkgDir, files, provided, !!pkg.n8n)], { env, encoding: 'utf8' })),
    );
    const perFile = files.map((file, i) => ({ file, ms: median(runs.map((r) => r[i])) }));
    rows.push({ name, packages: packages(nodeModules), mb: size(nodeModules) / 1e6, loadMs: median(runs.map((r) => r.reduce((a, b) => a + b, 0))), perFile });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`Node.js ${process.version}, median of ${RUNS} fresh processes`);
console.log('package                          installed packages      MB   load of host files');
for (const r of rows)
  console.log(
    `${r.name.padEnd(32)} ${String(r.packages).padStart(18)} ${r.mb.toFixed(1).padStart(7)}   ${r.loadMs.toFixed(1).padStart(6)} ms (${r.perFile.length} file${r.perFile.length === 1 ? '' : 's'})`,
  );
console.log('\nper file, in load order (the first of a package also loads the code the others share)');
for (const r of rows) {
  console.log(r.name);
  for (const { file, ms } of r.perFile) console.log(`  ${file.padEnd(68)} ${ms.toFixed(1).padStart(6)} ms`);
}
