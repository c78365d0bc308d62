import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { CarDataError } from '../core/errors';

export interface WritePrivateOptions {
  /**
   * Flush the file to the disk before it is renamed into place, and the folder after, so that what was written
   * survives a power cut, not only a crash. Costs a disk flush: for what must not be lost, not for every save.
   */
  sync?: boolean;
}

/**
 * Writes JSON readable only by its owner (mode 0600), through a temporary file renamed into place, so a crash
 * never leaves half a file. Used for tokens and quota counts.
 */
export async function writePrivateJson(file: string, value: unknown, options: WritePrivateOptions = {}): Promise<void> {
  await writePrivateText(
    file,
    `${JSON.stringify(value, null, 2)}
`,
    options,
  );
}

/** writePrivateJson for text already serialised (the live state, whose cars are serialised one by one). */
export async function writePrivateText(file: string, text: string, options: WritePrivateOptions = {}): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  if (options.sync) {
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } else {
    await fs.writeFile(tmp, text, { mode: 0o600 });
  }
  await fs.rename(tmp, file);
  // rename keeps the mode of the temporary file, but a file that existed before may have been looser.
  await fs.chmod(file, 0o600);
  if (options.sync) await syncFolder(path.dirname(file));
}

/** Makes a rename in `dir` durable. Some systems cannot open a folder for that; the rename stands anyway. */
async function syncFolder(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR / EPERM on some platforms: nothing more can be done from here.
  } finally {
    await handle?.close();
  }
}

/**
 * Proves that `file` can be written as writePrivateJson writes it: the folder exists (or is made), a temporary file
 * of a few kilobytes can be written in it and removed, and nothing but a file is at the path. Throws the file
 * system's error (with its code) when not.
 */
export async function checkWritable(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const there = await fs.stat(file).catch(() => undefined);
  if (there && !there.isFile()) throw Object.assign(new Error(`${file} is not a file`), { code: 'EISDIR' });
  const probe = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(probe, Buffer.alloc(4096, 0x20), { mode: 0o600 });
  } finally {
    await fs.unlink(probe).catch(() => undefined);
  }
}

/** A local file that cannot be read or written: a storage error naming the folder and the system's code. */
export function fileError(e: unknown, file: string, action: string, hint?: string): CarDataError {
  const code = (e as NodeJS.ErrnoException)?.code ?? 'EIO';
  const folder = path.dirname(file);
  return new CarDataError({
    kind: 'storage',
    message: `Cannot ${action} in ${folder} (${code})`,
    hint: hint ?? `Check that the folder ${folder} exists and is writable by this process.`,
    cause: e,
  });
}

/** Whether a process with this id runs on this machine (one of another user counts as running). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const LEFTOVER = /^\.(?:[a-z]+\.)*(\d+)\.(?:[0-9a-f]+\.)?tmp$/;

/**
 * Removes the temporary files a writer of `file` left when it crashed (`<file>.<pid>.tmp` and the like): those of
 * a process that no longer runs, and any older than `olderThanMs` (a write takes milliseconds). Returns how many.
 */
export async function removeLeftovers(file: string, olderThanMs: number): Promise<number> {
  const folder = path.dirname(file);
  const base = `${path.basename(file)}`;
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = name.startsWith(base) ? LEFTOVER.exec(name.slice(base.length)) : null;
    if (!match) continue;
    const leftover = path.join(folder, name);
    const stat = await fs.lstat(leftover).catch(() => undefined);
    if (!stat?.isFile()) continue;
    const pid = Number(match[1]);
    if (processAlive(pid) && Date.now() - stat.mtimeMs <= olderThanMs) continue;
    if (
      await fs.unlink(leftover).then(
        () => true,
        () => false,
      )
    )
      removed += 1;
  }
  return removed;
}

/** A saved JSON file's object, or what is wrong with its text (said to the user when the file is kept aside). */
export function savedObject(text: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text.trim() === '' ? 'empty' : 'not JSON';
  }
  return !parsed || typeof parsed !== 'object' || Array.isArray(parsed) ? 'not an object' : (parsed as Record<string, unknown>);
}

/** What is wrong with a saved file's format version: a newer one is never read (nor overwritten), others are unknown. */
export function versionProblem(version: unknown, current: number): string | undefined {
  if (version === current) return undefined;
  return typeof version === 'number' && version > current ? `a newer format (version ${version})` : 'an unknown format';
}
