'use strict';
// An n8n package's folder as n8n's lint and verification scan see it in a repository: the package's manifest as
// published (scripts/packages.js) beside links to its own node folders, its credentials, the icons and the
// sources they import. `node test/support/n8n-package-folder.js <package name> <folder>`.
const fs = require('fs');
const path = require('path');
const { PACKAGES, manifestFor } = require('../../scripts/packages.js');

const ROOT = path.join(__dirname, '..', '..');

function packageFolder(name, dir) {
  const spec = PACKAGES.find((s) => s.name === name);
  if (!spec) throw new Error(`no package ${name}`);
  const manifest = manifestFor(spec);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'nodes'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const own = manifest.n8n.nodes.map((f) => path.join('nodes', path.basename(path.dirname(f))));
  const links = [...own, 'src', 'icons', ...(manifest.n8n.credentials.length ? ['credentials'] : [])];
  for (const rel of links) fs.symlinkSync(path.join(ROOT, rel), path.join(dir, rel));
  return dir;
}

module.exports = { packageFolder };
if (require.main === module) packageFolder(process.argv[2], path.resolve(process.argv[3]));
