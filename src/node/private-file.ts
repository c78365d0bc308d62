import { promises as fs } from 'fs';
import * as path from 'path';

/**
 * Writes JSON readable only by its owner (mode 0600), through a temporary file renamed into place, so a crash
 * never leaves half a file. Used for tokens and quota counts.
 */
export async function writePrivateJson(file: string, value: unknown): Promise<void> {
  await writePrivateText(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** writePrivateJson for text already serialised (the live state, whose cars are serialised one by one). */
export async function writePrivateText(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, file);
  // rename keeps the mode of the temporary file, but a file that existed before may have been looser.
  await fs.chmod(file, 0o600);
}
