import type { Container, ContainerDetails } from '../core/types';
import { CATALOGUE_BY_ID } from './catalogue';
import { CarDataError } from './errors';
import { randomString, UPPER_ALNUM } from './random';

const MAX_CONTAINERS = 10;
/** BMW removes deleted (INACTIVE) containers after 29 days; until then they still count (kvanbiesen PR #268). */
const DELETED_RETENTION_MS = 29 * 86_400_000;

interface StoredContainer {
  owner: string;
  containerId: string;
  name: string;
  purpose?: string;
  state: 'ACTIVE' | 'DELETED';
  created: string;
  deletedAt?: number;
  technicalDescriptors: string[];
}

export function assertContainerIdFormat(id: string): void {
  if (!/^[A-Za-z0-9]{13}$/.test(id)) throw new CarDataError('CU-121');
}

export class ContainerStore {
  private readonly containers = new Map<string, StoredContainer>();

  constructor(private readonly now: () => number) {}

  list(owner: string): Container[] {
    return this.owned(owner).map(({ containerId, name, purpose, state, created }) => ({ containerId, name, purpose, state, created }));
  }

  create(owner: string, body: unknown): ContainerDetails {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new CarDataError('CU-400', { note: 'The body must be a JSON object.' });
    }
    const { name, purpose, technicalDescriptors } = body as Record<string, unknown>;
    if (typeof name !== 'string' || name.trim() === '') throw new CarDataError('CU-400', { note: 'name is required.' });
    if (purpose !== undefined && typeof purpose !== 'string') throw new CarDataError('CU-400', { note: 'purpose must be a string.' });
    if (!Array.isArray(technicalDescriptors) || technicalDescriptors.length === 0) {
      throw new CarDataError('CU-400', { note: 'technicalDescriptors must be a non-empty list.' });
    }
    for (const key of technicalDescriptors) {
      if (typeof key !== 'string' || !CATALOGUE_BY_ID.has(key)) {
        throw new CarDataError('CU-402', { note: `Telematic key ${JSON.stringify(key)} is not found or deprecated.` });
      }
    }
    if (this.owned(owner).length >= MAX_CONTAINERS) throw new CarDataError('CU-124');
    const stored: StoredContainer = {
      owner,
      containerId: this.newId(),
      name,
      purpose,
      state: 'ACTIVE',
      created: new Date(this.now()).toISOString(),
      technicalDescriptors: [...new Set(technicalDescriptors as string[])],
    };
    this.containers.set(stored.containerId, stored);
    return details(stored);
  }

  details(owner: string, id: string): ContainerDetails {
    return details(this.find(owner, id));
  }

  /** ACTIVE containers only: data retrieval is refused for deleted ones. */
  active(owner: string, id: string): ContainerDetails {
    const c = this.find(owner, id);
    if (c.state !== 'ACTIVE') throw new CarDataError('CU-105', { note: 'The container is set for deletion.' });
    return details(c);
  }

  /** 'deleted' the first time, 'already' when it was deleted before. */
  remove(owner: string, id: string): 'deleted' | 'already' {
    const c = this.find(owner, id);
    if (c.state === 'DELETED') return 'already';
    c.state = 'DELETED';
    c.deletedAt = this.now();
    return 'deleted';
  }

  /** An ACTIVE container of `owner` created `ageDays` ago (a leftover for housekeeping to find). */
  addOld(owner: string, spec: { name: string; purpose: string; technicalDescriptors: string[]; ageDays: number }): void {
    const containerId = this.newId();
    this.containers.set(containerId, {
      owner,
      containerId,
      name: spec.name,
      purpose: spec.purpose,
      state: 'ACTIVE',
      created: new Date(this.now() - spec.ageDays * 86_400_000).toISOString(),
      technicalDescriptors: [...spec.technicalDescriptors],
    });
  }

  /** A container of another account, so tests can provoke CU-105 for a well-formed, existing id. */
  addForeign(owner: string, containerId: string): void {
    this.containers.set(containerId, {
      owner,
      containerId,
      name: 'Somebody else',
      purpose: 'Not yours',
      state: 'ACTIVE',
      created: new Date(this.now()).toISOString(),
      technicalDescriptors: ['vehicle.vehicle.travelledDistance'],
    });
  }

  private find(owner: string, id: string): StoredContainer {
    assertContainerIdFormat(id);
    this.purge();
    const c = this.containers.get(id);
    if (!c || c.owner !== owner) throw new CarDataError('CU-105');
    return c;
  }

  private owned(owner: string): StoredContainer[] {
    this.purge();
    return [...this.containers.values()].filter((c) => c.owner === owner);
  }

  private purge(): void {
    const now = this.now();
    for (const [id, c] of this.containers) {
      if (c.deletedAt !== undefined && now - c.deletedAt >= DELETED_RETENTION_MS) this.containers.delete(id);
    }
  }

  private newId(): string {
    let id = `C${randomString(12, UPPER_ALNUM)}`;
    while (this.containers.has(id)) id = `C${randomString(12, UPPER_ALNUM)}`;
    return id;
  }
}

function details(c: StoredContainer): ContainerDetails {
  return {
    containerId: c.containerId,
    name: c.name,
    purpose: c.purpose,
    state: c.state,
    created: c.created,
    technicalDescriptors: [...c.technicalDescriptors],
  };
}
