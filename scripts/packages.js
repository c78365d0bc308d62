'use strict';
// Assembles one npm package per audience from the one build in dist/ and packs each: build/<name>/ holds the
// files its entry points require (the same relative layout as dist/, so every require keeps working), the
// package's own package.json, README, LICENSE and examples. A require of a module the package does not declare
// fails the build. `node scripts/packages.js [--no-pack]`; the tarballs land in build/.
const fs = require('fs');
const path = require('path');
const { builtinModules } = require('module');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(ROOT, 'build');
const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
/** Each package's own manifest (packages/<name>/package.json): all but what is computed here. */
const manifestOf = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'packages', name, 'package.json'), 'utf8'));
const n8nEntries = ({ n8n }) => [...n8n.nodes, ...n8n.credentials];

/**
 * What each package holds, besides its manifest's entry points. `dependencies`: the modules it installs, at the
 * workspace's versions; `provided`: modules the host provides (never installed with the package).
 */
const PACKAGES = [
  {
    name: 'n8n-nodes-bmw-cardata',
    entries: n8nEntries(manifestOf('n8n-nodes-bmw-cardata')),
    assets: ['dist/icons/'],
    dependencies: [],
    provided: ['n8n-workflow', 'luxon'],
    examples: 'n8n-examples',
  },
  {
    name: 'n8n-nodes-bmw-cardata-stream',
    entries: n8nEntries(manifestOf('n8n-nodes-bmw-cardata-stream')),
    assets: ['dist/icons/'],
    dependencies: ['mqtt'],
    provided: ['n8n-workflow', 'luxon'],
  },
  {
    name: 'node-red-contrib-bmw-cardata',
    entries: Object.values(manifestOf('node-red-contrib-bmw-cardata')['node-red'].nodes),
    dependencies: ['axios', 'luxon', 'mqtt'],
    provided: [],
    nodeRed: true,
    examples: 'examples',
    // The editor's shared script: Node-RED serves a package's resources/ at resources/<package name>/.
    resources: 'dist/src/node-red/resources',
  },
  {
    name: 'bmw-cardata',
    entries: ['dist/src/node/index.js', 'dist/src/cli/main.js', 'dist/src/simulator/index.js', 'dist/src/simulator/cli.js'],
    types: true,
    dependencies: ['axios', 'luxon', 'mqtt', 'aedes', '@modelcontextprotocol/sdk', 'zod'],
    provided: [],
  },
];

const BUILTIN = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const bareName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

function resolveLocal(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(ROOT, from)}: cannot resolve ${spec}`);
}

/** Every file the entries require, and the bare modules they require. */
function closure(entries) {
  const files = new Set();
  const modules = new Set();
  const todo = entries.map((e) => path.join(ROOT, e));
  while (todo.length) {
    const file = todo.pop();
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith('.js')) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/\brequire\(["']([^"']+)["']\)/g)) {
      if (spec.startsWith('.')) todo.push(resolveLocal(file, spec));
      else if (!BUILTIN.has(spec)) modules.add(bareName(spec));
    }
  }
  return { files, modules };
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

/** A package's manifest as published: its own, with the workspace's version, its files and its dependencies. */
function manifestFor(spec) {
  const versions = root.devDependencies;
  for (const d of spec.dependencies) if (!versions[d]) throw new Error(`${spec.name}: no version of ${d} in the root package.json`);
  const { name, ...own } = manifestOf(spec.name);
  return {
    name,
    version: root.version,
    ...own,
    files: ['dist/', 'LICENSE', 'README.md', ...(spec.examples ? ['examples/'] : []), ...(spec.resources ? ['resources/'] : [])],
    dependencies: Object.fromEntries(spec.dependencies.map((d) => [d, versions[d]])),
  };
}

function assemble(spec) {
  const dir = path.join(OUT, spec.name);
  fs.rmSync(dir, { recursive: true, force: true });
  const { files, modules } = closure(spec.entries);
  const undeclared = [...modules].filter((m) => !spec.dependencies.includes(m) && !spec.provided.includes(m));
  if (undeclared.length) throw new Error(`${spec.name} requires ${undeclared.join(', ')}, which it does not declare`);
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    copy(file, path.join(dir, rel));
    const sibling = (ext) => file.replace(/\.js$/, ext);
    // n8n: the node's codex file; Node-RED: the editor file and the message catalog; the library: its types.
    for (const ext of ['.json', '.html', ...(spec.types ? ['.d.ts'] : [])]) {
      if (file.endsWith('.js') && fs.existsSync(sibling(ext))) copy(sibling(ext), path.join(dir, path.relative(ROOT, sibling(ext))));
    }
    const catalog = path.join(path.dirname(file), 'locales');
    if (spec.nodeRed && fs.existsSync(catalog)) {
      for (const lang of fs.readdirSync(catalog)) {
        for (const ext of ['.json', '.html']) {
          const f = path.join(catalog, lang, path.basename(file).replace(/\.js$/, ext));
          if (fs.existsSync(f)) copy(f, path.join(dir, path.relative(ROOT, f)));
        }
      }
    }
  }
  if (spec.types) {
    // Types the declarations refer to (interfaces only modules) come along too.
    for (const f of walk(path.join(DIST, 'src')))
      if (f.endsWith('.d.ts') && [...files].some((js) => path.dirname(js) === path.dirname(f))) copy(f, path.join(dir, path.relative(ROOT, f)));
  }
  for (const asset of spec.assets ?? []) copy(path.join(ROOT, asset), path.join(dir, asset));
  if (spec.examples) copy(path.join(ROOT, spec.examples), path.join(dir, 'examples'));
  if (spec.resources) copy(path.join(ROOT, spec.resources), path.join(dir, 'resources'));
  copy(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE'));
  copy(path.join(ROOT, 'packages', spec.name, 'README.md'), path.join(dir, 'README.md'));
  const manifest = manifestFor(spec);
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, files: files.size, modules: [...modules].sort() };
}

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(p);
    else yield p;
  }
}

function main() {
  const pack = !process.argv.includes('--no-pack');
  fs.mkdirSync(OUT, { recursive: true });
  // Packing replaces the tarballs; assembling alone (--no-pack, as the tests and the sandboxes do) leaves them.
  if (pack) for (const f of fs.readdirSync(OUT)) if (f.endsWith('.tgz')) fs.rmSync(path.join(OUT, f));
  for (const spec of PACKAGES) {
    const { dir, files, modules } = assemble(spec);
    let tarball = '';
    if (pack) {
      const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', OUT], { cwd: dir, encoding: 'utf8' });
      tarball = ` -> build/${JSON.parse(out)[0].filename}`;
    }
    process.stdout.write(`${spec.name}: ${files} files, requires ${modules.join(', ') || 'nothing'}${tarball}\n`);
  }
}

module.exports = { PACKAGES, closure, assemble, manifestFor };
if (require.main === module) main();
