import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CarDataError, parseTariff, type RememberedContainers, type Tariff, type TokenSet } from '../node';
import { fileError, writePrivateJson } from '../node/private-file';

/** What the command line keeps between runs: the account and its tokens, in one file readable only by its owner. */
export interface CliConfig {
  clientId?: string;
  apiBaseUrl?: string;
  authBaseUrl?: string;
  /** The stream the bridge connects to, when it is not BMW's (saved by `login --stream-url`). */
  streamUrl?: string;
  tokens?: TokenSet;
  /** Containers found or created, by descriptor set: a telematics run then costs its one read. */
  containers?: RememberedContainers;
  /**
   * What charging costs (core's parseTariff: currency, pricePerKwh, perSession, timeOfUse, timeZone), as JSON in the
   * file: the bridge then prices each charge and publishes this month's cost (`bridge --tariff` overrides it), and the
   * charging-history rows (`charging-history`, the MCP tool charging_sessions) gain our cost beside BMW's.
   */
  tariff?: unknown;
}

export function defaultConfigPath(): string {
  if (process.env.BMW_CARDATA_CONFIG) return process.env.BMW_CARDATA_CONFIG;
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'bmw-cardata', 'account.json');
}

export async function readConfig(file: string): Promise<CliConfig> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as CliConfig;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Saves the account file; an error names the folder (a storage error). */
export async function writeConfig(file: string, config: CliConfig): Promise<void> {
  try {
    await writePrivateJson(file, config);
  } catch (e) {
    throw fileError(e, file, 'save the BMW tokens');
  }
}

/**
 * A tariff given as JSON text or as an object (`where` says where, for the error): none when empty or absent. One
 * that cannot be read is refused, naming where it came from and what is wrong.
 */
export function readTariff(value: unknown, where: string): Tariff | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  try {
    return parseTariff(value);
  } catch (e) {
    const why = e instanceof CarDataError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e);
    throw new CarDataError({ kind: 'input', message: `${where}: ${why}` });
  }
}
