import { promises as fs } from 'fs';
import { writePrivateJson } from './private-file';

// An outbox: messages that must reach a receiver at least once, kept in a file until the receiver has
// acknowledged them. A message is added (and flushed to the disk) before the state that says it happened is
// saved, and removed only once the receiver has it, so a crash at any moment can repeat a message but never lose
// one. Every message carries a stable id: a repeated one has the same id, and a consumer can drop it.

/** One message waiting for delivery; the rest of it is the user's (plain JSON). */
export interface OutboxEntry {
  id: string;
}

export interface FileOutboxOptions {
  /** Where the messages wait; without a file they wait in memory only (nothing is written). */
  file?: string;
  /** The most messages kept; beyond it the oldest are dropped, said once (default 5000). */
  limit?: number;
  /** Told once per problem: a file kept aside, messages dropped. */
  warn: (message: string) => void;
  /** Checks a message read back from the file; one that fails is dropped. */
  accept?: (entry: OutboxEntry & Record<string, unknown>) => boolean;
}

export const DEFAULT_OUTBOX_LIMIT = 5000;

interface OutboxFile {
  version: 1;
  entries: unknown[];
}

function isEntry(e: unknown): e is OutboxEntry & Record<string, unknown> {
  return typeof e === 'object' && e !== null && !Array.isArray(e) && typeof (e as { id?: unknown }).id === 'string';
}

export class FileOutbox<T extends OutboxEntry> {
  private entries: T[] = [];
  private readonly ids = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private writes = 0;
  private removalQueued = false;
  private overflowSaid = false;
  private removalFailureSaid = false;
  private readonly limit: number;

  private constructor(private readonly options: FileOutboxOptions) {
    this.limit = Math.max(1, options.limit ?? DEFAULT_OUTBOX_LIMIT);
  }

  /** Reads the messages a previous run left. A file that cannot be read is kept aside, said once. */
  static async open<T extends OutboxEntry>(options: FileOutboxOptions): Promise<FileOutbox<T>> {
    const outbox = new FileOutbox<T>(options);
    if (options.file) await outbox.load(options.file);
    return outbox;
  }

  private async load(file: string): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read ${file}: ${(e as Error).message}`);
    }
    let saved: Partial<OutboxFile>;
    try {
      saved = JSON.parse(text) as Partial<OutboxFile>;
      if (saved?.version !== 1 || !Array.isArray(saved.entries))
        throw new Error(saved?.version !== 1 ? `version ${JSON.stringify(saved?.version)}` : 'no entries');
    } catch (e) {
      const aside = `${file}.broken-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
      await fs.rename(file, aside);
      this.options.warn(`the outbox ${file} could not be read (${(e as Error).message}); it was kept as ${aside}`);
      return;
    }
    let refused = 0;
    for (const e of saved.entries) {
      if (isEntry(e) && (this.options.accept?.(e) ?? true) && !this.ids.has(e.id)) this.push(e as unknown as T);
      else refused += 1;
    }
    if (refused > 0) this.options.warn(`the outbox ${file} held ${refused} ${refused === 1 ? 'message' : 'messages'} that could not be read; dropped`);
    this.bound();
  }

  /** The messages waiting, oldest first (a copy). */
  pending(): T[] {
    return [...this.entries];
  }

  get size(): number {
    return this.entries.length;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** True while a write of the file is under way or queued. */
  get busy(): boolean {
    return this.writes > 0;
  }

  /**
   * Adds messages (one whose id is already waiting is not added twice) and resolves once the file that holds them
   * is on the disk. Rejects when the file cannot be written; the messages still wait in memory.
   */
  add(entries: readonly T[]): Promise<void> {
    let added = 0;
    for (const e of entries) {
      if (this.ids.has(e.id)) continue;
      this.push(e);
      added += 1;
    }
    if (added === 0) return Promise.resolve();
    this.bound();
    return this.write(true);
  }

  /** The receiver has the message: it leaves the outbox (written soon, without waiting for the disk). */
  remove(id: string): void {
    if (!this.ids.delete(id)) return;
    this.entries = this.entries.filter((e) => e.id !== id);
    if (this.entries.length === 0) this.overflowSaid = false;
    if (this.removalQueued || !this.options.file) return;
    // One write for the removals that come together; a removal lost in a crash only sends a message twice.
    this.removalQueued = true;
    this.write(false, () => (this.removalQueued = false)).catch((e: unknown) => {
      if (this.removalFailureSaid) return;
      this.removalFailureSaid = true;
      this.options.warn(`cannot write the outbox ${this.options.file}: ${(e as Error).message}`);
    });
  }

  /** Resolves when no write is under way or queued. */
  async settled(): Promise<void> {
    while (this.writes > 0) await this.writing;
  }

  private push(e: T): void {
    this.entries.push(e);
    this.ids.add(e.id);
  }

  private bound(): void {
    const over = this.entries.length - this.limit;
    if (over <= 0) return;
    for (const e of this.entries.splice(0, over)) this.ids.delete(e.id);
    if (this.overflowSaid) return;
    this.overflowSaid = true;
    this.options.warn(
      `more than ${this.limit} messages wait for delivery${this.options.file ? ` in ${this.options.file}` : ''}; the oldest are dropped until the receiver takes them again`,
    );
  }

  /** Queues a write of what waits at the time the write runs. */
  private write(sync: boolean, starting?: () => void): Promise<void> {
    const file = this.options.file;
    if (!file) return Promise.resolve();
    this.writes += 1;
    const job = async (): Promise<void> => {
      starting?.();
      try {
        await writePrivateJson(file, { version: 1, entries: this.entries } satisfies OutboxFile, { sync });
      } finally {
        this.writes -= 1;
      }
    };
    const done = this.writing.then(job, job);
    this.writing = done.catch(() => undefined);
    return done;
  }
}
