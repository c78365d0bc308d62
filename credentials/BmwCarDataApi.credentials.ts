import type {
  IAuthenticateGeneric,
  ICredentialDataDecryptedObject,
  ICredentialTestRequest,
  ICredentialType,
  IDataObject,
  IHttpRequestHelper,
  INodeProperties,
  IAuthenticateRuleResponseSuccessBody,
} from 'n8n-workflow';
import { sleep } from 'n8n-workflow';
import { DEFAULT_API_BASE_URL } from '../src/core/api/client';
import { type DeviceAuthorization, DEFAULT_AUTH_BASE_URL, pollDeviceAuthorization, refreshTokens, startDeviceAuthorization } from '../src/core/login/device-flow';
import { CarDataError, CU_CODES, LoginError } from '../src/core/errors';
import { probeRequest } from '../src/core/api/operations';
import { DEFAULT_STREAM_URL } from '../src/core/stream/types';
import type { TokenSet } from '../src/core/types';
import { HttpRequestTransport } from '../src/n8n/transport';

/** Fields the login writes back; all of them are cleared or replaced together. */
const DEVICE_FIELDS_CLEARED = { deviceCode: '', codeVerifier: '', deviceExpiresAt: '', deviceInterval: '', userCode: '', verificationUrl: '' };

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : String(value).trim();
}

function tokenFields(tokens: TokenSet, previous: ICredentialDataDecryptedObject): IDataObject {
  return {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    idToken: tokens.idToken ?? text(previous.idToken),
    gcid: tokens.gcid ?? text(previous.gcid),
    scope: tokens.scope ?? text(previous.scope),
    expiresAt: new Date(tokens.expiresAt).toISOString(),
    ...DEVICE_FIELDS_CLEARED,
  };
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
  if (!(error instanceof CarDataError)) login = new LoginError({ kind: 'auth', message: error instanceof Error ? error.message : 'BMW login failed', cause: error });
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
  if (!endpoint.clientId) throw loginError(new LoginError({ kind: 'input', parameter: 'clientId', message: 'Enter the client ID from the BMW CarData portal' }));
  const refreshToken = text(credentials.refreshToken);
  if (refreshToken) {
    try {
      return tokenFields(await refreshTokens(endpoint, refreshToken), credentials);
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

/** The credential test's request, as core's operations table describes it. */
const PROBE = probeRequest();

const NOT_LOGGED_IN =
  'Not logged in yet. Close and reopen this credential, open the Login Link, sign in with your BMW ID, confirm the User Code, then click Retry (not Save).';

/** One rule per BMW error code, so the test says in words what BMW refused. */
const CU_RULES: IAuthenticateRuleResponseSuccessBody[] = Object.entries(CU_CODES)
  .filter(([code]) => code !== 'CU-100')
  .map(([code, { message, hint }]) => ({
    type: 'responseSuccessBody',
    properties: { key: 'exveErrorId', value: code, message: `BMW answered ${code} (${message}). ${hint}` },
  }));

export class BmwCarDataApi implements ICredentialType {
  name = 'bmwCarDataApi';

  displayName = 'BMW CarData API';

  icon = { light: 'file:../icons/bmwCarData.svg', dark: 'file:../icons/bmwCarData.dark.svg' } as const;

  documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-bmw-cardata';

  properties: INodeProperties[] = [
    {
      displayName:
        'To log in: 1. Enter the client ID and click Save. 2. Close and reopen this credential: Login Link and User Code are filled in. 3. Open the link, sign in with your BMW ID and confirm the code. 4. Click Retry (not Save); the test then says the connection works. Testing the credential spends one of the 50 daily CarData calls.',
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
        'Filled in by the login. Instead of logging in here you can paste a refresh token obtained with "npx n8n-nodes-bmw-cardata login". BMW replaces it on every use; n8n stores the new one.',
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
    { displayName: 'Access Token', name: 'accessToken', type: 'hidden', typeOptions: { expirable: true, password: true }, default: '' },
    { displayName: 'ID Token', name: 'idToken', type: 'hidden', typeOptions: { password: true }, default: '' },
    { displayName: 'GCID', name: 'gcid', type: 'hidden', default: '' },
    { displayName: 'Scope', name: 'scope', type: 'hidden', default: '' },
    { displayName: 'Expires At', name: 'expiresAt', type: 'hidden', default: '' },
    { displayName: 'Device Code', name: 'deviceCode', type: 'hidden', typeOptions: { password: true }, default: '' },
    { displayName: 'Code Verifier', name: 'codeVerifier', type: 'hidden', typeOptions: { password: true }, default: '' },
    { displayName: 'Device Code Expires At', name: 'deviceExpiresAt', type: 'hidden', default: '' },
    { displayName: 'Device Poll Interval', name: 'deviceInterval', type: 'hidden', default: '' },
  ];

  async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<IDataObject> {
    return await preAuthenticate(this, credentials);
  }

  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: {
      headers: { Authorization: '=Bearer {{$credentials.accessToken}}' },
    },
  };

  test: ICredentialTestRequest = {
    request: {
      baseURL: '={{$credentials.apiBaseUrl}}',
      method: PROBE.method,
      url: PROBE.path,
      headers: PROBE.headers,
      // Every answer reaches the rules below, so the test reports BMW's error code in words.
      ignoreHttpStatusErrors: true,
    },
    rules: [{ type: 'responseSuccessBody', properties: { key: 'exveErrorId', value: 'CU-100', message: NOT_LOGGED_IN } }, ...CU_RULES],
  };
}
