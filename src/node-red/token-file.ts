import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'crypto';
import { readFileSync, renameSync } from 'fs';
import type { TokenSet } from '../node';
import { fileError, removeLeftovers, savedObject, versionProblem, writePrivateJson } from '../node/private-file';

const FILE_VERSION = 1;

/** One account's tokens in the file, either in clear or sealed with AES-256-GCM. */
interface StoredEntry {
  issuedAt: number;
  tokens?: TokenSet;
  iv?: string;
  tag?: string;
  data?: string;
}

interface FileShape {
  version: typeof FILE_VERSION;
  accounts: Record<string, StoredEntry>;
}

/** The parsed file, or what is wrong with it. */
export function tokenFileProblem(text: string): FileShape | string {
  const p = savedObject(text);
  if (typeof p === 'string') return p;
  const wrong = versionProblem(p.version, FILE_VERSION);
  if (wrong) return wrong;
  const accounts = p.accounts ?? {};
  if (!accounts || typeof accounts !== 'object' || Array.isArray(accounts)) return 'accounts is not an object';
  for (const entry of Object.values(accounts))
    if (!entry || typeof entry !== 'object' || typeof (entry as StoredEntry).issuedAt !== 'number') return 'an entry is not a token set';
  return { version: FILE_VERSION, accounts: accounts as Record<string, StoredEntry> };
}

export interface StoredTokens {
  issuedAt: number;
  tokens: TokenSet;
}

/**
 * Rotated tokens of every account config node, keyed by node id, in one file in the user directory.
 * Node-RED writes credentials to disk only on deploy; BMW rotates the refresh token on every refresh, so without
 * this file a restart before the next deploy would bring back a refresh token BMW has already retired.
 * The file is written with mode 0600 and, when a credential secret is known, every entry is encrypted.
 * A file that cannot be read (truncated, not JSON, a newer version, a folder) is never overwritten: it is renamed
 * aside and said once in the log, and the accounts start from their deployed tokens.
 */
export class TokenFile {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly key?: Buffer;
  private warned?: string;

  constructor(
    readonly file: string,
    secret?: string,
    private readonly warn: (message: string) => void = (message) => console.warn(message),
  ) {
    if (secret) this.key = Buffer.from(hkdfSync('sha256', secret, 'bmw-cardata-tokens', 'aes-256-gcm token file', 32));
    // What a write left when Node-RED was killed in the middle of it.
    void removeLeftovers(file, 60_000);
  }

  get encrypted(): boolean {
    return this.key !== undefined;
  }

  /** The file's accounts; a broken file is renamed aside and said once. Throws a storage error if it cannot be read. */
  private readAll(): FileShape {
    let problem: string | FileShape;
    try {
      problem = tokenFileProblem(readFileSync(this.file, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { version: FILE_VERSION, accounts: {} };
      if (code !== 'EISDIR') throw fileError(e, this.file, 'read the saved BMW tokens');
      problem = 'a folder, not a file';
    }
    if (typeof problem !== 'string') return problem;
    const aside = `${this.file}.broken-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
    try {
      renameSync(this.file, aside);
    } catch (e) {
      throw fileError(e, this.file, 'move aside the broken token file');
    }
    this.warn(
      `BMW CarData: the token file ${this.file} could not be read (${problem}); it was kept as ${aside}. ` +
        'The accounts start from their deployed tokens: if BMW has already replaced those, authorize the account again.',
    );
    return { version: FILE_VERSION, accounts: {} };
  }

  private write(all: FileShape): Promise<void> {
    return writePrivateJson(this.file, all).catch((e: unknown) => {
      throw fileError(e, this.file, 'save the BMW tokens');
    });
  }

  private seal(tokens: TokenSet, issuedAt: number): StoredEntry {
    if (!this.key) return { issuedAt, tokens };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(tokens), 'utf8'), cipher.final()]);
    return { issuedAt, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  private open(entry: StoredEntry): TokenSet | undefined {
    if (entry.tokens) return entry.tokens;
    if (!this.key || !entry.iv || !entry.tag || !entry.data) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(entry.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
      const text = Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString('utf8');
      return JSON.parse(text) as TokenSet;
    } catch {
      // Sealed with another secret: unusable, as if absent.
      return undefined;
    }
  }

  private queue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Synchronous read for node constructors, which cannot wait. A file that cannot be read is said once. */
  loadSync(id: string): StoredTokens | undefined {
    let entry: StoredEntry | undefined;
    try {
      const accounts = this.readAll().accounts;
      entry = Object.hasOwn(accounts, id) ? accounts[id] : undefined;
    } catch (e) {
      const message = (e as Error).message;
      if (this.warned !== message) this.warn(`BMW CarData: ${message}; the accounts start from their deployed tokens.`);
      this.warned = message;
      return undefined;
    }
    const tokens = entry && this.open(entry);
    return entry && tokens?.refreshToken ? { issuedAt: entry.issuedAt, tokens } : undefined;
  }

  load(id: string): Promise<StoredTokens | undefined> {
    return this.queue(async () => {
      const accounts = this.readAll().accounts;
      const entry = Object.hasOwn(accounts, id) ? accounts[id] : undefined;
      if (!entry) return undefined;
      const tokens = this.open(entry);
      return tokens?.refreshToken ? { issuedAt: entry.issuedAt, tokens } : undefined;
    });
  }

  save(id: string, tokens: TokenSet, issuedAt = Date.now()): Promise<void> {
    return this.queue(async () => {
      const all = this.readAll();
      all.accounts[id] = this.seal(tokens, issuedAt);
      await this.write(all);
    });
  }

  remove(id: string): Promise<void> {
    return this.queue(async () => {
      const all = this.readAll();
      if (!Object.hasOwn(all.accounts, id)) return;
      delete all.accounts[id];
      await this.write(all);
    });
  }
}
