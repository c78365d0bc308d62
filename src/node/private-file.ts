import { promises as fs } from 'fs';
import * as path from 'path';

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
  await writePrivateText(file, `${JSON.stringify(value, null, 2)}
`, options);
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
