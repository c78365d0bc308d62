// Private files on real folders: written whole through a temporary file (mode 0600, nothing left beside it, with
// or without a flush to the disk), the check that a file can be written, the leftovers of crashed writers removed,
// the storage error that names the folder, and what a saved file's text or version says is wrong with it.
import assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import {
  checkWritable,
  fileError,
  processAlive,
  removeLeftovers,
  savedObject,
  versionProblem,
  writePrivateJson,
  writePrivateText,
} from '../../src/node/private-file';
import { CarDataError } from '../../src/core/errors';
import { failure } from '../support/failure';
import { tmpFolders } from '../support/tmp-folders';

/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

describe('private files', () => {
  const tmpFolder = tmpFolders('cardata-private-');
  const mode = (file: string) => fs.statSync(file).mode & 0o777;

  describe('writePrivateJson / writePrivateText', () => {
    for (const sync of [false, true]) {
      it(`writes the whole JSON (indented, one newline at the end), mode 0600, no temporary left${sync ? ', flushed to the disk' : ''}`, async () => {
        const dir = tmpFolder();
        const file = path.join(dir, 'tokens.json');
        await writePrivateJson(file, { a: 1, list: ['x'] }, { sync });
        assert.strictEqual(fs.readFileSync(file, 'utf8'), '{\n  "a": 1,\n  "list": [\n    "x"\n  ]\n}\n');
        assert.strictEqual(mode(file), 0o600);
        assert.deepStrictEqual(fs.readdirSync(dir), ['tokens.json']);
        // A second write replaces the first whole.
        await writePrivateJson(file, [2], { sync });
        assert.strictEqual(fs.readFileSync(file, 'utf8'), '[\n  2\n]\n');
        assert.deepStrictEqual(fs.readdirSync(dir), ['tokens.json']);
      });
    }

    it('makes the missing folders (only for their owner) and tightens a file that was readable by others', async () => {
      const dir = tmpFolder();
      const file = path.join(dir, 'a', 'b', 'state.json');
      await writePrivateText(file, 'first');
      assert.strictEqual(fs.readFileSync(file, 'utf8'), 'first');
      assert.strictEqual(fs.statSync(path.join(dir, 'a', 'b')).mode & 0o777, 0o700 & ~process.umask());
      fs.chmodSync(file, 0o644);
      await writePrivateText(file, 'second', { sync: true });
      assert.deepStrictEqual([fs.readFileSync(file, 'utf8'), mode(file)], ['second', 0o600]);
    });

    it('a file that cannot be written rejects with the system error and leaves the old file as it was', async () => {
      const dir = tmpFolder();
      const file = path.join(dir, 'state.json');
      fs.writeFileSync(file, 'old');
      // A folder where the temporary file goes: the write cannot even start.
      fs.mkdirSync(`${file}.${process.pid}.tmp`);
      const e = await failure(writePrivateText(file, 'new'));
      assert.strictEqual(e.code, 'EISDIR');
      const f = await failure(writePrivateText(file, 'new', { sync: true }));
      assert.strictEqual(f.code, 'EISDIR');
      assert.strictEqual(fs.readFileSync(file, 'utf8'), 'old');
    });
  });

  describe('checkWritable', () => {
    it('makes the missing folders, writes and removes a probe, and leaves nothing but what was there', async () => {
      const dir = tmpFolder();
      const file = path.join(dir, 'x', 'y', 'quota.json');
      await checkWritable(file);
      assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'x', 'y')), []);
      fs.writeFileSync(file, 'kept');
      await checkWritable(file);
      assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'x', 'y')), ['quota.json']);
      assert.strictEqual(fs.readFileSync(file, 'utf8'), 'kept');
    });

    it('a folder at the path is refused with code EISDIR', async () => {
      const file = path.join(tmpFolder(), 'quota.json');
      fs.mkdirSync(file);
      const e = await failure(checkWritable(file));
      assert.deepStrictEqual([e.code, e.message], ['EISDIR', `${file} is not a file`]);
    });

    it("a folder that cannot be made is refused with the file system's code", async () => {
      const dir = tmpFolder();
      fs.writeFileSync(path.join(dir, 'plain'), '');
      const e = await failure(checkWritable(path.join(dir, 'plain', 'quota.json')));
      assert.match(e.code, /^(EEXIST|ENOTDIR)$/);
    });

    it('a probe that cannot be written is refused, and nothing is left behind', async function () {
      const dir = tmpFolder();
      const file = path.join(dir, 'quota.json');
      // The folder is full for files of more than a few bytes: a probe of 4 KiB fails (as on a full disk).
      const small = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4k,nr_inodes=3', 'tmpfs', dir]);
      if (small.status !== 0) this.skip(); // no tmpfs can be made here
      try {
        fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(1024));
        const e = await failure(checkWritable(file));
        assert.match(e.code, /^(ENOSPC|EDQUOT)$/);
        assert.deepStrictEqual(fs.readdirSync(dir), ['filler']);
      } finally {
        spawnSync('umount', [dir]);
      }
    });
  });

  describe('fileError', () => {
    it('names the folder and the system code, with a hint to check the folder', () => {
      const cause = Object.assign(new Error('permission denied'), { code: 'EACCES' });
      const e = fileError(cause, '/srv/cardata/quota.json', 'save the quota count');
      assert.ok(e instanceof CarDataError);
      assert.deepStrictEqual(
        [e.kind, e.message, e.hint, e.cause],
        [
          'storage',
          'Cannot save the quota count in /srv/cardata (EACCES)',
          'Check that the folder /srv/cardata exists and is writable by this process.',
          cause,
        ],
      );
      assert.strictEqual(fileError(cause, '/a/b.json', 'read', 'Another hint.').hint, 'Another hint.');
    });

    it('says EIO for an error without a code, or no error at all', () => {
      assert.strictEqual(fileError(new Error('x'), '/a/b.json', 'read').message, 'Cannot read in /a (EIO)');
      assert.strictEqual(fileError(undefined, '/a/b.json', 'read').message, 'Cannot read in /a (EIO)');
    });
  });

  describe('processAlive', () => {
    it('is true for this process and false for one that has ended', () => {
      assert.strictEqual(processAlive(process.pid), true);
      assert.strictEqual(processAlive(deadPid()), false);
    });

    it('is true for a running process of another user (one it may not signal)', async function () {
      if (process.getuid?.() !== 0) this.skip();
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { uid: 65534, gid: 65534, stdio: 'ignore' });
      try {
        await new Promise((resolve) => other.once('spawn', resolve));
        let alive: boolean;
        // Seen as a third user, that cannot signal it (the check is synchronous: nothing else runs meanwhile).
        process.seteuid!(65533);
        try {
          alive = processAlive(other.pid as number);
        } finally {
          process.seteuid!(0);
        }
        assert.strictEqual(alive, true);
      } finally {
        other.kill();
      }
    });
  });

  describe('removeLeftovers', () => {
    it('removes the temporary files of writers that no longer run and old ones of any writer, nothing else, and says how many', async () => {
      const dir = tmpFolder();
      const file = path.join(dir, 'quota.json');
      const dead = deadPid();
      const old = new Date(Date.now() - 120_000);
      const put = (name: string, mtime?: Date) => {
        fs.writeFileSync(path.join(dir, name), 'x');
        if (mtime) fs.utimesSync(path.join(dir, name), mtime, mtime);
      };
      put('quota.json');
      put(`quota.json.${dead}.tmp`); // a writer that crashed
      put(`quota.json.lock.${dead}.0a1b2c3d.tmp`); // the lock's temporary file of a crashed process
      put(`quota.json.${process.pid}.tmp`); // a write under way in this process: kept
      put(`quota.json.${process.pid}.ff00.tmp`, old); // of a running process, but far older than a write takes
      put(`token.json.${dead}.tmp`); // another file's (a name of the same length)
      put(`.${dead}.tmp`); // no file's
      put(`quota.json.${dead}.tmp.bak`); // not a temporary file
      put(`quota.json.x${dead}.tmp`);
      fs.mkdirSync(path.join(dir, `quota.json.lock.${dead}.tmp`)); // a folder
      fs.symlinkSync(path.join(dir, 'quota.json'), path.join(dir, `quota.json.${dead}.1.tmp`)); // a link, not a file
      assert.strictEqual(await removeLeftovers(file, 60_000), 3);
      assert.deepStrictEqual(
        fs.readdirSync(dir).sort(),
        [
          `.${dead}.tmp`,
          'quota.json',
          `quota.json.${dead}.1.tmp`,
          `quota.json.${dead}.tmp.bak`,
          `quota.json.${process.pid}.tmp`,
          `quota.json.lock.${dead}.tmp`,
          `quota.json.x${dead}.tmp`,
          `token.json.${dead}.tmp`,
        ].sort(),
      );
      assert.strictEqual(await removeLeftovers(file, 60_000), 0);
    });

    it('finds nothing in a folder that does not exist', async () => {
      assert.strictEqual(await removeLeftovers(path.join(tmpFolder(), 'gone', 'quota.json'), 60_000), 0);
    });
  });

  describe("a saved file's text and version", () => {
    it('savedObject gives the object, or what is wrong with the text', () => {
      assert.deepStrictEqual(savedObject('{"version":1}'), { version: 1 });
      assert.strictEqual(savedObject('  \n'), 'empty');
      assert.strictEqual(savedObject('{"version":'), 'not JSON');
      for (const text of ['null', '5', '"x"', '[1]', 'false']) assert.strictEqual(savedObject(text), 'not an object', text);
    });

    it('versionProblem: none for the current version, a newer one by number, anything else unknown', () => {
      assert.strictEqual(versionProblem(2, 2), undefined);
      assert.strictEqual(versionProblem(3, 2), 'a newer format (version 3)');
      for (const v of [1, 0, '3', undefined, null]) assert.strictEqual(versionProblem(v, 2), 'an unknown format', String(v));
    });
  });
});
