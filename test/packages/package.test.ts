import assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import * as fs from 'fs';

const root = path.join(__dirname, '../..');
const build = path.join(root, 'build');
const read = (...p) => JSON.parse(fs.readFileSync(path.join(...p), 'utf8'));

describe('npm packages, one per audience', function () {
  this.timeout(120000);
  const files: Record<string, string[]> = {};
  const manifests: Record<string, any> = {};
  before(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts/packages.js'), '--no-pack'], { cwd: root, encoding: 'utf8' });
    for (const name of fs.readdirSync(build)) {
      if (!fs.existsSync(path.join(build, name, 'package.json'))) continue;
      const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: path.join(build, name), encoding: 'utf8' });
      files[name] = JSON.parse(out)[0].files.map((f) => f.path);
      manifests[name] = read(build, name, 'package.json');
    }
  });

  it('n8n-nodes-bmw-cardata: the node, the polling trigger and the credential, no runtime dependency, no Node.js adapter, no mqtt', () => {
    const pkg = manifests['n8n-nodes-bmw-cardata'];
    assert.deepStrictEqual(pkg.dependencies, {});
    assert.deepStrictEqual(pkg.n8n.nodes, ['dist/nodes/BmwCarData/BmwCarData.node.js', 'dist/nodes/BmwCarDataTrigger/BmwCarDataTrigger.node.js']);
    for (const f of [...pkg.n8n.nodes, ...pkg.n8n.credentials, 'dist/icons/bmwCarData.svg', 'README.md', 'LICENSE']) assert.ok(files['n8n-nodes-bmw-cardata'].includes(f), f);
    const foreign = files['n8n-nodes-bmw-cardata'].filter((f) => /src\/(node|node-red|cli|simulator)\/|src\/core\/stream\.js|StreamTrigger/.test(f));
    assert.deepStrictEqual(foreign, []);
  });

  it('n8n-nodes-bmw-cardata-stream: the stream trigger, with mqtt only', () => {
    const pkg = manifests['n8n-nodes-bmw-cardata-stream'];
    assert.deepStrictEqual(Object.keys(pkg.dependencies), ['mqtt']);
    assert.deepStrictEqual(pkg.n8n.nodes, ['dist/nodes/BmwCarDataStreamTrigger/BmwCarDataStreamTrigger.node.js']);
    assert.ok(files['n8n-nodes-bmw-cardata-stream'].includes(pkg.n8n.nodes[0]));
  });

  it('node-red-contrib-bmw-cardata: every Node-RED node with its editor file, catalog and help (English and German) and examples, the shared editor script; at most axios, luxon and mqtt', () => {
    const pkg = manifests['node-red-contrib-bmw-cardata'];
    assert.deepStrictEqual(Object.keys(pkg.dependencies).sort(), ['axios', 'luxon', 'mqtt']);
    assert.ok(pkg.keywords.includes('node-red'));
    const list = files['node-red-contrib-bmw-cardata'];
    for (const js of Object.values<string>(pkg['node-red'].nodes)) {
      assert.ok(list.includes(js), js);
      assert.ok(list.includes(js.replace(/\.js$/, '.html')), `${js}: editor file`);
      // English, and German for an editor set to German.
      for (const lang of ['en-US', 'de']) {
        assert.ok(list.includes(js.replace(/([^/]+)\.js$/, `locales/${lang}/$1.json`)), `${js}: message catalog (${lang})`);
        assert.ok(list.includes(js.replace(/([^/]+)\.js$/, `locales/${lang}/$1.html`)), `${js}: help (${lang})`);
      }
    }
    // The editor's shared script, served by Node-RED at resources/<package name>/.
    assert.ok(list.includes('resources/bmw-cardata-editor.js'));
    assert.ok(pkg.bugs && pkg.bugs.email, 'a bugs address (the flow library asks for a repository or one)');
    for (const example of fs.readdirSync(path.join(root, 'examples'))) assert.ok(list.includes(`examples/${example}`), example);
    assert.deepStrictEqual(list.filter((f) => /nodes\/Bmw|credentials\/|src\/(n8n|simulator|cli)\//.test(f)), []);
  });

  it('bmw-cardata: the library with its types, the command line (with its MCP server) and the simulator; the broker and the MCP SDK only here', () => {
    const pkg = manifests['bmw-cardata'];
    assert.deepStrictEqual(Object.keys(pkg.dependencies).sort(), ['@modelcontextprotocol/sdk', 'aedes', 'axios', 'luxon', 'mqtt', 'zod']);
    for (const f of [pkg.main, pkg.types, ...Object.values(pkg.bin), 'dist/src/simulator/index.js', 'dist/src/cli/mcp.js']) assert.ok(files['bmw-cardata'].includes(f), f);
    for (const other of ['n8n-nodes-bmw-cardata', 'n8n-nodes-bmw-cardata-stream', 'node-red-contrib-bmw-cardata']) {
      for (const only of ['aedes', '@modelcontextprotocol/sdk', 'zod']) assert.ok(!manifests[other].dependencies[only], `${other}: ${only}`);
    }
  });

  it('ships nothing users do not need', () => {
    for (const [name, list] of Object.entries(files)) {
      const unwanted = list.filter((f) => /^(test|bench|scripts|spec|docs|\.ci|src|nodes|credentials|packages|node_modules)\//.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) || /\.tgz$|\.log$/.test(f));
      assert.deepStrictEqual(unwanted, [], name);
    }
  });
});
