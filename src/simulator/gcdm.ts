import type { DeviceCodeStore } from './accounts';
import { pkceChallenge } from './accounts';
import type { Reply } from './reply';
import { json, oauthError } from './reply';
import type { TokenStore } from './tokens';
import { ACCOUNT_SCOPES, SCOPE_WHEN_OMITTED } from './tokens';

// The two OAuth endpoints of GCDM (FACTS.md §1), including its unusual status codes: 403 while pending,
// 401 when the code expired, 400 for slow_down.

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const INVALID_GRANT = 'The provided access grant is invalid, expired, or revoked.';

export interface GcdmDeps {
  now: () => number;
  gcid: string;
  devices: DeviceCodeStore;
  tokens: TokenStore;
  pollIntervalSec: number;
  deviceCodeTtlSec: number;
  /** `${url}/gcdm/oneid/link` */
  verificationUri: string;
}

function missing(form: Record<string, string>, names: string[]): string | undefined {
  return names.find((n) => !form[n]);
}

export function deviceCode(form: Record<string, string>, deps: GcdmDeps): Reply {
  const absent = missing(form, ['client_id', 'response_type', 'code_challenge', 'code_challenge_method']);
  if (absent) return oauthError(400, 'invalid_request', `Missing parameter, '${absent}'`);
  if (form.response_type !== 'device_code') {
    return oauthError(400, 'invalid_request', "response_type must be 'device_code'");
  }
  if (form.code_challenge_method !== 'S256') {
    return oauthError(400, 'invalid_request', "code_challenge_method must be 'S256'");
  }
  // BASE64URL(SHA-256) without padding is always 43 characters.
  if (!/^[A-Za-z0-9_-]{43}$/.test(form.code_challenge)) {
    return oauthError(400, 'invalid_request', 'code_challenge is not a BASE64URL encoded SHA-256 digest');
  }
  let scope = SCOPE_WHEN_OMITTED;
  if (form.scope !== undefined && form.scope.trim() !== '') {
    const requested = form.scope.split(/\s+/).filter(Boolean);
    const granted = requested.filter((s) => ACCOUNT_SCOPES.includes(s));
    if (granted.length === 0) return oauthError(400, 'invalid_scope', 'None of the requested scopes is registered');
    scope = [...new Set(granted)].join(' ');
  }
  const rec = deps.devices.issue(form.client_id, form.code_challenge, scope);
  return json(200, {
    device_code: rec.deviceCode,
    user_code: rec.userCode,
    verification_uri: deps.verificationUri,
    verification_uri_complete: `${deps.verificationUri}?user_code=${encodeURIComponent(rec.userCode)}`,
    expires_in: deps.deviceCodeTtlSec,
    interval: deps.pollIntervalSec,
  });
}

export function token(form: Record<string, string>, deps: GcdmDeps): Reply {
  if (!form.grant_type) return oauthError(400, 'invalid_request', "Missing parameter, 'grant_type'");
  if (form.grant_type === DEVICE_CODE_GRANT) return deviceCodeGrant(form, deps);
  if (form.grant_type === 'refresh_token') return refreshGrant(form, deps);
  return oauthError(400, 'unsupported_grant_type', 'Grant type is not supported');
}

function deviceCodeGrant(form: Record<string, string>, deps: GcdmDeps): Reply {
  const absent = missing(form, ['client_id', 'device_code', 'code_verifier']);
  if (absent) return oauthError(400, 'invalid_request', `Missing parameter, '${absent}'`);
  const rec = deps.devices.byDeviceCode(form.device_code);
  if (!rec) return oauthError(400, 'invalid_grant', INVALID_GRANT);
  if (rec.clientId !== form.client_id) {
    return oauthError(
      401,
      'invalid_client',
      'Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).',
    );
  }
  const state = deps.devices.stateOf(rec);
  if (state === 'used') return oauthError(400, 'invalid_grant', INVALID_GRANT);
  if (state === 'expired') return oauthError(401, 'expired_token', 'The code is expired');

  const now = deps.now();
  const tooSoon = deps.pollIntervalSec > 0 && rec.lastPollAt !== undefined && now - rec.lastPollAt < deps.pollIntervalSec * 1000;
  rec.lastPollAt = now;
  if (tooSoon) return oauthError(400, 'slow_down', 'The polling interval has not elapsed since the last request');

  if (state === 'pending') return oauthError(403, 'authorization_pending', 'The user has not yet completed authorization');
  if (state === 'denied') return oauthError(403, 'access_denied', 'The user has declined authorization');
  if (pkceChallenge(form.code_verifier) !== rec.codeChallenge) {
    return oauthError(400, 'invalid_grant', 'The code_verifier does not match the code_challenge.');
  }
  rec.state = 'used';
  return json(200, deps.tokens.issue(deps.gcid, rec.scope, rec.clientId), { 'Cache-Control': 'no-store' });
}

function refreshGrant(form: Record<string, string>, deps: GcdmDeps): Reply {
  const absent = missing(form, ['refresh_token', 'client_id']);
  if (absent) return oauthError(400, 'invalid_request', `Missing parameter, '${absent}'`);
  const tokens = deps.tokens.refresh(form.refresh_token, form.client_id);
  if (!tokens) return oauthError(400, 'invalid_grant', INVALID_GRANT);
  return json(200, tokens, { 'Cache-Control': 'no-store' });
}
