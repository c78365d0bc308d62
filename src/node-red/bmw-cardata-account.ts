import * as os from 'os';
import * as path from 'path';
import type { NodeAPI } from 'node-red';
import {
  accountKey,
  AxiosTransport,
  CarDataError,
  createAccount,
  DEFAULT_API_BASE_URL,
  DEFAULT_AUTH_BASE_URL,
  DEFAULT_DAILY_QUOTA,
  FileQuotaStore,
  parseTariff,
  parseVehicleNames,
  QuotaLedger,
  quotaReserve,
  processTokens,
  storedTokens,
  tokensFromStored,
  type Account,
  type CachedVehicles,
  type QuotaState,
  type TokenSet,
  VehicleCache,
  vehicleNameOf,
  type VehicleMapping,
} from '../node';
import { ACCOUNT_TYPE, text, type AccountConfig, type AccountCredentials, type AccountNode, type ConnectionState, type MappedVehicles } from './account-types';
import { AccountCache } from './account-cache';
import { LoginSessions, shortGcid } from './account-login';
import { registerAccountRoutes } from './account-routes';
import { TokenFile } from './token-file';

function credentialsWith(creds: AccountCredentials | undefined, tokens: TokenSet, clientId?: string): AccountCredentials {
  const merged: AccountCredentials = { ...(creds ?? {}), ...storedTokens(tokens, creds) };
  if (clientId) merged.clientId = clientId;
  return merged;
}

function quotaLimit(value: unknown): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_DAILY_QUOTA;
}

function credentialSecret(RED: NodeAPI): string | undefined {
  const configured = RED.settings.credentialSecret;
  if (typeof configured === 'string' && configured) return configured;
  if (configured === false) return undefined;
  try {
    // Without a configured secret Node-RED generates one and keeps it in its runtime settings.
    const generated: unknown = RED.settings.get('_credentialSecret');
    return typeof generated === 'string' && generated ? generated : undefined;
  } catch {
    return undefined;
  }
}

export = function (RED: NodeAPI): void {
  const userDir = RED.settings.userDir || path.join(os.homedir(), '.node-red');
  // One store for every account node: two nodes of one BMW account (same GCID) share one count.
  const quotaStore = new FileQuotaStore(path.join(userDir, 'bmw-cardata-quota.json'), { warn: (message) => RED.log.warn(message) });
  const tokenFile = new TokenFile(path.join(userDir, 'bmw-cardata-tokens.json'), credentialSecret(RED), (message) => RED.log.warn(message));
  // Containers and mapped vehicles of every account node, so a restart costs no call to look them up again.
  const accountCache = new AccountCache(path.join(userDir, 'bmw-cardata-cache.json'), (message) => RED.log.warn(message));
  const transport = new AxiosTransport();

  function deployedAccount(id: string): AccountNode | undefined {
    const node = RED.nodes.getNode(id) as AccountNode | null;
    return node && node.type === ACCOUNT_TYPE ? node : undefined;
  }

  function storedCredentials(id: string): AccountCredentials | undefined {
    return (RED.nodes.getCredentials(id) as AccountCredentials | undefined) ?? undefined;
  }

  // An editor login's tokens are written once, to the credentials and the token file, before any account takes them:
  // a failed write ends the login with an error the dialog shows.
  async function saveLogin(id: string, tokens: TokenSet, clientId: string): Promise<void> {
    await RED.nodes.addCredentials(id, credentialsWith(storedCredentials(id), tokens, clientId));
    await tokenFile.save(id, tokens);
    await deployedAccount(id)?.adoptTokens(tokens, clientId);
  }
  const logins = new LoginSessions(RED, transport, saveLogin);

  /** What the account dialog's connection line shows of an account, deployed or not. */
  async function connectionState(id: string, config?: { dailyQuota?: unknown }): Promise<ConnectionState> {
    const node = deployedAccount(id);
    const creds = storedCredentials(id) ?? node?.credentials;
    const clientId = text(creds?.clientId);
    let tokens = tokensFromStored(creds);
    let quota: QuotaState | null = null;
    let account: Account | undefined;
    try {
      account = node?.account();
    } catch {
      account = undefined;
    }
    if (account) {
      tokens = account.tokens.current() ?? tokens;
      quota = (await account.client.quotaState()) ?? null;
    } else if (clientId) {
      const ledger = new QuotaLedger({ limit: quotaLimit(config?.dailyQuota), store: quotaStore });
      quota = await ledger.state(accountKey(clientId, tokens?.gcid));
    }
    return {
      deployed: !!node,
      hasClientId: !!clientId,
      authorized: !!tokens?.refreshToken,
      gcid: shortGcid(tokens?.gcid),
      accessTokenExpiresAt: tokens?.expiresAt ? new Date(tokens.expiresAt).toISOString() : null,
      quota,
    };
  }

  function AccountNodeConstructor(this: AccountNode, config: AccountConfig): void {
    RED.nodes.createNode(this, config);
    setupAccount(this, config);
  }

  function setupAccount(node: AccountNode, config: AccountConfig): void {
    let clientId = text(node.credentials?.clientId);
    const apiBaseUrl = text(config.apiBaseUrl) || DEFAULT_API_BASE_URL;
    const authBaseUrl = text(config.authBaseUrl) || DEFAULT_AUTH_BASE_URL;
    node.authBaseUrl = authBaseUrl;
    node.streamUrl = text(config.streamUrl);
    const cacheKey = () => `${accountKey(clientId || '-')}|${apiBaseUrl}`;
    let account: Account | undefined;

    // The newer of the deployed credentials and the token file wins: the file holds rotations since the deploy.
    const fromCredentials = tokensFromStored(node.credentials);
    const fromFile = tokenFile.loadSync(node.id)?.tokens;
    let initialTokens = fromFile && (!fromCredentials || fromFile.expiresAt >= fromCredentials.expiresAt) ? fromFile : fromCredentials;

    const keep = (key: string, what: string, change: Parameters<AccountCache['update']>[2]): void => {
      accountCache
        .update(node.id, key, change)
        .catch((e: unknown) => node.warn(RED._('bmw-cardata-account.warn.notSaved', { what, error: e instanceof Error ? e.message : String(e) })));
    };

    async function persist(tokens: TokenSet): Promise<void> {
      const merged = credentialsWith(storedCredentials(node.id) ?? node.credentials, tokens);
      node.credentials = merged;
      await RED.nodes.addCredentials(node.id, merged);
      await tokenFile.save(node.id, tokens);
    }

    node.account = (): Account => {
      if (!clientId) {
        throw new CarDataError({
          kind: 'input',
          parameter: 'clientId',
          message: RED._('bmw-cardata-account.error.noClientId'),
          hint: RED._('bmw-cardata-account.error.noClientIdHint'),
        });
      }
      if (!account) {
        const key = cacheKey();
        account = createAccount({
          clientId,
          apiBaseUrl,
          authBaseUrl,
          tokens: initialTokens,
          dailyQuota: quotaLimit(config.dailyQuota),
          quotaReserve: quotaReserve(config.quotaReserve),
          quotaStore,
          transport,
          onTokens: persist,
          // Account nodes of one login (the same client ID and BMW account) share its token set: BMW rotates it.
          tokenRing: processTokens,
          // Refreshed only once the token file is known to be writable: BMW retires the refresh token it was given.
          tokenFile: tokenFile.file,
          onPersistError: (e) => node.error(RED._('bmw-cardata-account.error.tokenNotSaved', { error: e instanceof Error ? e.message : String(e) })),
          containers: accountCache.get(node.id, key)?.containers,
          onContainers: (containers) => keep(key, RED._('bmw-cardata-account.saved.containers'), (entry) => (entry.containers = containers)),
          answerStore: {
            load: () => accountCache.get(node.id, key)?.answers,
            save: (answers) => keep(key, RED._('bmw-cardata-account.saved.answers'), (entry) => (entry.answers = answers)),
          },
        });
      }
      return account;
    };

    // The tokens of an editor login, stored already (saveLogin): the account takes them without writing them again.
    node.adoptTokens = async (tokens: TokenSet, loginClientId?: string): Promise<void> => {
      node.credentials = storedCredentials(node.id) ?? node.credentials;
      // A login with another client ID than the deployed one: the account follows the login.
      if (loginClientId && loginClientId !== clientId) {
        clientId = loginClientId;
        account = undefined;
        initialTokens = tokens;
        return;
      }
      if (clientId) await node.account().tokens.setTokens(tokens, { stored: true });
    };

    // The cache file keeps the list per account: a list of another client ID or base URL is not this account's.
    const vehicleCache = new VehicleCache({
      load: () => accountCache.get(node.id, cacheKey())?.vehicles,
      save: (entry) => keep(cacheKey(), RED._('bmw-cardata-account.saved.vehicles'), (cached) => (cached.vehicles = entry)),
    });
    const listed = (entry: CachedVehicles): MappedVehicles => ({ vehicles: entry.list, fetchedAt: new Date(entry.fetchedAt).toISOString() });

    const tariffText = text(config.tariff);
    if (tariffText) {
      try {
        node.tariff = parseTariff(tariffText);
      } catch (e) {
        node.warn(`The tariff is left out, so no cost is computed: ${e instanceof CarDataError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e)}`);
      }
    }

    const { names, problems } = parseVehicleNames(config.vehicleNames);
    if (problems.length > 0) node.warn(RED._('bmw-cardata-account.warn.vehicleNames', { names: problems.join(', ') }));
    node.vehicleName = (vin: string): string => vehicleNameOf(vin, { names, models: accountCache.get(node.id, cacheKey())?.models });
    node.rememberModel = (vin: string, modelName: string): void => {
      if (!modelName || accountCache.get(node.id, cacheKey())?.models?.[vin] === modelName) return;
      keep(cacheKey(), RED._('bmw-cardata-account.saved.model'), (cached) => (cached.models = { ...cached.models, [vin]: modelName.slice(0, 60) }));
    };

    node.rememberVehicles = (vehicles: VehicleMapping[]): void => {
      vehicleCache.remember(vehicles);
    };

    // Without `refresh` no call is spent: a stale or missing list is an empty one.
    node.mappedVehicles = async (refresh = false, attended = false): Promise<MappedVehicles> => {
      if (refresh) return listed(await vehicleCache.refresh(node.account().client.forRun({ attended })));
      const fresh = vehicleCache.fresh();
      return fresh ? listed(fresh) : { vehicles: [], fetchedAt: null };
    };

    node.on('close', (removed: boolean, done: () => void) => {
      // Only running accounts share their login's token set; a restarted one offers its saved set again.
      account?.tokens.release();
      // A stop or a redeploy: what is still being written reaches the file first.
      if (!removed) return void accountCache.flush().then(done);
      logins.stop(node.id);
      Promise.all([
        tokenFile
          .remove(node.id)
          .catch((e: unknown) => node.warn(RED._('bmw-cardata-account.warn.tokensNotRemoved', { error: e instanceof Error ? e.message : String(e) }))),
        accountCache
          .remove(node.id)
          .catch((e: unknown) => node.warn(RED._('bmw-cardata-account.warn.cacheNotRemoved', { error: e instanceof Error ? e.message : String(e) }))),
      ]).then(() => done());
    });
  }

  RED.nodes.registerType<AccountNode, AccountConfig, unknown, AccountCredentials>(ACCOUNT_TYPE, AccountNodeConstructor, {
    credentials: {
      // A secret: the editor gets only whether it is set, and shows it masked.
      clientId: { type: 'password' },
      accessToken: { type: 'password' },
      refreshToken: { type: 'password' },
      idToken: { type: 'password' },
      gcid: { type: 'password' },
      scope: { type: 'password' },
      expiresAt: { type: 'password' },
    },
  });

  // The editor's admin routes, over these account nodes and their logins.
  registerAccountRoutes(RED, { logins, deployed: deployedAccount, stored: storedCredentials, connectionState });
};
