// The Node-RED editor in every language the package ships (src/node-red/locales/<lang>/): each translation has the
// English message catalog's keys, no more and no fewer, none empty, with the same placeholders (__count__); and each
// node's help has the same sections and the same message properties (their names and types are code: never translated).
// Every message key the runtime code looks up (RED._) is in the catalog of its node, in every language.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import nodeRedPackage from '../../packages/node-red-contrib-bmw-cardata/package.json';

const LOCALES = path.join(__dirname, '../../src/node-red/locales');
const ENGLISH = 'en-US';
const NODES = Object.keys(nodeRedPackage['node-red'].nodes);
const LANGUAGES = fs.readdirSync(LOCALES).filter((l) => l !== ENGLISH && fs.statSync(path.join(LOCALES, l)).isDirectory());

const read = (lang, file) => fs.readFileSync(path.join(LOCALES, lang, file), 'utf8');

/** Every leaf of a catalog as [dotted key, value]. */
function leaves(obj, prefix = ''): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]) => (v !== null && typeof v === 'object' ? leaves(v, `${prefix}${k}.`) : [[prefix + k, v]]));
}

/** What one catalog lacks that the other has, both ways, as sentences; empty when the keys agree. */
function keyDifferences(english, other, lang) {
  const en = new Map(leaves(english));
  const tr = new Map(leaves(other));
  return [
    ...[...en.keys()].filter((k) => !tr.has(k)).map((k) => `${lang} lacks ${k}`),
    ...[...tr.keys()].filter((k) => !en.has(k)).map((k) => `${lang} has ${k}, which ${ENGLISH} lacks`),
  ];
}

/** Where a key the runtime looks up lives: the action nodes' shared messages, or the catalog of the node it names. */
const SHARED = 'bmw-cardata-action';
const catalogOf = (key) => (key.split('.')[0] === SHARED ? 'shared-messages.json' : `${key.split('.')[0]}.json`);

/**
 * Every RED._ call in the Node-RED sources as { file, key }; a call whose key is not a literal text is reported with
 * key null (a key made up at run time cannot be checked).
 */
function keysInCode(dir = path.join(__dirname, '../../src/node-red')) {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) =>
      [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/\bRED\._\(\s*(?:'([^'\\]+)'|([^\s]))/g)].map((m) => ({ file, key: m[1] ?? null })),
    );
}

/** The keys used in code that a catalog of `lang` lacks, as sentences; `catalogs` maps a file name to its catalog. */
function missingInCatalogs(uses, catalogs, lang) {
  const problems = [];
  for (const { file, key } of uses) {
    if (key === null) {
      problems.push(`${file}: RED._ with a key that is not a literal text`);
      continue;
    }
    // A node's runtime sees its own catalog (and the shared messages the build adds to it), no other node's. The
    // account node's parts (account-*.ts: its login sessions, its admin routes) look up with the account node's RED.
    const node = file.startsWith('account-') ? 'bmw-cardata-account' : file.replace(/\.ts$/, '');
    const top = key.split('.')[0];
    if (top !== SHARED && top !== node) problems.push(`${file}: ${key} is another node's message`);
    const catalog = new Map(leaves(catalogs[catalogOf(key)] ?? {}));
    // i18next picks key_one, key_other... by the count it is given.
    const found =
      catalog.has(key) || [...catalog.keys()].some((k) => k.startsWith(`${key}_`) && /^(zero|one|two|few|many|other)$/.test(k.slice(key.length + 1)));
    if (!found) problems.push(`${lang}/${catalogOf(key)} lacks ${key} (${file})`);
  }
  return problems;
}

const placeholders = (text) => (String(text).match(/__\w+__/g) || []).sort();

/** A help file with the shared parts of its language put in (parts in parts too), as the build does (scripts/copy-assets.js). */
function builtHelp(lang, file) {
  const parts = new Map(
    [...read(lang, 'shared-help.html').matchAll(/<template data-shared-help="([\w-]+)">\n([\s\S]*?)\n<\/template>/g)].map((m) => [m[1], m[2]]),
  );
  const withParts = (text) =>
    text.replace(/<!-- shared: ([\w-]+) -->/g, (_, name) => {
      assert.ok(parts.has(name), `${lang}/${file}: no shared help part "${name}"`);
      return withParts(parts.get(name));
    });
  return withParts(read(lang, file));
}

/**
 * The outline of a help text: its node, the number of sections (h3) and lists (dl), and each property (dt): its name
 * and type, or "(text)" where the dt is a phrase rather than property names (e.g. "any message").
 */
function outline(html) {
  const properties = [...html.matchAll(/<dt\b[^>]*>([\s\S]*?)<\/dt>/g)].map((m) => {
    const type = /<span class="property-type">([\s\S]*?)<\/span>/.exec(m[1]);
    const name = m[1]
      .replace(/<span class="property-type">[\s\S]*?<\/span>/, '')
      .replace(/<[^>]+>/g, '')
      .trim();
    if (!/^[\w.$]+(,\s*[\w.$]+)*$/.test(name)) return '(text)';
    return type ? `${name} <${type[1].trim()}>` : name;
  });
  return {
    node: (/data-help-name="([^"]+)"/.exec(html) || [])[1],
    sections: (html.match(/<h3>/g) || []).length,
    lists: (html.match(/<dl\b/g) || []).length,
    properties,
  };
}

describe('Node-RED editor translations', () => {
  it('ships German besides English', () => {
    assert.ok(LANGUAGES.includes('de'), `languages: ${LANGUAGES.join(', ')}`);
  });

  it('finds a missing key on either side', () => {
    const english = { a: { label: { x: 'X', y: 'Y' } } };
    assert.deepStrictEqual(keyDifferences(english, { a: { label: { x: 'X' } } }, 'de'), ['de lacks a.label.y']);
    assert.deepStrictEqual(keyDifferences({ a: { label: { x: 'X' } } }, english, 'de'), [`de has a.label.y, which ${ENGLISH} lacks`]);
    assert.deepStrictEqual(keyDifferences(english, { a: { label: 'X' } }, 'de'), [
      'de lacks a.label.x',
      'de lacks a.label.y',
      `de has a.label, which ${ENGLISH} lacks`,
    ]);
  });

  it('finds a key the code uses that a catalog lacks, and a key made up at run time', () => {
    const catalogs = {
      'bmw-cardata-x.json': { 'bmw-cardata-x': { status: { a: 'A', n_one: 'one', n_other: 'more' } } },
      'shared-messages.json': { [SHARED]: { status: { b: 'B' } } },
    };
    const uses = (keys) => keys.map((key) => ({ file: 'bmw-cardata-x.ts', key }));
    assert.deepStrictEqual(missingInCatalogs(uses(['bmw-cardata-x.status.a', 'bmw-cardata-x.status.n', `${SHARED}.status.b`]), catalogs, 'de'), []);
    assert.deepStrictEqual(missingInCatalogs(uses(['bmw-cardata-x.status.c', `${SHARED}.status.a`]), catalogs, 'de'), [
      'de/bmw-cardata-x.json lacks bmw-cardata-x.status.c (bmw-cardata-x.ts)',
      `de/shared-messages.json lacks ${SHARED}.status.a (bmw-cardata-x.ts)`,
    ]);
    assert.deepStrictEqual(
      missingInCatalogs(
        [
          { file: 'bmw-cardata-y.ts', key: 'bmw-cardata-x.status.a' },
          { file: 'bmw-cardata-y.ts', key: null },
        ],
        catalogs,
        'de',
      ),
      ["bmw-cardata-y.ts: bmw-cardata-x.status.a is another node's message", 'bmw-cardata-y.ts: RED._ with a key that is not a literal text'],
    );
    assert.deepStrictEqual(missingInCatalogs([{ file: 'account-routes.ts', key: 'bmw-cardata-x.status.a' }], catalogs, 'de'), [
      "account-routes.ts: bmw-cardata-x.status.a is another node's message",
    ]);
  });

  it('the Node-RED sources look their statuses and errors up by key (RED._)', () => {
    const uses = keysInCode();
    assert.ok(uses.length >= 50, `${uses.length} RED._ calls`);
    for (const file of ['action.ts', 'bmw-cardata-stream.ts', 'bmw-cardata-account.ts', 'bmw-cardata-vehicles.ts']) {
      assert.ok(
        uses.some((u) => u.file === file),
        `${file} uses no RED._`,
      );
    }
  });

  for (const lang of [ENGLISH, ...LANGUAGES]) {
    it(`${lang}: every message key the Node-RED code uses is in the catalog its node gets`, () => {
      const catalogs = Object.fromEntries(
        fs
          .readdirSync(path.join(LOCALES, lang))
          .filter((f) => f.endsWith('.json'))
          .map((f) => [f, JSON.parse(read(lang, f))]),
      );
      assert.deepStrictEqual(missingInCatalogs(keysInCode(), catalogs, lang), []);
    });
  }

  for (const lang of LANGUAGES) {
    describe(lang, () => {
      it("shared-messages.json (the action nodes' statuses) has exactly the English keys, none empty, with the same placeholders", () => {
        const english = JSON.parse(read(ENGLISH, 'shared-messages.json'));
        const other = JSON.parse(read(lang, 'shared-messages.json'));
        assert.deepStrictEqual(keyDifferences(english, other, lang), []);
        const en = new Map(leaves(english));
        for (const [key, value] of leaves(other)) {
          assert.ok(typeof value === 'string' && value.trim() !== '', `${lang}/shared-messages.json ${key} is empty`);
          assert.deepStrictEqual(placeholders(value), placeholders(en.get(key)), `${lang}/shared-messages.json ${key}: placeholders`);
        }
      });

      for (const node of NODES) {
        it(`${node}: the message catalog has exactly the English keys, none empty, with the same placeholders`, () => {
          const file = `${node}.json`;
          assert.ok(fs.existsSync(path.join(LOCALES, lang, file)), `${lang}/${file} is missing`);
          const english = JSON.parse(read(ENGLISH, file));
          const other = JSON.parse(read(lang, file));
          assert.deepStrictEqual(keyDifferences(english, other, lang), []);
          const en = new Map(leaves(english));
          for (const [key, value] of leaves(other)) {
            assert.ok(typeof value === 'string' && value.trim() !== '', `${lang}/${file} ${key} is empty`);
            assert.deepStrictEqual(placeholders(value), placeholders(en.get(key)), `${lang}/${file} ${key}: placeholders`);
          }
        });

        it(`${node}: the help has the English sections and message properties`, () => {
          const file = `${node}.html`;
          assert.ok(fs.existsSync(path.join(LOCALES, lang, file)), `${lang}/${file} is missing`);
          const english = outline(builtHelp(ENGLISH, file));
          const other = outline(builtHelp(lang, file));
          assert.strictEqual(english.node, node);
          assert.ok(english.sections > 0, `${ENGLISH}/${file} has no sections`);
          assert.deepStrictEqual(other, english);
        });
      }

      it('shared-help.html has the English parts', () => {
        const names = (lang_) => [...read(lang_, 'shared-help.html').matchAll(/data-shared-help="([\w-]+)"/g)].map((m) => m[1]);
        assert.deepStrictEqual(names(lang), names(ENGLISH));
      });

      it('has no file English lacks', () => {
        assert.deepStrictEqual(
          fs.readdirSync(path.join(LOCALES, lang)).filter((f) => !fs.existsSync(path.join(LOCALES, ENGLISH, f))),
          [],
        );
      });
    });
  }
});
