'use strict';
// What the browser tests share: numbered steps with real asserts, child processes and the browser that are always
// stopped (on success, failure, overall timeout or a signal), the simulator CLI on a free port, npm pack/install.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { freePort } = require('../support/free-port');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

class AssertionError extends Error {}

function assert(condition, message) {
  if (!condition) throw new AssertionError(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` (sync or async, truthy = done) until `timeoutMs`; a dead `proc` ends the wait at once. */
async function waitFor(what, check, timeoutMs = 20_000, proc) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    if (proc && proc.exited()) throw new Error(`${proc.label} exited (code ${proc.child.exitCode}) while waiting for ${what}`);
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new AssertionError(`timed out waiting for ${what}${lastError ? ` (${lastError.message})` : ''}`);
    await sleep(200);
  }
}

/** Waits until the element's text matches `pattern`; fails with the text it last saw. */
async function waitForText(page, selector, pattern, timeoutMs = 15_000) {
  let seen = '';
  try {
    await waitFor(
      `${selector} to match ${pattern}`,
      async () => {
        seen = (await page.locator(selector).first().textContent({ timeout: 1000 })) || '';
        return pattern.test(seen);
      },
      timeoutMs,
    );
  } catch {
    throw new AssertionError(`${selector} does not match ${pattern}; it shows "${seen.trim().slice(0, 300)}"`);
  }
  return seen;
}

/** The bounding box around several elements, padded and kept inside the viewport: a clip for page.screenshot. */
async function unionBox(page, selectors, pad = 0) {
  const boxes = [];
  for (const selector of selectors) {
    const box = await page.locator(selector).first().boundingBox();
    assert(box, `${selector} is not on screen`);
    boxes.push(box);
  }
  const view = page.viewportSize();
  const x = Math.max(0, Math.min(...boxes.map((b) => b.x)) - pad);
  const y = Math.max(0, Math.min(...boxes.map((b) => b.y)) - pad);
  const right = Math.min(view.width, Math.max(...boxes.map((b) => b.x + b.width)) + pad);
  const bottom = Math.min(view.height, Math.max(...boxes.map((b) => b.y + b.height)) + pad);
  return { x, y, width: right - x, height: bottom - y };
}

function npmCommand() {
  return process.platform === 'win32' ? 'npm.cmd' : 'npm';
}

/**
 * One test run: `step()` counts, `spawn()`/`browser()` register what `cleanup()` stops, `runTest()` bounds it all.
 */
class Run {
  constructor({ name, keep }) {
    this.name = name;
    this.keep = keep;
    this.passed = 0;
    this.failed = 0;
    this.procs = [];
    this.browsers = [];
    this.dirs = [];
    this.stopping = false;
    this.started = Date.now();
  }

  async step(title, fn) {
    const t0 = Date.now();
    try {
      const value = await fn();
      this.passed++;
      console.log(`  ok ${this.passed + this.failed} - ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return value;
    } catch (e) {
      if (this.stopping) throw e; // the run is already ending (timeout or signal); that failure is the one reported
      this.failed++;
      console.log(`  not ok ${this.passed + this.failed} - ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      console.log(
        `    ${String(e && e.stack ? (e instanceof AssertionError ? e.message : e.stack) : e)
          .split('\n')
          .join('\n    ')}`,
      );
      e.reported = true;
      throw e;
    }
  }

  tempDir(prefix) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /**
   * A child process whose output is kept (for waits and for the failure report). `group: true` starts it in its
   * own process group, stopped as a whole, for programs that start helpers of their own (n8n's task runner).
   */
  spawn(label, command, args, { group = false, ...options } = {}) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: group, ...options });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const proc = {
      label,
      child,
      kill: (signal) => {
        try {
          if (group) process.kill(-child.pid, signal);
          else child.kill(signal);
        } catch {
          // already gone
        }
      },
      output: () => output,
      exited: () => child.exitCode !== null || child.signalCode !== null,
    };
    child.on('error', (e) => (output += `\n[spawn error] ${e.message}\n`));
    this.procs.push(proc);
    return proc;
  }

  /** Runs a command to its end (bounded), failing with its output on a non-zero exit. */
  async exec(label, command, args, { cwd, timeoutMs = 120_000, env } = {}) {
    const proc = this.spawn(label, command, args, { cwd, env: env ?? process.env });
    const code = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve('timeout');
      }, timeoutMs);
      proc.child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    this.procs.splice(this.procs.indexOf(proc), 1);
    if (code !== 0)
      throw new Error(`${label} failed (${code === 'timeout' ? `no end after ${timeoutMs / 1000} s` : `exit ${code}`}):\n${proc.output().slice(-2000)}`);
    return proc.output();
  }

  /** `npm pack` of the package into `dest`; returns the tarball's path. */
  async pack(root, dest) {
    const out = await this.exec('npm pack', npmCommand(), ['pack', '--silent', '--pack-destination', dest], { cwd: root });
    const file = out.trim().split('\n').pop().trim();
    const tgz = path.join(dest, file);
    assert(file.endsWith('.tgz') && fs.existsSync(tgz), `npm pack did not write a tarball: ${out.slice(-500)}`);
    return tgz;
  }

  async npmInstall(dir, spec) {
    await this.exec('npm install', npmCommand(), ['install', '--no-audit', '--no-fund', '--ignore-scripts', spec], { cwd: dir, timeoutMs: 150_000 });
  }

  /**
   * The simulator CLI on a free port (a real separate process, as a user runs it). The CarData stream is switched
   * off where the CLI has one: these tests do not use it and its fixed default port may be taken.
   */
  async simulator(root, { autoApprove = false } = {}) {
    const cli = path.join(root, 'dist', 'src', 'simulator', 'cli.js');
    assert(fs.existsSync(cli), `${cli} is missing: build the package first`);
    const help = await this.exec('simulator --help', process.execPath, [cli, '--help'], { timeoutMs: 20_000 });
    const port = await freePort();
    const args = [cli, '--port', String(port)];
    if (help.includes('--no-stream')) args.push('--no-stream');
    if (autoApprove) args.push('--auto-approve');
    const proc = this.spawn(autoApprove ? 'simulator (auto-approve)' : 'simulator', process.execPath, args);
    await waitFor('the simulator to listen', () => proc.output().includes('simulator running'), 20_000, proc);
    const url = `http://127.0.0.1:${port}`;
    let from = 0;
    return {
      url,
      apiBaseUrl: url,
      authBaseUrl: `${url}/gcdm`,
      proc,
      /** The request log (paths and statuses only) since the last clearLog(). */
      log: () => proc.output().slice(from),
      clearLog: () => {
        from = proc.output().length;
      },
    };
  }

  async browser(chromium) {
    const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
    assert(fs.existsSync(executablePath), `${executablePath} is missing (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
    this.browsers.push(browser);
    return browser;
  }

  /** A screenshot of every open page, for the failure report (outside the temporary folders). */
  async failureShots() {
    const files = [];
    for (const browser of this.browsers) {
      for (const [i, page] of browser
        .contexts()
        .flatMap((c) => c.pages())
        .entries()) {
        const file = path.join(os.tmpdir(), `${this.name}-failure-${process.pid}-${i + 1}.png`);
        try {
          await Promise.race([page.screenshot({ path: file, timeout: 5000 }), sleep(6000)]);
          if (fs.existsSync(file)) files.push(file);
        } catch {
          // the page is gone
        }
      }
    }
    return files;
  }

  async cleanup() {
    for (const browser of this.browsers.splice(0)) {
      await Promise.race([browser.close().catch(() => {}), sleep(8000)]);
    }
    const procs = this.procs.splice(0);
    // --keep also keeps every process's whole output, beside the temporary folders.
    if (this.keep && this.dirs.length) for (const p of procs) fs.writeFileSync(path.join(this.dirs[0], `${p.label.replace(/\W+/g, '-')}.log`), p.output());
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map(async (p) => {
        const deadline = Date.now() + 8000;
        while (!p.exited() && Date.now() < deadline) await sleep(100);
        p.kill('SIGKILL'); // the group's helpers too, if any outlived their parent
      }),
    );
    if (!this.keep) for (const dir of this.dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    else if (this.dirs.length) console.log(`  kept: ${this.dirs.join(' ')}`);
  }
}

/** Runs `main(run)` within `timeoutMs`, always cleans up, prints `<name>: N passed, M failed` and exits. */
function runTest({ name, timeoutMs, keep }, main) {
  const run = new Run({ name, keep });
  let finishing = false;
  const finish = async (error, code) => {
    if (finishing) return;
    finishing = true;
    run.stopping = true;
    if (error) {
      if (!error.reported) {
        run.failed++;
        console.log(`  not ok - ${error instanceof AssertionError ? error.message : error.stack || error}`);
      }
      for (const p of run.procs) console.log(`  --- ${p.label} (last lines) ---\n${p.output().split('\n').slice(-25).join('\n')}`);
      for (const file of await run.failureShots()) console.log(`  screenshot: ${file}`);
    }
    await run.cleanup();
    console.log(`  total ${((Date.now() - run.started) / 1000).toFixed(1)} s`);
    console.log(`${name}: ${run.passed} passed, ${run.failed} failed`);
    process.exit(code ?? (error || run.failed ? 1 : 0));
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => void finish(new AssertionError(`stopped by ${signal}`), signal === 'SIGINT' ? 130 : 143));
  }
  const timer = setTimeout(() => void finish(new AssertionError(`the test did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
  main(run).then(
    () => {
      clearTimeout(timer);
      return finish(null);
    },
    (e) => {
      clearTimeout(timer);
      return finish(e);
    },
  );
}

module.exports = { assert, AssertionError, freePort, waitFor, waitForText, unionBox, sleep, runTest, CHROMIUM_ARGS };
