'use strict';
// The commands of a clone (npx bmw-cardata, npx cardata-simulator): build once when dist/ is missing or older
// than the sources (the repository's package.json is the n8n manifest, which may have no install scripts), then
// run the compiled command in this process: signals (Ctrl-C, a service manager's SIGTERM) reach the command
// itself, with nothing in between that could end and leave it running.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.join(__dirname, '..', '..');

function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

module.exports = function run(compiled) {
  const stamp = path.join(ROOT, 'dist', '.built');
  const sources = Math.max(...['src', 'nodes', 'credentials'].map((d) => newest(path.join(ROOT, d))));
  if (!fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < sources) {
    process.stderr.write('Building the package once…\n');
    const built = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (built.status !== 0) process.exit(built.status ?? 1);
  }
  require(path.join(ROOT, compiled)).cli();
};
