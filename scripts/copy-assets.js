'use strict';
// tsc compiles only TypeScript: copy the editor files (.html), message catalogs and the icons into dist/.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
for (const dir of ['nodes', 'credentials', 'icons', 'src/node-red']) {
  const from = path.join(root, dir);
  if (!fs.existsSync(from)) continue;
  fs.cpSync(from, path.join(root, 'dist', dir), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });
}
// Node-RED help: each language's shared-help.html holds the parts every node's help repeats; a help file names
// one with the comment `<!-- shared: name -->`, and the build puts the part there (a part can name parts too).
function withParts(text, parts, where, depth = 0) {
  return text.replace(/^( *)<!-- shared: ([\w-]+) -->$/gm, (_, indent, name) => {
    if (!parts.has(name)) throw new Error(`${where}: no shared help part "${name}" in shared-help.html`);
    if (depth > 3) throw new Error(`${where}: shared help part "${name}" names itself`);
    return withParts(parts.get(name), parts, where, depth + 1)
      .split('\n')
      .map((line) => indent + line)
      .join('\n');
  });
}
const locales = path.join(root, 'dist', 'src', 'node-red', 'locales');
for (const lang of fs.existsSync(locales) ? fs.readdirSync(locales) : []) {
  const sharedFile = path.join(locales, lang, 'shared-help.html');
  if (!fs.existsSync(sharedFile)) continue;
  const parts = new Map(
    [...fs.readFileSync(sharedFile, 'utf8').matchAll(/<template data-shared-help="([\w-]+)">\n([\s\S]*?)\n<\/template>/g)].map((m) => [m[1], m[2]]),
  );
  fs.rmSync(sharedFile);
  for (const file of fs.readdirSync(path.join(locales, lang)).filter((f) => f.endsWith('.html'))) {
    const help = path.join(locales, lang, file);
    fs.writeFileSync(help, withParts(fs.readFileSync(help, 'utf8'), parts, `${lang}/${file}`));
  }
}
// Node-RED messages: each language's shared-messages.json holds what every node's runtime says alike (the action
// nodes' statuses); the build adds it to each node's message catalog, since Node-RED gives a node only its own.
for (const lang of fs.existsSync(locales) ? fs.readdirSync(locales) : []) {
  const sharedFile = path.join(locales, lang, 'shared-messages.json');
  if (!fs.existsSync(sharedFile)) continue;
  const shared = JSON.parse(fs.readFileSync(sharedFile, 'utf8'));
  fs.rmSync(sharedFile);
  for (const file of fs.readdirSync(path.join(locales, lang)).filter((f) => f.endsWith('.json'))) {
    const catalog = path.join(locales, lang, file);
    const own = JSON.parse(fs.readFileSync(catalog, 'utf8'));
    const clash = Object.keys(shared).filter((key) => key in own);
    if (clash.length) throw new Error(`${lang}/${file}: ${clash.join(', ')} is in shared-messages.json too`);
    fs.writeFileSync(catalog, `${JSON.stringify({ ...own, ...shared }, null, 4)}\n`);
  }
}
// The build's time stamp: the sandbox rebuilds only when a source file is newer.
fs.writeFileSync(path.join(root, 'dist', '.built'), new Date().toISOString());
