import { readFileSync } from 'fs';
import { cachedAnswersOf, checkContainerId, writePrivateJson, type CachedAnswers, type RememberedContainers, type VehicleMapping } from '../node';

/** What one account config node remembers of BMW between restarts: answers that would otherwise cost calls again. */
export interface CachedAccount {
  /** The account the entry belongs to (client ID hash and API base URL): another account starts afresh. */
  key: string;
  containers: RememberedContainers;
  vehicles?: { list: VehicleMapping[]; fetchedAt: number };
  /** Model names by VIN, from basic data reads: the cars' names when the user gave none. */
  models?: Record<string, string>;
  /** BMW's answers kept for their lifetime (basic data, image, ...): see core's AnswerCache. */
  answers?: CachedAnswers;
}

interface FileShape {
  version: 1;
  accounts: Record<string, CachedAccount>;
}

function containersOf(value: unknown): RememberedContainers {
  const out: RememberedContainers = {};
  if (!value || typeof value !== 'object') return out;
  for (const [key, id] of Object.entries(value as Record<string, unknown>)) {
    try {
      out[key] = checkContainerId(id);
    } catch {
      // Not a container ID: left out, so the container is looked up again.
    }
  }
  return out;
}

function modelsOf(value: unknown): CachedAccount['models'] {
  if (!value || typeof value !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [vin, name] of Object.entries(value as Record<string, unknown>)) if (typeof name === 'string' && name) out[vin] = name.slice(0, 60);
  return out;
}

function vehiclesOf(value: unknown): CachedAccount['vehicles'] {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { list?: unknown; fetchedAt?: unknown };
  if (!Array.isArray(v.list) || typeof v.fetchedAt !== 'number' || !Number.isFinite(v.fetchedAt)) return undefined;
  const list = v.list.filter((m): m is VehicleMapping => !!m && typeof m === 'object' && typeof (m as VehicleMapping).vin === 'string');
  return { list, fetchedAt: v.fetchedAt };
}

/**
 * The containers, the mapped vehicles and the cached answers of every account config node, keyed by node id, in
 * one file in the user directory (mode 0600). Node-RED keeps node state in memory only, so without this file every
 * restart would spend a call to find each container again, one to list the vehicles for the picker and for nodes
 * without a VIN, and one for each answer that stays the same all day (basic data, the image).
 */
export class AccountCache {
  private entries?: Record<string, CachedAccount>;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
  ) {}

  private all(): Record<string, CachedAccount> {
    if (!this.entries) {
      this.entries = {};
      let parsed: Partial<FileShape> | undefined;
      try {
        parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<FileShape>;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
          this.warn(`The BMW CarData cache could not be read; containers and vehicles are looked up again (${(e as Error).message})`);
      }
      for (const [id, entry] of Object.entries(parsed?.accounts && typeof parsed.accounts === 'object' ? parsed.accounts : {})) {
        if (!entry || typeof entry.key !== 'string') continue;
        this.entries[id] = {
          key: entry.key,
          containers: containersOf(entry.containers),
          vehicles: vehiclesOf(entry.vehicles),
          models: modelsOf(entry.models),
          answers: cachedAnswersOf(entry.answers),
        };
      }
    }
    return this.entries;
  }

  /** The node's entry, if it belongs to the account `key`. */
  get(id: string, key: string): CachedAccount | undefined {
    const entry = this.all()[id];
    return entry && entry.key === key ? entry : undefined;
  }

  /** Changes the node's entry for the account `key` (a fresh one if it held another account's) and writes the file. */
  update(id: string, key: string, change: (entry: CachedAccount) => void): Promise<void> {
    const entry = this.get(id, key) ?? { key, containers: {} };
    change(entry);
    this.all()[id] = entry;
    return this.write();
  }

  remove(id: string): Promise<void> {
    if (!(id in this.all())) return Promise.resolve();
    delete this.all()[id];
    return this.write();
  }

  /** Resolves once every write asked for so far has ended (failures are reported where they were asked for). */
  flush(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  // One write after another, each of the whole current state, so the last one always wins.
  private write(): Promise<void> {
    const next = this.chain.then(() => writePrivateJson(this.file, { version: 1, accounts: this.all() } satisfies FileShape));
    this.chain = next.catch(() => undefined);
    return next;
  }
}
