'use strict';
// The Node-RED editor in every language the package ships (src/node-red/locales/<lang>/): each translation has the
// English message catalog's keys, no more and no fewer, none empty, with the same placeholders (__count__); and each
// node's help has the same sections and the same message properties (their names and types are code: never translated).
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const LOCALES = path.join(__dirname, '../src/node-red/locales');
const ENGLISH = 'en-US';
const NODES = Object.keys(require('../packages/node-red-contrib-bmw-cardata/package.json')['node-red'].nodes);
const LANGUAGES = fs.readdirSync(LOCALES).filter((l) => l !== ENGLISH && fs.statSync(path.join(LOCALES, l)).isDirectory());

const read = (lang, file) => fs.readFileSync(path.join(LOCALES, lang, file), 'utf8');

/** Every leaf of a catalog as [dotted key, value]. */
function leaves(obj, prefix = '') {
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

const placeholders = (text) => (String(text).match(/__\w+__/g) || []).sort();

/** A help file with the shared parts of its language put in, as the build does (scripts/copy-assets.js). */
function builtHelp(lang, file) {
  const parts = new Map([...read(lang, 'shared-help.html').matchAll(/<template data-shared-help="([\w-]+)">\n([\s\S]*?)\n<\/template>/g)].map((m) => [m[1], m[2]]));
  return read(lang, file).replace(/<!-- shared: ([\w-]+) -->/g, (_, name) => {
    assert.ok(parts.has(name), `${lang}/${file}: no shared help part "${name}"`);
    return parts.get(name);
  });
}

/**
 * The outline of a help text: its node, the number of sections (h3) and lists (dl), and each property (dt): its name
 * and type, or "(text)" where the dt is a phrase rather than property names (e.g. "any message").
 */
function outline(html) {
  const properties = [...html.matchAll(/<dt\b[^>]*>([\s\S]*?)<\/dt>/g)].map((m) => {
    const type = /<span class="property-type">([\s\S]*?)<\/span>/.exec(m[1]);
    const name = m[1].replace(/<span class="property-type">[\s\S]*?<\/span>/, '').replace(/<[^>]+>/g, '').trim();
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
    assert.deepStrictEqual(keyDifferences(english, { a: { label: 'X' } }, 'de'), ['de lacks a.label.x', 'de lacks a.label.y', `de has a.label, which ${ENGLISH} lacks`]);
  });

  for (const lang of LANGUAGES) {
    describe(lang, () => {
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
        assert.deepStrictEqual(fs.readdirSync(path.join(LOCALES, lang)).filter((f) => !fs.existsSync(path.join(LOCALES, ENGLISH, f))), []);
      });
    });
  }
});
