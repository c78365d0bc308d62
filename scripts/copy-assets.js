'use strict';
// tsc compiles only TypeScript: copy the editor files (.html), message catalogs and the icons into dist/.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
for (const dir of ['nodes', 'credentials', 'icons', 'src/node-red']) {
  const from = path.join(root, dir);
  if (!fs.existsSync(from)) continue;
  fs.cpSync(from, path.join(root, 'dist', dir), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });
}
// The build's time stamp: the sandbox rebuilds only when a source file is newer.
fs.writeFileSync(path.join(root, 'dist', '.built'), new Date().toISOString());
