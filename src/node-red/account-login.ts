import type { NodeAPI } from 'node-red';
import {
  CarDataError,
  isWebLink,
  nodeSleep,
  startDeviceAuthorization,
  waitForDeviceAuthorization,
  type AuthEndpoint,
  type DeviceAuthorization,
  type TokenSet,
  type Transport,
} from '../node';

/** BMW asks for 5 s between polls; never poll faster than once a second, whatever an endpoint answers. */
const MIN_POLL_MS = 1000;
/** A finished login's outcome stays readable this long, so a dialog that polls late still sees it. */
const OUTCOME_TTL_MS = 10 * 60_000;

/** An error as the editor shows it: never a token. */
export interface EditorError {
  code: string;
  message: string;
  hint: string;
}

export function editorError(e: unknown): EditorError {
  if (e instanceof CarDataError) return { code: e.code, message: e.message, hint: e.hint };
  return { code: 'error', message: e instanceof Error ? e.message : String(e), hint: '' };
}

/** The GCID shortened to its first and last characters. */
export function shortGcid(gcid: string | undefined): string | null {
  if (!gcid) return null;
  return gcid.length <= 10 ? gcid : `${gcid.slice(0, 4)}…${gcid.slice(-4)}`;
}

interface Login {
  auth: DeviceAuthorization;
  clientId: string;
  state: 'pending' | 'success' | 'error';
  error?: EditorError;
  gcid?: string;
  /** Cancels the wait (Cancel in the dialog, a new login, the account's removal). */
  abort: AbortController;
  cleanup?: NodeJS.Timeout;
}

/** Node's sleep, at least MIN_POLL_MS, cut short when `signal` aborts; it never holds the process open. */
function pollSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(MIN_POLL_MS, ms));
      timer.unref?.();
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}

/** What the dialog's status poll sees of an account's login. Never a token or the device code. */
export type LoginStatus =
  | { status: 'none' }
  | { status: 'pending'; userCode: string; verificationUriComplete: string; secondsLeft: number }
  | { status: 'success'; gcid: string | null }
  | { status: 'error'; error?: EditorError };

/** Stores the tokens of a finished login for the account `id`, with the client ID the login used. */
export type SaveLogin = (id: string, tokens: TokenSet, clientId: string) => Promise<void>;

/**
 * The device logins started from the editor, at most one per account node: each polls BMW in the runtime until
 * the user approved, declined or the code expired, hands the tokens to `save`, and keeps its outcome a while for
 * the dialog to read. The wait is core's, the command line's: a hiccup of the login service is polled through until
 * the code expires; only BMW's refusal (declined, expired, a wrong client ID) ends the login early.
 */
export class LoginSessions {
  private readonly logins = new Map<string, Login>();

  constructor(
    private readonly RED: NodeAPI,
    private readonly transport: Transport,
    private readonly save: SaveLogin,
  ) {}

  /** Starts a login for the account `id` (ending one under way); the user is to open its link. */
  async start(id: string, clientId: string, authBaseUrl: string): Promise<DeviceAuthorization> {
    this.stop(id);
    const endpoint: AuthEndpoint = { transport: this.transport, sleep: nodeSleep, clientId, authBaseUrl };
    const auth = await startDeviceAuthorization(endpoint);
    // The user is asked to open this link: only a web address, never javascript:, data: or the like.
    if (!isWebLink(auth.verificationUri) || !isWebLink(auth.verificationUriComplete)) {
      throw new CarDataError({
        kind: 'response',
        message: this.RED._('bmw-cardata-account.error.badLink'),
        hint: this.RED._('bmw-cardata-account.error.badLinkHint'),
      });
    }
    const login: Login = { auth, clientId, state: 'pending', abort: new AbortController() };
    this.logins.set(id, login);
    void this.wait(id, login, endpoint);
    return auth;
  }

  status(id: string): LoginStatus {
    const login = this.logins.get(id);
    if (!login) return { status: 'none' };
    const secondsLeft = Math.max(0, Math.round((login.auth.expiresAt - Date.now()) / 1000));
    if (login.state === 'pending') {
      return { status: 'pending', userCode: login.auth.userCode, verificationUriComplete: login.auth.verificationUriComplete, secondsLeft };
    }
    if (login.state === 'success') return { status: 'success', gcid: shortGcid(login.gcid) };
    return { status: 'error', error: login.error };
  }

  /** Ends the account's login and forgets its outcome; says whether there was one. */
  stop(id: string): boolean {
    const login = this.logins.get(id);
    if (!login) return false;
    login.abort.abort();
    if (login.cleanup) clearTimeout(login.cleanup);
    this.logins.delete(id);
    return true;
  }

  private finish(id: string, login: Login): void {
    login.cleanup = setTimeout(() => {
      if (this.logins.get(id) === login) this.logins.delete(id);
    }, OUTCOME_TTL_MS);
    login.cleanup.unref?.();
  }

  /** Polls from BMW's first interval on until the user approved, declined or the code expired, then saves. */
  private async wait(id: string, login: Login, endpoint: AuthEndpoint): Promise<void> {
    const { signal } = login.abort;
    const sleep = pollSleep(signal);
    try {
      await sleep(login.auth.interval * 1000);
      const tokens = await waitForDeviceAuthorization({ ...endpoint, sleep }, login.auth, { signal });
      if (this.logins.get(id) !== login) return;
      await this.save(id, tokens, login.clientId);
      login.state = 'success';
      login.gcid = tokens.gcid;
    } catch (e) {
      if (this.logins.get(id) !== login) return;
      login.state = 'error';
      login.error = editorError(e);
    }
    this.finish(id, login);
  }
}
