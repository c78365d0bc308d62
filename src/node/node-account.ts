import * as path from 'path';
import { type Account, type AccountOptions, createAccount as createCoreAccount } from '../core/api/account';
import { AxiosTransport } from './axios-transport';
import { checkWritable, fileError } from './private-file';
import { nodeSleep } from './sleep';

export type NodeAccountOptions = Omit<AccountOptions, 'transport' | 'sleep'> &
  Partial<Pick<AccountOptions, 'transport' | 'sleep'>> & {
    /**
     * The file the host saves rotated tokens to (through onTokens). Before each refresh it is checked that the file
     * can be written; if not, no refresh is made (BMW would retire the stored refresh token) and the error names
     * the folder.
     */
    tokenFile?: string;
  };

/**
 * Throws a storage error naming the folder when tokens could not be saved to `file`: asked before a refresh or a
 * login, so nothing is spent that could not be kept.
 */
export async function checkTokenFile(file: string): Promise<void> {
  try {
    await checkWritable(file);
  } catch (e) {
    const folder = path.dirname(file);
    throw fileError(
      e,
      file,
      'save the BMW tokens',
      `Nothing was spent and a saved login still works: make the folder ${folder} writable by this process, then try again.`,
    );
  }
}

/** Core's account on Node.js's ports: axios unless a transport is given, Node's timers unless a sleep is. */
export function createAccount(options: NodeAccountOptions): Account {
  const { tokenFile, ...rest } = options;
  return createCoreAccount({
    ...rest,
    transport: options.transport ?? new AxiosTransport(),
    sleep: options.sleep ?? nodeSleep,
    checkTokenStore: options.checkTokenStore ?? (tokenFile ? () => checkTokenFile(tokenFile) : undefined),
  });
}
