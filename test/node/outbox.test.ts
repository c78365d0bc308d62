// The outbox of messages that must reach a receiver at least once, on real files in a temporary folder: what is on
// the disk when add() resolves, what a restart reads back, removal only on acknowledgement, order, repeated ids, a
// file cut by a crash, a folder that cannot be read or written, and the limit.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_OUTBOX_LIMIT, FileOutbox } from '../../src/node';
import { failure } from '../support/failure';
import { tmpFolders } from '../support/tmp-folders';

interface Msg {
  id: string;
  payload: string;
}

const msg = (id: string, payload = `payload of ${id}`): Msg => ({ id, payload });

describe('the outbox', () => {
  const tmpFolder = tmpFolders('cardata-outbox-');
  const tmpFile = () => path.join(tmpFolder(), 'bridge-state.outbox.json');

  /** Warnings said to the user, collected. */
  const warnings = () => {
    const said: string[] = [];
    return { said, warn: (m: string) => said.push(m) };
  };
  const onDisk = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
  const open = (file: string | undefined, more: Partial<Parameters<typeof FileOutbox.open>[0]> = {}) =>
    FileOutbox.open<Msg>({ file, warn: assert.fail, ...more });

  it('starts empty when no file is there yet, and writes nothing until a message is added', async () => {
    const file = tmpFile();
    const outbox = await open(file);
    assert.deepStrictEqual([outbox.size, outbox.pending(), outbox.busy], [0, [], false]);
    await outbox.settled();
    assert.strictEqual(fs.existsSync(file), false);
  });

  it('has a message on the disk (a private file, no temporary left) when add() resolves', async () => {
    const file = tmpFile();
    const outbox = await open(file);
    await outbox.add([msg('a'), msg('b')]);
    assert.deepStrictEqual(onDisk(file), { version: 1, entries: [msg('a'), msg('b')] });
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
    assert.deepStrictEqual([outbox.size, outbox.has('a'), outbox.has('b'), outbox.has('c')], [2, true, true, false]);
  });

  it('is busy while a write is under way, and settled() waits for every queued write', async () => {
    const file = tmpFile();
    const outbox = await open(file);
    const first = outbox.add([msg('a')]);
    const second = outbox.add([msg('b')]);
    assert.strictEqual(outbox.busy, true);
    await outbox.settled();
    assert.strictEqual(outbox.busy, false);
    assert.deepStrictEqual(onDisk(file).entries, [msg('a'), msg('b')]);
    await Promise.all([first, second]);
  });

  it('a restart (a new outbox on the same file) reads back what waits, oldest first, with the same ids', async () => {
    const file = tmpFile();
    const before = await open(file);
    await before.add([msg('e1'), msg('e2')]);
    await before.add([msg('e3')]);
    const after = await open(file);
    assert.deepStrictEqual(after.pending(), [msg('e1'), msg('e2'), msg('e3')]);
    assert.deepStrictEqual([after.has('e2'), after.size], [true, 3]);
  });

  it('a message leaves only when acknowledged (remove), and that is written soon after', async () => {
    const file = tmpFile();
    const outbox = await open(file);
    await outbox.add([msg('a'), msg('b'), msg('c')]);
    outbox.remove('b');
    assert.deepStrictEqual(outbox.pending(), [msg('a'), msg('c')]);
    assert.strictEqual(outbox.has('b'), false);
    await outbox.settled();
    assert.deepStrictEqual(onDisk(file).entries, [msg('a'), msg('c')]);
    // A later acknowledgement is written too (one write for removals that come together, not one ever).
    outbox.remove('a');
    outbox.remove('c');
    await outbox.settled();
    assert.deepStrictEqual(onDisk(file).entries, []);
    outbox.remove('a');
    assert.strictEqual(outbox.busy, false, 'an id no longer waiting writes nothing');
    assert.deepStrictEqual((await open(file)).pending(), []);
  });

  it('an unknown id is no acknowledgement: nothing leaves, nothing is written', async () => {
    const file = tmpFile();
    const outbox = await open(file);
    await outbox.add([msg('a')]);
    outbox.remove('zz');
    assert.strictEqual(outbox.busy, false);
    assert.deepStrictEqual(outbox.pending(), [msg('a')]);
  });

  it('a message whose id already waits is not added twice (the first one stays), nor written again', async () => {
    const file = tmpFile();
    const outbox = await open(file);
    await outbox.add([msg('a', 'first'), msg('a', 'again')]);
    const mtime = fs.statSync(file).mtimeMs;
    const repeat = outbox.add([msg('a', 'later')]);
    assert.strictEqual(outbox.busy, false, 'nothing new: no write');
    await repeat;
    assert.deepStrictEqual(outbox.pending(), [msg('a', 'first')]);
    assert.deepStrictEqual(onDisk(file).entries, [msg('a', 'first')]);
    assert.strictEqual(fs.statSync(file).mtimeMs, mtime);
    // Once acknowledged, the same id may come again (a repeat after a crash) and waits again.
    outbox.remove('a');
    await outbox.add([msg('a', 'repeated')]);
    await outbox.settled();
    assert.deepStrictEqual(onDisk(file).entries, [msg('a', 'repeated')]);
  });

  it('pending() is a copy: changing it changes nothing that waits', async () => {
    const outbox = await open(tmpFile());
    await outbox.add([msg('a')]);
    const list = outbox.pending();
    list.pop();
    assert.deepStrictEqual(outbox.pending(), [msg('a')]);
  });

  it('reads back only messages with a string id that the caller accepts, each id once, and says how many it dropped', async () => {
    const file = tmpFile();
    const entries = [msg('a'), null, 'text', 7, [1], { payload: 'no id' }, { id: 5 }, msg('a', 'twice'), msg('bad'), msg('b')];
    fs.writeFileSync(file, JSON.stringify({ version: 1, entries }));
    const { said, warn } = warnings();
    const outbox = await open(file, { warn, accept: (e) => e.id !== 'bad' });
    assert.deepStrictEqual(outbox.pending(), [msg('a'), msg('b')]);
    assert.deepStrictEqual(said, [`the outbox ${file} held 8 messages that could not be read; dropped`]);
  });

  it('without an accept check every message with an id is read back; a single bad one is said as one message', async () => {
    const file = tmpFile();
    fs.writeFileSync(file, JSON.stringify({ version: 1, entries: [msg('a'), { id: null }, msg('b')] }));
    const { said, warn } = warnings();
    const outbox = await open(file, { warn });
    assert.deepStrictEqual(outbox.pending(), [msg('a'), msg('b')]);
    assert.deepStrictEqual(said, [`the outbox ${file} held 1 message that could not be read; dropped`]);
  });

  it('a clean file is read back without a word', async () => {
    const file = tmpFile();
    fs.writeFileSync(file, JSON.stringify({ version: 1, entries: [msg('a')] }));
    const { said, warn } = warnings();
    await open(file, { warn, accept: () => true });
    assert.deepStrictEqual(said, []);
  });

  describe('a file that cannot be read as an outbox is kept aside, said once, and the outbox starts empty', () => {
    /** What JSON.parse says of a text (the words depend on the Node.js version). */
    const parseError = (text: string) => {
      try {
        JSON.parse(text);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('the text is JSON');
    };
    const cut = '{"version":1,"entries":[{"id":"a","payload":"x"},{"id":"b","pay';
    const cases: [string, string, string][] = [
      ['cut by a crash', cut, parseError(cut)],
      ['empty', '', parseError('')],
      ['of another version', JSON.stringify({ version: 2, entries: [msg('a')] }), 'version 2'],
      ['without a version', JSON.stringify({ entries: [msg('a')] }), 'version undefined'],
      ['null', 'null', 'version undefined'],
      ['without entries', JSON.stringify({ version: 1 }), 'no entries'],
      ['with entries that are no list', JSON.stringify({ version: 1, entries: { id: 'a' } }), 'no entries'],
    ];
    for (const [what, text, problem] of cases) {
      it(what, async () => {
        const file = tmpFile();
        fs.writeFileSync(file, text);
        const { said, warn } = warnings();
        const outbox = await open(file, { warn });
        assert.deepStrictEqual(outbox.pending(), []);
        const names = fs.readdirSync(path.dirname(file));
        assert.strictEqual(names.length, 1, names.join());
        assert.match(names[0], /^bridge-state\.outbox\.json\.broken-\d{8}T\d{6}$/);
        const aside = path.join(path.dirname(file), names[0]);
        assert.strictEqual(fs.readFileSync(aside, 'utf8'), text, 'the broken file is kept as it was');
        assert.strictEqual(said.length, 1);
        assert.ok(said[0].startsWith(`the outbox ${file} could not be read (`), said[0]);
        assert.ok(said[0].includes(problem), said[0]);
        assert.ok(said[0].endsWith(`); it was kept as ${aside}`), said[0]);
        // What comes next is written to a new file as usual.
        await outbox.add([msg('c')]);
        assert.deepStrictEqual(onDisk(file).entries, [msg('c')]);
      });
    }
  });

  it('a path that cannot be read (a folder in its place) is refused with the reason, not taken for an empty outbox', async () => {
    const file = tmpFile();
    fs.mkdirSync(file);
    const e = await failure(open(file));
    assert.ok(e.message.startsWith(`cannot read ${file}: `), e.message);
    assert.match(e.message, /EISDIR/);
    assert.strictEqual(fs.statSync(file).isDirectory(), true, 'nothing was moved');
  });

  it('when the folder cannot be written, add() rejects and the messages still wait; a failed removal is said once', async () => {
    const dir = path.join(tmpFolder(), 'state');
    const file = path.join(dir, 'outbox.json');
    const { said, warn } = warnings();
    const outbox = await open(file, { warn });
    await outbox.add([msg('a'), msg('b'), msg('c')]);
    // The folder is replaced by a plain file: nothing can be written beneath it (also for root, unlike a mode).
    fs.rmSync(dir, { recursive: true });
    fs.writeFileSync(dir, 'not a folder');
    const e = await failure(outbox.add([msg('d')]));
    assert.match(e.code, /^(EEXIST|ENOTDIR)$/);
    assert.deepStrictEqual(
      outbox.pending().map((m) => m.id),
      ['a', 'b', 'c', 'd'],
    );
    assert.deepStrictEqual(said, [], 'a failed add is for its caller to say');
    outbox.remove('a');
    await outbox.settled();
    outbox.remove('b');
    await outbox.settled();
    assert.strictEqual(said.length, 1, said.join('\n'));
    assert.ok(said[0].startsWith(`cannot write the outbox ${file}: `), said[0]);
    assert.ok(said[0].includes(e.code), said[0]);
    // Once the folder is back, the next write holds everything that waits.
    fs.rmSync(dir);
    await outbox.add([msg('e')]);
    assert.deepStrictEqual(
      onDisk(file).entries.map((m) => m.id),
      ['c', 'd', 'e'],
    );
  });

  it('without a file it keeps the messages in memory only and writes nothing', async () => {
    const dir = tmpFolder();
    const outbox = await open(undefined);
    await outbox.add([msg('a'), msg('b')]);
    assert.strictEqual(outbox.busy, false);
    outbox.remove('a');
    await outbox.settled();
    assert.deepStrictEqual(outbox.pending(), [msg('b')]);
    assert.deepStrictEqual(fs.readdirSync(dir), []);
  });

  describe('its limit', () => {
    it('keeps the newest `limit` messages, drops the oldest, and says so once until it has been emptied', async () => {
      const file = tmpFile();
      const { said, warn } = warnings();
      const outbox = await open(file, { warn, limit: 3 });
      await outbox.add([msg('1'), msg('2'), msg('3')]);
      assert.deepStrictEqual(said, [], 'exactly at the limit: nothing dropped');
      await outbox.add([msg('4'), msg('5')]);
      assert.deepStrictEqual(
        outbox.pending().map((m) => m.id),
        ['3', '4', '5'],
      );
      assert.deepStrictEqual([outbox.has('1'), outbox.has('2'), outbox.size], [false, false, 3]);
      assert.deepStrictEqual(
        onDisk(file).entries.map((m) => m.id),
        ['3', '4', '5'],
      );
      const overflow = `more than 3 messages wait for delivery in ${file}; the oldest are dropped until the receiver takes them again`;
      assert.deepStrictEqual(said, [overflow]);
      // Some taken, but not all: a new overflow is the same problem, not said again.
      outbox.remove('3');
      await outbox.add([msg('6'), msg('7')]);
      assert.deepStrictEqual(said, [overflow]);
      // Emptied: the receiver took everything; a new overflow is said again.
      for (const m of outbox.pending()) outbox.remove(m.id);
      await outbox.add([msg('8'), msg('9'), msg('10'), msg('11')]);
      assert.deepStrictEqual(said, [overflow, overflow]);
      await outbox.settled();
      assert.deepStrictEqual(
        onDisk(file).entries.map((m) => m.id),
        ['9', '10', '11'],
      );
    });

    it('a file of a larger limit is cut to the limit when read back (newest kept)', async () => {
      const file = tmpFile();
      fs.writeFileSync(file, JSON.stringify({ version: 1, entries: ['a', 'b', 'c', 'd'].map((id) => msg(id)) }));
      const { said, warn } = warnings();
      const outbox = await open(file, { warn, limit: 2 });
      assert.deepStrictEqual(
        outbox.pending().map((m) => m.id),
        ['c', 'd'],
      );
      assert.deepStrictEqual(said, [`more than 2 messages wait for delivery in ${file}; the oldest are dropped until the receiver takes them again`]);
    });

    it(`is ${DEFAULT_OUTBOX_LIMIT} by default, and at least one; in memory the warning names no file`, async () => {
      assert.strictEqual(DEFAULT_OUTBOX_LIMIT, 5000);
      const { said, warn } = warnings();
      const outbox = await open(undefined, { warn });
      const many = Array.from({ length: DEFAULT_OUTBOX_LIMIT + 1 }, (_, i) => msg(`m${i}`));
      await outbox.add(many.slice(0, DEFAULT_OUTBOX_LIMIT));
      assert.deepStrictEqual([outbox.size, said], [DEFAULT_OUTBOX_LIMIT, []]);
      await outbox.add(many.slice(DEFAULT_OUTBOX_LIMIT));
      assert.deepStrictEqual([outbox.size, outbox.has('m0'), outbox.has('m1')], [DEFAULT_OUTBOX_LIMIT, false, true]);
      assert.deepStrictEqual(said, [
        `more than ${DEFAULT_OUTBOX_LIMIT} messages wait for delivery; the oldest are dropped until the receiver takes them again`,
      ]);
      const one = await open(undefined, { warn: () => undefined, limit: 0 });
      await one.add([msg('x'), msg('y')]);
      assert.deepStrictEqual(one.pending(), [msg('y')]);
    });
  });
});
