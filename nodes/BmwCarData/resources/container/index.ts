import type { Operation } from '../../../../src/n8n/operation';
import { createContainer } from './create';
import { deleteContainer } from './delete';
import { getContainer } from './get';
import { getContainers } from './getAll';

export const containerOperations: Operation[] = [createContainer, getContainer, getContainers, deleteContainer];
