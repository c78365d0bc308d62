// The command line speaks the user's language: German when LC_ALL, LC_MESSAGES or LANG (the first one set) starts
// with de, else English; one message table per language, with the same keys. What it prints for scripts (JSON, CSV)
// and the exit codes are the same in both.
import assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFile } from 'child_process';
import { startSimulator, SIM_VINS } from '../../src/simulator';
import { MESSAGES, languageOf } from '../../src/cli/messages';

const CLI = path.join(__dirname, '../../dist/src/cli/main.js');

/** The real command line in its own process, with only the given locale variables set. */
function runCli(args, locale) {
  const env = { ...process.env };
  for (const name of ['LANGUAGE', 'LC_ALL', 'LC_MESSAGES', 'LANG']) delete env[name];
  return new Promise<{ code: number | string | null | undefined; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...env, ...locale }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** The shape of a message table: each key with its kind (text, function and its number of values, or table). */
function shape(table) {
  return Object.fromEntries(
    Object.entries(table).map(([key, value]) => {
      if (typeof value === 'function') return [key, `function/${value.length}`];
      if (Array.isArray(value)) return [key, `list/${value.length}`];
      if (value && typeof value === 'object') return [key, shape(value)];
      return [key, typeof value];
    }),
  );
}

const options = (text) => [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort();

describe('command line in German and English', function () {
  this.timeout(60_000);

  it('has one table per language with the same keys, none empty', () => {
    assert.deepStrictEqual(Object.keys(MESSAGES).sort(), ['de', 'en']);
    assert.deepStrictEqual(shape(MESSAGES.de), shape(MESSAGES.en));
    const texts = (table) =>
      Object.values(table).flatMap((v) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v : v && typeof v === 'object' ? texts(v) : []));
    for (const text of texts(MESSAGES.de)) assert.ok(text.trim() !== '', 'an empty German text');
  });

  it('a German help names the same options as the English one (they are code)', () => {
    for (const command of Object.keys(MESSAGES.en.commandHelp)) {
      assert.deepStrictEqual(options(MESSAGES.de.commandHelp[command]), options(MESSAGES.en.commandHelp[command]), command);
    }
    assert.deepStrictEqual(options(MESSAGES.de.globalHelp('')), options(MESSAGES.en.globalHelp('')));
  });

  it('picks the language as gettext does: LC_ALL, then LC_MESSAGES, then LANG; German for de*', () => {
    assert.strictEqual(languageOf({ LANG: 'de_DE.UTF-8' }), 'de');
    assert.strictEqual(languageOf({ LANG: 'de_AT' }), 'de');
    assert.strictEqual(languageOf({ LANG: 'de' }), 'de');
    assert.strictEqual(languageOf({ LANG: 'C' }), 'en');
    assert.strictEqual(languageOf({ LANG: 'en_GB.UTF-8' }), 'en');
    assert.strictEqual(languageOf({ LANG: 'dex' }), 'en');
    assert.strictEqual(languageOf({}), 'en');
    assert.strictEqual(languageOf({ LC_ALL: 'C', LANG: 'de_DE.UTF-8' }), 'en');
    assert.strictEqual(languageOf({ LC_ALL: '', LC_MESSAGES: 'de_CH.UTF-8', LANG: 'C' }), 'de');
  });

  describe('the real command line against the simulator', () => {
    let sim;
    let dir;
    before(async () => {
      sim = await startSimulator({ autoApprove: true, pollIntervalSec: 0, dailyQuota: 1000 });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cardata-cli-lang-'));
    });
    after(async () => {
      await sim.close();
    });
    const urls = (config) => ['--base-url', sim.apiBaseUrl, '--auth-url', sim.authBaseUrl, '--config', config];

    for (const [locale, words] of [
      [
        { LANG: 'de_DE.UTF-8' },
        {
          help: /^Aufruf: bmw-cardata <Befehl>/,
          login: /Öffnen Sie diesen Link[\s\S]*Angemeldet\. Tokens gespeichert in/,
          quota: /Kontingent: heute \d+\/50 Aufrufe verbraucht/,
          usage: /charging-history: --last 24h\|7d\|30d\|this-month\|last-month angeben oder --from DATUM und --to DATUM/,
          notLoggedIn: /nicht angemeldet \(keine Tokens in .*\)\nHinweis: Führen Sie aus: bmw-cardata login/,
        },
      ],
      [
        { LANG: 'C' },
        {
          help: /^Usage: bmw-cardata <command>/,
          login: /Open this link, log in with your BMW ID and approve[\s\S]*Logged in\. Tokens saved to/,
          quota: /quota: \d+\/50 calls used today/,
          usage: /charging-history: give --last 24h\|7d\|30d\|this-month\|last-month, or --from DATE and --to DATE/,
          notLoggedIn: /not logged in \(no tokens in .*\)\nhint: Run: bmw-cardata login/,
        },
      ],
    ]) {
      it(`LANG=${locale.LANG}: help, login, quota line and errors in ${locale.LANG === 'C' ? 'English' : 'German'}; the same JSON and exit codes`, async () => {
        const config = path.join(dir, `${locale.LANG}.json`);
        const help = await runCli(['--help'], locale);
        assert.strictEqual(help.code, 0);
        assert.match(help.stdout, words.help);
        const login = await runCli(['login', '--client-id', 'cli-lang-client', ...urls(config)], locale);
        assert.strictEqual(login.code, 0, login.stderr);
        assert.match(login.stderr, words.login);
        const vehicles = await runCli(['vehicles', ...urls(config)], locale);
        assert.strictEqual(vehicles.code, 0, vehicles.stderr);
        assert.deepStrictEqual(
          JSON.parse(vehicles.stdout)
            .map((v) => v.vin)
            .sort(),
          [SIM_VINS.bev, SIM_VINS.phev, SIM_VINS.secondary].sort(),
        );
        assert.match(vehicles.stderr, words.quota);
        const usage = await runCli(['charging-history', '--vin', SIM_VINS.bev, ...urls(config)], locale);
        assert.strictEqual(usage.code, 2);
        assert.match(usage.stderr, words.usage);
        const loggedOut = await runCli(['vehicles', ...urls(path.join(dir, 'nobody.json'))], locale);
        assert.strictEqual(loggedOut.code, 3);
        assert.match(loggedOut.stderr, words.notLoggedIn);
      });
    }
  });
});
