'use strict';
// Where the shared test helpers take the project's code from: its TypeScript sources when a TypeScript loader runs
// (the tests: .mocharc.json loads tsx), else the build in dist/ (the benchmarks and spawned workers run on plain Node).
// One place decides it, so a test and its helpers never hold two copies of a class.
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const FROM_SOURCES = Boolean(require.extensions['.ts']);

/** Requires `relative` (for example 'src/node', or 'nodes/X/X.node.js' where a JSON file has the same stem) from the
 * sources or from dist/. */
function code(relative) {
  if (!FROM_SOURCES) return require(path.join(ROOT, 'dist', relative));
  return require(path.join(ROOT, relative.replace(/\.js$/, '.ts')));
}

/** The arguments that make a child `node` process load TypeScript sources as the tests do. */
const WITH_SOURCES = ['--require', require.resolve('tsx/cjs')];

module.exports = { code, FROM_SOURCES, ROOT, WITH_SOURCES };
