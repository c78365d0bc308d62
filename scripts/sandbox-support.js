'use strict';
// What a sandbox needs around its host: building the package when the sources are newer than dist/, checking a
// port before anything starts, the end of a log for a start that failed, and the simulator's stream story.
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawnSync } = require('child_process');
const { parseArgs } = require('util');

const ROOT = path.join(__dirname, '..');

function newestMtime(target) {
  if (!fs.existsSync(target)) return 0;
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** The folders the build reads: the top folders of tsconfig's include, the icons, and package.json. */
function buildSources() {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
  const tops = new Set((tsconfig.include ?? []).map((pattern) => pattern.split('/')[0]));
  return [...tops, 'icons', 'package.json'].map((name) => path.join(ROOT, name));
}

/** Builds when dist/ is missing or older than any source file (the build writes dist/.built). */
function buildIfNeeded() {
  const stamp = path.join(ROOT, 'dist', '.built');
  const sources = Math.max(...buildSources().map(newestMtime));
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= sources) return;
  console.log('Building the package…');
  const res = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) throw new Error('the build failed');
}

/**
 * Resolves when nothing listens on the port (on loopback), else rejects with what to do instead:
 * `Port 5678 for the n8n editor is already in use (is another n8n running?). Pick another one: <way out>`.
 */
function checkPortFree(port, what, { wayOut, busyNote = '' }) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (e) => {
      const problem = e.code === 'EADDRINUSE' ? `is already in use${busyNote}` : `cannot be used (${e.code})`;
      reject(new Error(`Port ${port} for the ${what} ${problem}. Pick another one: ${wayOut}`));
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** The last lines of a log file, for a start that failed. */
function logTail(file, lines = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A port number from an option, or an error naming the option. */
function portOption(name, value, fallback) {
  const port = Number(value ?? fallback);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a port number`);
  return port;
}

/** The options both sandboxes take: --dir, --reset, --port, --sim-port, --help, with each sandbox's defaults. */
function sandboxOptions(defaults) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      dir: { type: 'string' },
      reset: { type: 'boolean' },
      port: { type: 'string' },
      'sim-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return {
    help: !!values.help,
    reset: !!values.reset,
    dir: path.resolve(values.dir ?? path.join(ROOT, defaults.dir)),
    port: portOption('--port', values.port, defaults.port),
    simPort: portOption('--sim-port', values['sim-port'], defaults.simPort),
  };
}

/** Between two messages of the simulator's stream story in the sandboxes. */
const STREAM_INTERVAL_MS = 5000;

/**
 * Plays the stream's scenarios (charging, plugged in without charging, doors, a trip) in a loop from the moment
 * a flow or workflow subscribes, so the first one to listen sees the story from its start: a whole charging
 * session within a minute.
 */
function playStreamStoryOnceListening(sim, stopped) {
  const { playScenarios, SCENARIO_NAMES } = require(path.join(ROOT, 'dist/src/simulator'));
  const listening = setInterval(() => {
    if (stopped()) return clearInterval(listening);
    if (!sim.stream.log.some((e) => e.event === 'subscribe')) return;
    clearInterval(listening);
    setTimeout(() => playScenarios(sim, [...SCENARIO_NAMES], STREAM_INTERVAL_MS, stopped), 1000);
  }, 500);
}

module.exports = { ROOT, STREAM_INTERVAL_MS, buildIfNeeded, checkPortFree, logTail, playStreamStoryOnceListening, portOption, sandboxOptions };
