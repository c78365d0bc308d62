import { createHash } from 'crypto';
import { CarDataError } from '../errors';
import type { Container, ContainerDetails, CreateContainerRequest } from '../types';

export interface EnsureContainerOptions {
  /** Accept descriptors missing from the bundled catalogue (BMW adds keys over time). */
  allowUnknown?: boolean;
  /** Start of the container name; the rest is a hash of the descriptor set. */
  namePrefix?: string;
  purpose?: string;
}

export interface EnsuredContainer {
  containerId: string;
  name: string;
  /** True when this call created the container (one extra call of quota). */
  created: boolean;
  /** True when no call was needed: the container was remembered from an earlier call. */
  fromCache: boolean;
  key: string;
}

/** What ensureContainer needs of the client: kept narrow so this file does not depend on the client class. */
export interface ContainerApi {
  readonly containerCache: Map<string, string>;
  listContainers(): Promise<Container[]>;
  createContainer(request: CreateContainerRequest, options?: { allowUnknown?: boolean }): Promise<ContainerDetails>;
}

export const DEFAULT_CONTAINER_PREFIX = 'cardata-flows';

/** Remembered containers as a host keeps them: descriptor-set key -> container ID. */
export type RememberedContainers = Record<string, string>;

/**
 * The containers a client remembers. Starts with what a host kept from before and tells `onChange` every change
 * (found, created, forgotten), so the host can keep them for its next start: a restart then costs no lookup.
 */
export class ContainerMemory extends Map<string, string> {
  private readonly onChange?: (containers: RememberedContainers) => void;

  constructor(remembered: RememberedContainers = {}, onChange?: (containers: RememberedContainers) => void) {
    super();
    for (const [key, id] of Object.entries(remembered)) if (typeof id === 'string' && id) super.set(key, id);
    this.onChange = onChange;
  }

  override set(key: string, id: string): this {
    const changed = super.get(key) !== id;
    super.set(key, id);
    if (changed) this.changed();
    return this;
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    if (had) this.changed();
    return had;
  }

  override clear(): void {
    const had = this.size > 0;
    super.clear();
    if (had) this.changed();
  }

  private changed(): void {
    // Called from Map's constructor too, before onChange is set: nothing to tell then.
    this.onChange?.(Object.fromEntries(this));
  }
}

/** A short, stable hash of a descriptor set: the same keys in any order give the same name. */
export function descriptorSetKey(descriptors: readonly string[]): string {
  return createHash('sha256')
    .update([...new Set(descriptors)].sort().join('\n'))
    .digest('hex')
    .slice(0, 10);
}

export function containerNameFor(descriptors: readonly string[], prefix = DEFAULT_CONTAINER_PREFIX): string {
  return `${prefix}-${descriptorSetKey(descriptors)}`;
}

const pending = new WeakMap<ContainerApi, Map<string, Promise<EnsuredContainer>>>();

/**
 * Finds the ACTIVE container that holds exactly these descriptors (its name carries the set's hash) or creates
 * one. Costs one call to list, plus one to create when none fits; afterwards the answer is remembered, so
 * repeated reads cost nothing. Concurrent calls for the same set share one lookup.
 */
export function ensureContainer(api: ContainerApi, descriptors: string[], options: EnsureContainerOptions = {}): Promise<EnsuredContainer> {
  const name = containerNameFor(descriptors, options.namePrefix);
  const key = name;
  const cached = api.containerCache.get(key);
  if (cached) return Promise.resolve({ containerId: cached, name, created: false, fromCache: true, key });
  let inflight = pending.get(api);
  if (!inflight) pending.set(api, (inflight = new Map()));
  const existing = inflight.get(key);
  if (existing) return existing;
  const work = (async (): Promise<EnsuredContainer> => {
    const containers = await api.listContainers();
    const match = containers.find((c) => c.name === name && c.state === 'ACTIVE' && c.containerId);
    if (match?.containerId) {
      api.containerCache.set(key, match.containerId);
      return { containerId: match.containerId, name, created: false, fromCache: false, key };
    }
    let created: ContainerDetails;
    try {
      created = await api.createContainer(
        { name, purpose: options.purpose ?? 'n8n-nodes-bmw-cardata', technicalDescriptors: [...descriptors].sort() },
        { allowUnknown: options.allowUnknown },
      );
    } catch (e) {
      if (e instanceof CarDataError && e.exveErrorId === 'CU-124') {
        const active = containers.filter((c) => c.state === 'ACTIVE').length;
        throw new CarDataError({
          kind: 'bmw',
          status: e.status,
          exveErrorId: 'CU-124',
          bmwMessage: e.bmwMessage,
          operation: 'createContainer',
          message: `BMW CarData error CU-124: no room for a new container (${containers.length} on the account, ${active} active)`,
          hint: 'An account may hold 10 containers and deleted ones keep counting for 29 days. Delete containers you no longer need, or give the ID of an existing container.',
        });
      }
      throw e;
    }
    if (!created.containerId) throw new CarDataError({ kind: 'bmw', operation: 'createContainer', message: 'BMW created a container but sent no containerId' });
    api.containerCache.set(key, created.containerId);
    return { containerId: created.containerId, name, created: true, fromCache: false, key };
  })();
  inflight.set(key, work);
  return work.finally(() => inflight?.delete(key));
}
