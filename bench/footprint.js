'use strict';
// Install footprint and load time of each package built by `npm run packages`: every tarball in build/ is installed
// with plain npm into an empty folder (peers left to the host: n8n brings n8n-workflow), then the packages and
// megabytes under node_modules are counted, and a fresh Node.js process times the require of the host's node files.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const BUILD = path.join(ROOT, 'build');

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

const tarballs = fs.existsSync(BUILD) ? fs.readdirSync(BUILD).filter((f) => f.endsWith('.tgz')).sort() : [];
if (!tarballs.length) throw new Error('no tarballs in build/: run npm run packages first');
const rows = [];
for (const tgz of tarballs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'footprint-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
    execFileSync('npm', ['install', path.join(BUILD, tgz), '--omit=peer', '--legacy-peer-deps', '--no-audit', '--no-fund', '--ignore-scripts', '--silent'], { cwd: dir, stdio: 'ignore' });
    const nodeModules = path.join(dir, 'node_modules');
    const name = fs.readdirSync(nodeModules).find((n) => !n.startsWith('.') && tgz.startsWith(`${n}-`) && /^\d/.test(tgz.slice(n.length + 1)));
    const pkgDir = path.join(nodeModules, name);
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    const files = hostFiles(pkg).map((f) => path.join(pkgDir, f));
    // n8n provides n8n-workflow and luxon to its community nodes; here they come from the repository's node_modules.
    const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
    const script = `const t=process.hrtime.bigint();for(const f of ${JSON.stringify(files)})require(f);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    const times = [0, 1, 2].map(() => Number(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' })));
    rows.push({ name, packages: packages(nodeModules), mb: size(nodeModules) / 1e6, loadMs: Math.min(...times), files: files.length });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log('package                          installed packages      MB   load of host files');
for (const r of rows) console.log(`${r.name.padEnd(32)} ${String(r.packages).padStart(18)} ${r.mb.toFixed(1).padStart(7)}   ${r.loadMs.toFixed(0).padStart(4)} ms (${r.files} files)`);
