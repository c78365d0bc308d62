import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'crypto';
import { promises as fs, readFileSync } from 'fs';
import { writePrivateJson, type TokenSet } from '../node';

/** One account's tokens in the file, either in clear or sealed with AES-256-GCM. */
interface StoredEntry {
  issuedAt: number;
  tokens?: TokenSet;
  iv?: string;
  tag?: string;
  data?: string;
}

interface FileShape {
  version: 1;
  accounts: Record<string, StoredEntry>;
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
 */
export class TokenFile {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly key?: Buffer;

  constructor(
    readonly file: string,
    secret?: string,
  ) {
    if (secret) this.key = Buffer.from(hkdfSync('sha256', secret, 'bmw-cardata-tokens', 'aes-256-gcm token file', 32));
  }

  get encrypted(): boolean {
    return this.key !== undefined;
  }

  private async readAll(): Promise<FileShape> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as Partial<FileShape>;
      return { version: 1, accounts: parsed.accounts && typeof parsed.accounts === 'object' ? parsed.accounts : {} };
    } catch {
      return { version: 1, accounts: {} };
    }
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

  /** Synchronous read for node constructors, which cannot wait. */
  loadSync(id: string): StoredTokens | undefined {
    let entry: StoredEntry | undefined;
    try {
      entry = (JSON.parse(readFileSync(this.file, 'utf8')) as Partial<FileShape>).accounts?.[id];
    } catch {
      return undefined;
    }
    const tokens = entry && this.open(entry);
    return entry && tokens?.refreshToken ? { issuedAt: entry.issuedAt, tokens } : undefined;
  }

  load(id: string): Promise<StoredTokens | undefined> {
    return this.queue(async () => {
      const entry = (await this.readAll()).accounts[id];
      if (!entry) return undefined;
      const tokens = this.open(entry);
      return tokens?.refreshToken ? { issuedAt: entry.issuedAt, tokens } : undefined;
    });
  }

  save(id: string, tokens: TokenSet, issuedAt = Date.now()): Promise<void> {
    return this.queue(async () => {
      const all = await this.readAll();
      all.accounts[id] = this.seal(tokens, issuedAt);
      await writePrivateJson(this.file, all);
    });
  }

  remove(id: string): Promise<void> {
    return this.queue(async () => {
      const all = await this.readAll();
      if (!(id in all.accounts)) return;
      delete all.accounts[id];
      await writePrivateJson(this.file, all);
    });
  }
}
