'use strict';
const assert = require('assert');
const { execFileSync } = require('child_process');
const path = require('path');
const fs = require('fs');

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('npm package contents', function () {
  this.timeout(60000);
  let files;
  before(() => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    files = JSON.parse(out)[0].files.map((f) => f.path);
  });

  it('ships the compiled core, simulator, command line and both hosts', () => {
    const needed = [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/src/core/index.js',
      'dist/src/node/index.js',
      'dist/src/core/index.d.ts',
      'dist/src/core/telematic-catalogue.json',
      'dist/src/simulator/index.js',
      'dist/src/simulator/cli.js',
      'dist/src/cli/main.js',
      'dist/icons/bmwCarData.svg',
      'dist/icons/bmwCarData.dark.svg',
      ...Object.values(pkg.bin),
      ...pkg.n8n.nodes,
      ...pkg.n8n.credentials,
      ...Object.values(pkg['node-red'].nodes),
      ...Object.values(pkg['node-red'].nodes).map((js) => js.replace(/\.js$/, '.html')),
    ];
    for (const file of needed) assert.ok(files.includes(file), `missing from the package: ${file}`);
    const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'));
    assert.ok(examples.length >= 4);
    for (const example of examples) assert.ok(files.includes(`examples/${example}`), `missing example ${example}`);
  });

  it('ships nothing users do not need', () => {
    const unwanted = files.filter(
      (f) => /^(test|bench|scripts|spec|docs|\.ci|src|nodes|credentials|node_modules|\.sandbox)\//.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) || /\.tgz$|\.log$/.test(f),
    );
    assert.deepStrictEqual(unwanted, []);
  });

  it('has every file the package.json points at', () => {
    for (const file of [pkg.main, pkg.types]) assert.ok(files.includes(file), file);
  });
});
