import type { Sleep } from '../core/transport';

/** Node's timer as core's sleep port. */
export const nodeSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
