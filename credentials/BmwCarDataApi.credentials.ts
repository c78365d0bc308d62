import type {
  ICredentialDataDecryptedObject,
  ICredentialTestRequest,
  ICredentialType,
  IDataObject,
  IHttpRequestHelper,
  IHttpRequestOptions,
  INodeProperties,
} from 'n8n-workflow';
import { sleep } from 'n8n-workflow';
import { DEFAULT_API_BASE_URL } from '../src/core/api/client';
import {
  type DeviceAuthorization,
  DEFAULT_AUTH_BASE_URL,
  lacksApiScope,
  pollDeviceAuthorization,
  refreshTokens,
  startDeviceAuthorization,
} from '../src/core/login/device-flow';
import { CarDataError, CU_CODES, LoginError } from '../src/core/errors';
import { DEFAULT_QUOTA_RESERVE } from '../src/core/api/quota';
import { DEFAULT_STREAM_URL } from '../src/core/stream/types';
import { storedTokens, tokensFromStored } from '../src/core/login/stored-tokens';
import { processTokens, TokenRing } from '../src/core/login/token-ring';
import type { TokenSet } from '../src/core/types';
import { HttpRequestTransport } from '../src/n8n/transport';

/** Fields the login writes back; all of them are cleared or replaced together. */
const DEVICE_FIELDS_CLEARED = { deviceCode: '', codeVerifier: '', deviceExpiresAt: '', deviceInterval: '', userCode: '', verificationUrl: '' };

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : String(value).trim();
}

function tokenFields(tokens: TokenSet, previous: ICredentialDataDecryptedObject): IDataObject {
  return { ...storedTokens(tokens, previous), renewedAt: new Date().toISOString(), ...DEVICE_FIELDS_CLEARED };
}

function deviceFields(auth: DeviceAuthorization): IDataObject {
  return {
    accessToken: '',
    deviceCode: auth.deviceCode,
    codeVerifier: auth.codeVerifier,
    deviceExpiresAt: String(auth.expiresAt),
    deviceInterval: String(auth.interval),
    userCode: auth.userCode,
    verificationUrl: auth.verificationUriComplete,
  };
}

/**
 * A failed login or refresh, thrown so that the node transport finds it: a LoginError, as the cause of an error
 * that has only its words. n8n's credential test shows an error's `code` instead of its message when it has one
 * (a LoginError's code is BMW's OAuth error), and shows nothing but the message: the hint is in it too.
 */
function loginError(error: unknown): Error {
  let login: LoginError;
  if (!(error instanceof CarDataError))
    login = new LoginError({ kind: 'auth', message: error instanceof Error ? error.message : 'BMW login failed', cause: error });
  else {
    const { kind, status, oauthError, hint, retryable, parameter } = error;
    login = new LoginError({ kind, status, oauthError, hint, retryable, parameter, message: hint ? `${error.message}. ${hint}` : error.message, cause: error });
  }
  return new Error(login.message, { cause: login });
}

/**
 * n8n calls this when the access token is empty, after a 401, and on every credential test. It refreshes with
 * the stored refresh token, or runs the device login across two tests: the first starts it and stores the code,
 * the next one (Retry, after approving in the browser) collects the tokens. Whatever it returns is stored.
 */
async function preAuthenticate(helper: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<IDataObject> {
  const endpoint = {
    transport: new HttpRequestTransport(helper),
    sleep,
    clientId: text(credentials.clientId),
    authBaseUrl: text(credentials.authBaseUrl) || DEFAULT_AUTH_BASE_URL,
  };
  if (!endpoint.clientId)
    throw loginError(new LoginError({ kind: 'input', parameter: 'clientId', message: 'Enter the client ID from the BMW CarData portal' }));
  const stored = tokensFromStored(credentials);
  if (stored) {
    // Another credential of the same login in this n8n process may have refreshed since: BMW retired this one's
    // refresh token then, so take the newer set rather than refreshing with it.
    const ring = TokenRing.key(endpoint.authBaseUrl, endpoint.clientId, stored.gcid);
    const newer = processTokens.newerThan(ring, stored);
    if (newer) return tokenFields(newer, credentials);
    try {
      const fresh = await refreshTokens(endpoint, stored.refreshToken);
      processTokens.offer(TokenRing.key(endpoint.authBaseUrl, endpoint.clientId, stored.gcid ?? fresh.gcid), fresh);
      return tokenFields(fresh, credentials);
    } catch (e) {
      throw loginError(e);
    }
  }
  const deviceCode = text(credentials.deviceCode);
  const expiresAt = Number(credentials.deviceExpiresAt) || 0;
  if (deviceCode && expiresAt > Date.now()) {
    const pending: DeviceAuthorization = {
      deviceCode,
      codeVerifier: text(credentials.codeVerifier),
      expiresAt,
      interval: Number(credentials.deviceInterval) || 5,
      userCode: text(credentials.userCode),
      verificationUri: text(credentials.verificationUrl),
      verificationUriComplete: text(credentials.verificationUrl),
    };
    try {
      const result = await pollDeviceAuthorization(endpoint, pending);
      if (result.status === 'success') return tokenFields(result.tokens, credentials);
      return { accessToken: '', deviceInterval: String(result.interval) };
    } catch (e) {
      // A declined or expired code: start over with a new one below, so the next reopen shows a fresh code.
      if (!(e instanceof CarDataError) || (e.oauthError !== 'access_denied' && e.oauthError !== 'expired_token')) throw loginError(e);
    }
  }
  try {
    return deviceFields(await startDeviceAuthorization(endpoint));
  } catch (e) {
    throw loginError(e);
  }
}

/**
 * The credential test asks the CarData API nothing, so opening the credential costs no call of the day. Its request
 * is a GET of the token service's address, sent without the token, whatever it answers; before it is sent, the
 * check below runs (authenticate). A login not renewed in the last RENEWED_WITHIN_MS is first renewed: the check
 * answers as an expired token would (401), on which n8n runs preAuthentication (a token refresh, which counts no
 * CarData call), stores the rotated tokens and checks again. A refresh token BMW no longer takes fails the test
 * with BMW's words, as a login that never finished does.
 */
const CHECK_PATH = '/oauth/token';

/** How recent a renewal the credential test takes as proof that the login works. */
const RENEWED_WITHIN_MS = 10 * 60_000;

const NOT_LOGGED_IN =
  'Not logged in yet. Close and reopen this credential, open the Login Link, sign in with your BMW ID, confirm the User Code, then click Retry (not Save).';

function isCheck(request: IHttpRequestOptions): boolean {
  return request.url === CHECK_PATH && (request.method ?? 'GET') === 'GET';
}

/** The credential test's verdict on the login; nothing to say when it works. */
function checkLogin(credentials: ICredentialDataDecryptedObject, now = Date.now()): void {
  if (!text(credentials.accessToken)) throw new Error(NOT_LOGGED_IN);
  const renewedAt = Date.parse(text(credentials.renewedAt));
  if (!(now - renewedAt < RENEWED_WITHIN_MS && renewedAt <= now + 60_000)) {
    // n8n renews a login whose request was answered 401, then authenticates again.
    throw Object.assign(new Error('The login is renewed before it is checked'), { response: { status: 401 } });
  }
  if (lacksApiScope(credentials.scope)) {
    const { message, hint } = CU_CODES['CU-103'];
    throw new Error(`BMW granted this login no CarData API access, so every call would be answered CU-103 (${message}). ${hint}`);
  }
}

export class BmwCarDataApi implements ICredentialType {
  name = 'bmwCarDataApi';

  displayName = 'BMW CarData API';

  icon = { light: 'file:../icons/bmwCarData.svg', dark: 'file:../icons/bmwCarData.dark.svg' } as const;

  documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-bmw-cardata';

  properties: INodeProperties[] = [
    {
      displayName:
        'To log in: 1. Enter the client ID and click Save. 2. Close and reopen this credential: Login Link and User Code are filled in. 3. Open the link, sign in with your BMW ID and confirm the code. 4. Click Retry (not Save); the test then says the connection works. Testing the credential costs none of the 50 daily CarData calls.',
      name: 'loginNotice',
      type: 'notice',
      default: '',
    },
    {
      displayName: 'Client ID',
      name: 'clientId',
      type: 'string',
      typeOptions: { password: true },
      required: true,
      default: '',
      description: 'The client ID created in the BMW CarData portal (My BMW, Vehicle Overview, BMW CarData), with "CarData API" subscribed',
    },
    {
      displayName: 'Login Link',
      name: 'verificationUrl',
      type: 'string',
      default: '',
      description: 'Filled in by n8n when the login starts: open it, sign in with your BMW ID and confirm the User Code',
    },
    {
      displayName: 'User Code',
      name: 'userCode',
      type: 'string',
      default: '',
      description: 'Filled in by n8n when the login starts; the browser page asks for it',
    },
    {
      displayName: 'Refresh Token',
      name: 'refreshToken',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description:
        'Filled in by the login. Instead of logging in here you can paste a refresh token printed by "npx bmw-cardata login --client-id <ID> --print". BMW replaces it on every use; n8n stores the new one.',
    },
    {
      displayName: 'Keep in Reserve',
      name: 'quotaReserve',
      type: 'number',
      typeOptions: { minValue: 0 },
      default: DEFAULT_QUOTA_RESERVE,
      description:
        'The last calls of the 50 a day that only manual executions may spend. Executions started by a trigger or a schedule, and the BMW CarData Trigger, stop before them, so a workflow that runs on its own never leaves you without calls. 0 gives them the whole day.',
    },
    {
      displayName: 'API Base URL',
      name: 'apiBaseUrl',
      type: 'string',
      default: DEFAULT_API_BASE_URL,
      description: 'The CarData Customer API. Change it only to use a local simulator.',
    },
    {
      displayName: 'Auth Base URL',
      name: 'authBaseUrl',
      type: 'string',
      default: DEFAULT_AUTH_BASE_URL,
      description: "BMW's login service (GCDM). Change it only to use a local simulator.",
    },
    {
      displayName: 'Stream URL',
      name: 'streamUrl',
      type: 'string',
      default: DEFAULT_STREAM_URL,
      description: "BMW's CarData stream broker (MQTT), used by the stream trigger. Change it only to use a local simulator.",
    },
    {
      displayName: 'Car Names',
      name: 'vehicleNames',
      type: 'string',
      typeOptions: { rows: 2 },
      default: '',
      placeholder: 'e.g. WBA31AW090FP00001=iX',
      description:
        'Optional: a name per car, one VIN=name per line. Every item carries it as vehicleName; a car without one is called by its model name once basic data was read, else by its VIN.',
    },
    {
      displayName: 'Tariff',
      name: 'tariff',
      type: 'string',
      typeOptions: { rows: 2 },
      default: '',
      placeholder: 'e.g. {"currency": "EUR", "pricePerKwh": 0.32}',
      description:
        'Optional: what charging costs you, as JSON: currency and pricePerKwh, optionally perSession, timeOfUse windows ([{"from": "22:00", "to": "06:00", "pricePerKwh": 0.22}], with days 1 = Monday to 7) and their timeZone (e.g. Europe/Berlin). With it, Charging Finished carries cost, the Monthly Summary a cost (months in this time zone, else UTC), and charging-history rows our cost beside BMW\'s. Without it no cost appears anywhere.',
    },
    { displayName: 'Access Token', name: 'accessToken', type: 'hidden', typeOptions: { expirable: true, password: true }, default: '' },
    { displayName: 'ID Token', name: 'idToken', type: 'hidden', typeOptions: { password: true }, default: '' },
    { displayName: 'GCID', name: 'gcid', type: 'hidden', default: '' },
    { displayName: 'Scope', name: 'scope', type: 'hidden', default: '' },
    { displayName: 'Expires At', name: 'expiresAt', type: 'hidden', default: '' },
    { displayName: 'Renewed At', name: 'renewedAt', type: 'hidden', default: '' },
    { displayName: 'Device Code', name: 'deviceCode', type: 'hidden', typeOptions: { password: true }, default: '' },
    { displayName: 'Code Verifier', name: 'codeVerifier', type: 'hidden', typeOptions: { password: true }, default: '' },
    { displayName: 'Device Code Expires At', name: 'deviceExpiresAt', type: 'hidden', default: '' },
    { displayName: 'Device Poll Interval', name: 'deviceInterval', type: 'hidden', default: '' },
  ];

  async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<IDataObject> {
    return await preAuthenticate(this, credentials);
  }

  /** The access token on every CarData call; the credential test's check instead (see CHECK_PATH). */
  async authenticate(credentials: ICredentialDataDecryptedObject, request: IHttpRequestOptions): Promise<IHttpRequestOptions> {
    if (isCheck(request)) {
      checkLogin(credentials);
      return request;
    }
    return { ...request, headers: { ...request.headers, Authorization: `Bearer ${text(credentials.accessToken)}` } };
  }

  test: ICredentialTestRequest = {
    request: {
      baseURL: `={{$credentials.authBaseUrl || ${JSON.stringify(DEFAULT_AUTH_BASE_URL)}}}`,
      method: 'GET',
      url: CHECK_PATH,
      ignoreHttpStatusErrors: true,
    },
  };
}
