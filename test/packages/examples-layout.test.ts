// Layout of every example (examples/*.json for Node-RED, n8n-examples/*.json for n8n): nodes far enough apart that
// their labels do not touch, every wire going to the right (no wire looping back), each flow within 1200 px.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '../..');
const MAX_WIDTH = 1200;
/** Room between two boxes on one row, for the ports and a short wire. */
const MIN_GAP = 30;

// Node-RED sizes a node by its label: 14 px text (about 7.5 px a character, wide enough for its font), 50 px for the
// icon and the padding, rounded up to 20 px, at least 100 px; 30 px high. x and y are the centre.
const CHAR_PX = 7.5;
// A node without a name is labelled "BMW <its palette label>" (the editor's shared label, from the node's catalog).
function defaultLabels() {
  const labels = {};
  const catalogs = path.join(ROOT, 'src/node-red/locales/en-US');
  for (const file of fs.readdirSync(catalogs).filter((f) => f.endsWith('.json'))) {
    const type = file.replace(/\.json$/, '');
    const palette = JSON.parse(fs.readFileSync(path.join(catalogs, file), 'utf8'))[type]?.paletteLabel;
    if (palette) labels[type] = `BMW ${palette}`;
  }
  return labels;
}
const DEFAULT_LABELS = defaultLabels();

function redBox(n) {
  const label = n.name || DEFAULT_LABELS[n.type] || n.type;
  const w = Math.max(100, 20 * Math.ceil((label.length * CHAR_PX + 50) / 20));
  return { id: n.id, label, left: n.x - w / 2, right: n.x + w / 2, top: n.y - 15, bottom: n.y + 15 };
}

// n8n draws a 100 px square (position is its top-left corner) with the name beneath, wrapped into at most two lines
// of about 180 px: neighbours on a row need 220 px between their corners when a name needs more than one line.
function n8nBox(n) {
  const [x, y] = n.position;
  const textPx = Math.min(n.name.length * 7, 2 * 180) / (n.name.length * 7 > 180 ? 2 : 1);
  const w = Math.max(100, textPx);
  const cx = x + 50;
  return { id: n.name, label: n.name, left: cx - w / 2, right: cx + w / 2, top: y, bottom: y + 100 + 40 };
}

function overlapsVertically(a, b) {
  return a.top < b.bottom + 10 && b.top < a.bottom + 10;
}

/** What breaks the rules in one flow: boxes and wires (from, to) between box ids. */
function problems(boxes, wires) {
  const out = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      if (!overlapsVertically(a, b)) continue;
      const gap = Math.max(b.left - a.right, a.left - b.right);
      if (gap < MIN_GAP) out.push(`"${a.label}" and "${b.label}" are ${Math.round(gap)} px apart (at least ${MIN_GAP})`);
    }
  }
  const byId = new Map<string, any>(boxes.map((b) => [b.id, b]));
  for (const [from, to] of wires) {
    const [a, b] = [byId.get(from), byId.get(to)];
    // The wire leaves the source's right edge and enters the target's left edge: a target further left loops back.
    if (a && b && b.left - a.right < 10) out.push(`the wire from "${a.label}" to "${b.label}" loops back (${Math.round(b.left - a.right)} px)`);
  }
  const width = Math.max(...boxes.map((b) => b.right)) - Math.min(...boxes.map((b) => b.left));
  if (width > MAX_WIDTH) out.push(`${Math.round(width)} px wide (at most ${MAX_WIDTH})`);
  return out;
}

function redProblems(flow) {
  const nodes = flow.filter((n) => typeof n.x === 'number' && typeof n.y === 'number');
  const wires = nodes.flatMap((n) => (n.wires ?? []).flatMap((out) => out.map((to) => [n.id, to])));
  return problems(nodes.map(redBox), wires);
}

function n8nProblems(workflow) {
  const wires = Object.entries<any>(workflow.connections).flatMap(([from, c]) => (c.main ?? []).flatMap((out) => (out ?? []).map((link) => [from, link.node])));
  return problems(workflow.nodes.map(n8nBox), wires);
}

const read = (dir, f) => JSON.parse(fs.readFileSync(path.join(ROOT, dir, f), 'utf8'));

describe('example layout', function () {
  for (const f of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x.endsWith('.json'))) {
    it(`Node-RED ${f}`, () => assert.deepStrictEqual(redProblems(read('examples', f)), []));
  }
  for (const f of fs.readdirSync(path.join(ROOT, 'n8n-examples')).filter((x) => x.endsWith('.json'))) {
    it(`n8n ${f}`, () => assert.deepStrictEqual(n8nProblems(read('n8n-examples', f)), []));
  }

  it('finds labels that touch, a wire looping back and a flow too wide', () => {
    const node = (id, name, x, y, wires = []) => ({ id, type: 'change', name, x, y, wires });
    assert.deepStrictEqual(redProblems([node('a', 'a long label of a node', 100, 100, [['b']]), node('b', 'short', 270, 100)]), [
      '"a long label of a node" and "short" are 10 px apart (at least 30)',
    ]);
    assert.deepStrictEqual(redProblems([node('a', 'first', 400, 100, [['b']]), node('b', 'second', 200, 160)]), ['the wire from "first" to "second" loops back (-300 px)']);
    assert.deepStrictEqual(redProblems([node('a', 'one', 100, 100), node('b', 'two', 1300, 100)]), ['1300 px wide (at most 1200)']);
  });
});
