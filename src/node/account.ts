import { type Account, type AccountOptions, createAccount as createCoreAccount } from '../core/account';
import { AxiosTransport } from './axios-transport';
import { nodeSleep } from './sleep';

export type NodeAccountOptions = Omit<AccountOptions, 'transport' | 'sleep'> & Partial<Pick<AccountOptions, 'transport' | 'sleep'>>;

/** Core's account on Node.js's ports: axios unless a transport is given, Node's timers unless a sleep is. */
export function createAccount(options: NodeAccountOptions): Account {
  return createCoreAccount({ ...options, transport: options.transport ?? new AxiosTransport(), sleep: options.sleep ?? nodeSleep });
}
