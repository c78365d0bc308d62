// Every fenced code block of every README (README.md, packages/*/README.md) is run, so the docs cannot drift:
// - js: run with node, with `bmw-cardata` resolving to this build and BMW's URLs defaulting to the test's simulator;
//   the names a snippet takes as given (clientId, tokens, vin, saveTokensSomewhere) exist, with the simulator's values;
// - bash: run with bash -e, `bmw-cardata` and `cardata-simulator` (also through npx) being this clone's commands,
//   the account file (BMW_CARDATA_CONFIG) pointing at the test's simulator, `<your client ID>` and `<VIN>` filled in;
// - a block marked `<!-- snippet: server -->` starts something that runs until stopped: it must print its URLs,
//   on the port the snippet names replaced by a free one, and is then stopped;
// - blocks not meant to run say so: the language `text` or `json`, or `<!-- snippet: not run: why -->` right before.
// Any other block (no language, an unknown one, no marker) fails, so a new snippet is run or marked on purpose.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync, spawn } from 'child_process';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { freePort } from '../support/free-port';

const ROOT = path.join(__dirname, '../..');
const READMES = ['README.md', ...fs.readdirSync(path.join(ROOT, 'packages')).map((p) => path.join('packages', p, 'README.md'))].filter((f) => fs.existsSync(path.join(ROOT, f)));
const NOT_RUN_LANGUAGES = new Set(['text', 'json']);
const RUN_LANGUAGES = new Set(['js', 'javascript', 'bash', 'sh']);

/** The fenced blocks of a markdown text: language, code, the marker comment right before it, the line. */
function blocks(markdown) {
  const out = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const code = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) code.push(lines[i]);
    let before = start - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const marker = before >= 0 ? /^<!--\s*snippet:\s*(.*?)\s*-->$/.exec(lines[before].trim()) : null;
    out.push({ language: open[1].toLowerCase(), code: code.join('\n'), marker: marker ? marker[1] : undefined, line: start + 1 });
  }
  return out;
}

/** What to do with a block: 'js', 'bash', 'server' or 'skip'; an Error for a block that is neither run nor marked. */
function kindOf(block) {
  if (block.marker !== undefined) {
    if (/^not run: \S/.test(block.marker)) return 'skip';
    if (block.marker === 'server' && ['bash', 'sh'].includes(block.language)) return 'server';
    return new Error(`unknown marker "${block.marker}" (use "not run: <why>" or "server" on a shell block)`);
  }
  if (NOT_RUN_LANGUAGES.has(block.language)) return 'skip';
  if (!RUN_LANGUAGES.has(block.language)) {
    return new Error(`a block in "${block.language || 'no language'}" is neither run nor marked: tag it text or json, or put <!-- snippet: not run: why --> before it`);
  }
  return block.language.startsWith('j') ? 'js' : 'bash';
}

/** Runs a command to its end; resolves with its exit code and output. */
function runToEnd(command, args, opts) {
  return new Promise<{ code: number | string | null; output: string }>((resolve) => {
    // Its own process group, so a snippet that does not end is stopped with everything it started.
    const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += '\n(stopped: still running after 30 s)';
      process.kill(-child.pid, 'SIGKILL');
    }, 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? signal : code, output });
    });
  });
}

/** Starts a command that runs until stopped, waits until its output matches `ready`, then stops it. */
function runServer(command, args, opts, ready) {
  return new Promise<{ ok: boolean; output: string }>((resolve) => {
    const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let settled = false;
    const finish = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        // already gone
      }
      child.once('close', () => resolve({ ok, output }));
      if (child.exitCode !== null || child.signalCode !== null) resolve({ ok, output });
    };
    const onData = (d) => {
      output += d;
      if (ready.test(output)) finish(true);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', () => finish(false));
    const timer = setTimeout(() => finish(false), 30_000);
  });
}

describe('README snippets', function () {
  this.timeout(120_000);
  let sim;
  let tmp;
  let env;

  before(async () => {
    sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-readme-'));
    // `bmw-cardata` for require(): this build, with BMW's URLs defaulting to the simulator's.
    const pkg = path.join(tmp, 'node_modules', 'bmw-cardata');
    fs.mkdirSync(pkg, { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), 'dir');
    fs.writeFileSync(
      path.join(pkg, 'index.js'),
      `const real = require(${JSON.stringify(path.join(ROOT, 'dist/src/node'))});
module.exports = { ...real, createAccount: (options) => real.createAccount({ apiBaseUrl: process.env.SNIPPET_API_URL, authBaseUrl: process.env.SNIPPET_AUTH_URL, ...options }) };\n`,
    );
    // What a snippet takes as given, with the simulator's values.
    const t = sim.issueTokens({ clientId: 'sandbox' });
    fs.writeFileSync(
      path.join(tmp, 'given.js'),
      `const { tokenSetFromResponse } = require('bmw-cardata');
Object.assign(globalThis, { clientId: 'sandbox', vin: ${JSON.stringify(SIM_VINS.bev)}, saveTokensSomewhere: () => {}, tokens: tokenSetFromResponse(${JSON.stringify(t)}, Date.now()) });\n`,
    );
    // The clone's commands, also through npx (test/e2e/quickstart.sh runs the real npx in a fresh clone).
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    for (const name of ['bmw-cardata', 'cardata-simulator']) fs.symlinkSync(path.join(ROOT, 'scripts/bin', `${name}.js`), path.join(bin, name));
    const npx = execFileSync('bash', ['-c', 'command -v npx'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(path.join(bin, 'npx'), `#!/usr/bin/env bash\ncase "$1" in bmw-cardata|cardata-simulator) exec "$@";; esac\nexec ${JSON.stringify(npx)} "$@"\n`, { mode: 0o755 });
    // The account file of the command line: the simulator's URLs, no login yet.
    const config = path.join(tmp, 'config', 'account.json');
    fs.mkdirSync(path.dirname(config));
    fs.writeFileSync(config, JSON.stringify({ apiBaseUrl: sim.apiBaseUrl, authBaseUrl: sim.authBaseUrl }), { mode: 0o600 });
    env = {
      ...process.env,
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      NODE_PATH: path.join(tmp, 'node_modules'),
      SNIPPET_API_URL: sim.apiBaseUrl,
      SNIPPET_AUTH_URL: sim.authBaseUrl,
      BMW_CARDATA_CONFIG: config,
      HOME: tmp,
      XDG_CONFIG_HOME: path.join(tmp, 'xdg'),
    };
  });
  after(async () => {
    await sim.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => sim.setQuotaUsed(0));

  it('finds blocks and tells run, skipped and unmarked ones apart', () => {
    const md = ['```js', 'a()', '```', '<!-- snippet: not run: needs a car -->', '```bash', 'b', '```', '```text', 'c', '```', '```', 'd', '```', '```python', 'e', '```'].join('\n');
    const kinds = blocks(md).map(kindOf).map((k) => (k instanceof Error ? 'error' : k));
    assert.deepStrictEqual(kinds, ['js', 'skip', 'skip', 'error', 'error']);
  });

  for (const readme of READMES) {
    const found = blocks(fs.readFileSync(path.join(ROOT, readme), 'utf8'));
    for (const block of found) {
      const kind = kindOf(block);
      const title = `${readme}:${block.line} ${block.language || '(no language)'}${kind === 'skip' ? ` (not run${block.marker ? `: ${block.marker.replace(/^not run: /, '')}` : ''})` : ''}`;
      it(title, async function () {
        if (kind instanceof Error) throw kind;
        if (kind === 'skip') return this.skip();
        const cwd = fs.mkdtempSync(path.join(tmp, 'run-'));
        const code = block.code.replaceAll('<your client ID>', 'sandbox').replaceAll('<VIN>', SIM_VINS.bev);
        if (kind === 'js') {
          const file = path.join(cwd, 'snippet.js');
          fs.writeFileSync(file, code);
          const res = await runToEnd(process.execPath, ['-r', path.join(tmp, 'given.js'), file], { cwd, env });
          assert.strictEqual(res.code, 0, res.output);
          assert.ok(res.output.trim(), 'the snippet printed something');
        } else if (kind === 'bash') {
          const res = await runToEnd('bash', ['-e', '-o', 'pipefail', '-c', code], { cwd, env });
          assert.strictEqual(res.code, 0, res.output);
        } else {
          // The port the snippet names: a free one instead, so a running sandbox does not get in the way.
          const port = String(await freePort());
          const named = /--port (\d+)/.exec(code);
          const script = named ? code.replaceAll(named[1], port) : code;
          const res = await runServer('bash', ['-e', '-c', script], { cwd, env }, new RegExp(`127\\.0\\.0\\.1:${port}`));
          assert.ok(res.ok, `no URL on port ${port} in:\n${res.output}`);
        }
      });
    }
  }
});
