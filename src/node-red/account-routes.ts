import type { NextFunction, Request, Response } from 'express';
import type { NodeAPI } from 'node-red';
import { CarDataError, DEFAULT_AUTH_BASE_URL, descriptorsByCategory, descriptorWords, isWebLink, LoginError, unitLabel } from '../node';
import { editorError, type LoginSessions } from './account-login';
import { ACCOUNT_TYPE, text, type AccountCredentials, type AccountNode, type ConnectionState } from './account-types';

/** The header the editor's script (resources/bmw-cardata-editor.js) sets on its requests to the admin routes. */
const EDITOR_HEADER = 'BMW-CarData-Editor';

/** What Node-RED's editor puts in a password credential's field when the runtime has a value for it. */
const PASSWORD_PLACEHOLDER = '__PWRD__';

/** Two base URLs that differ only in surrounding blanks or trailing slashes are the same. */
function sameBaseUrl(a: string, b: string): boolean {
  return a.trim().replace(/\/+$/, '') === b.trim().replace(/\/+$/, '');
}

/** Whether a request's Origin names the host it was sent to. */
function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** What the routes need of the account nodes. */
export interface RouteAccounts {
  logins: LoginSessions;
  /** The deployed account node of this id, if there is one. */
  deployed(id: string): AccountNode | undefined;
  /** The credentials Node-RED holds for this id (also of a node not yet deployed). */
  stored(id: string): AccountCredentials | undefined;
  connectionState(id: string, config?: { dailyQuota?: unknown }): Promise<ConnectionState>;
}

/**
 * The admin routes the account dialog and the nodes' dialogs call: the descriptor catalogue, the connection state,
 * the vehicle list and its refresh, and the device login (start, status, cancel).
 */
export function registerAccountRoutes(RED: NodeAPI, accounts: RouteAccounts): void {
  // Admin routes for the editor: relative to the admin root, guarded by Node-RED's permission check.
  const read = RED.auth.needsPermission(`${ACCOUNT_TYPE}.read`);
  const write = RED.auth.needsPermission(`${ACCOUNT_TYPE}.write`);
  const idOf = (req: Request): string => String(req.params.id);
  const fail = (res: Response, status: number, e: unknown): void => {
    res.status(status).json({ error: editorError(e) });
  };
  // The routes serve the editor only. With adminAuth off anyone who reaches Node-RED may use its admin API, and
  // Node-RED lets every origin read the answers (Access-Control-Allow-Origin: *) and grants every preflight: so a
  // page on another site could read the vehicle list and the live state, or start a login. Every route therefore
  // 1. refuses what the browser marks as coming from another site: Sec-Fetch-Site where the browser sends it, else
  //    an Origin that is not this host (a browser sends Origin on every cross-origin request it lets a page make);
  // 2. asks for a header the editor's script sets (EDITOR_HEADER): a page elsewhere cannot send it without a
  //    preflight, after which its request carries its Origin; a plain link, image, script or form cannot send it;
  // 3. answers without Access-Control-Allow-Origin, so no other origin may read what it says.
  const fromEditor = (req: Request, res: Response, next: NextFunction): void => {
    res.removeHeader('Access-Control-Allow-Origin');
    const site = req.get('sec-fetch-site');
    const origin = req.get('origin');
    if (site ? site !== 'same-origin' && site !== 'none' : origin !== undefined && !sameHost(origin, req.get('host'))) {
      fail(
        res,
        403,
        new CarDataError({ kind: 'input', message: RED._('bmw-cardata-account.error.otherSite'), hint: RED._('bmw-cardata-account.error.otherSiteHint') }),
      );
      return;
    }
    if (!req.get(EDITOR_HEADER)) {
      fail(
        res,
        403,
        new CarDataError({
          kind: 'input',
          message: RED._('bmw-cardata-account.error.editorOnly'),
          hint: RED._('bmw-cardata-account.error.editorOnlyHint', { header: EDITOR_HEADER }),
        }),
      );
      return;
    }
    next();
  };
  // Routes that change something take a JSON body only: a page on another site can post a form or plain text
  // without asking the browser, but JSON only after a CORS preflight.
  const jsonBody = (req: Request, res: Response, next: NextFunction): void => {
    if (!req.is('application/json')) {
      fail(
        res,
        415,
        new CarDataError({ kind: 'input', message: RED._('bmw-cardata-account.error.jsonBody'), hint: RED._('bmw-cardata-account.error.jsonBodyHint') }),
      );
      return;
    }
    next();
  };

  RED.httpAdmin.get('/bmw-cardata/catalogue', read, fromEditor, (_req: Request, res: Response) => {
    res.json(
      descriptorsByCategory().map((g) => ({
        category: g.category.name,
        description: g.category.description,
        descriptors: g.descriptors.map((d) => ({ id: d.id, name: d.name, unit: unitLabel(d.unit), streamable: d.streamable, words: descriptorWords(d.id) })),
      })),
    );
  });

  RED.httpAdmin.get('/bmw-cardata/:id/state', read, fromEditor, (req: Request, res: Response) => {
    accounts.connectionState(idOf(req), { dailyQuota: req.query.dailyQuota }).then(
      (state) => res.json(state),
      (e: unknown) => fail(res, 500, e),
    );
  });

  RED.httpAdmin.get('/bmw-cardata/:id/vehicles', read, fromEditor, (req: Request, res: Response) => {
    const node = accounts.deployed(idOf(req));
    if (!node) {
      res.json({ vehicles: [], fetchedAt: null, deployed: false });
      return;
    }
    node.mappedVehicles(false).then(
      (result) => res.json({ ...result, deployed: true }),
      (e: unknown) => fail(res, 500, e),
    );
  });

  RED.httpAdmin.post('/bmw-cardata/:id/vehicles/refresh', write, jsonBody, fromEditor, (req: Request, res: Response) => {
    const node = accounts.deployed(idOf(req));
    if (!node) {
      fail(
        res,
        409,
        new CarDataError({ kind: 'input', message: RED._('bmw-cardata-account.error.notDeployed'), hint: RED._('bmw-cardata-account.error.notDeployedHint') }),
      );
      return;
    }
    // The picker's refresh button: the user asked, so it may spend the reserve.
    node
      .mappedVehicles(true, true)
      .then(async (result) => res.json({ ...result, deployed: true, quota: (await node.account().client.quotaState()) ?? null }))
      .catch((e: unknown) => fail(res, e instanceof CarDataError && e.kind !== 'network' ? 400 : 502, e));
  });

  RED.httpAdmin.post('/bmw-cardata/:id/auth/start', write, jsonBody, fromEditor, (req: Request, res: Response) => {
    const id = idOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const node = accounts.deployed(id);
    const requestedUrl = text(body.authBaseUrl);
    let clientId: string;
    let authBaseUrl: string;
    if (node) {
      // A deployed account logs in where it is deployed to, never at a URL from the request: its client ID
      // must not be sent anywhere an editor (or a page posting to the editor) names.
      if (requestedUrl && !sameBaseUrl(requestedUrl, node.authBaseUrl)) {
        fail(
          res,
          409,
          new CarDataError({
            kind: 'input',
            parameter: 'authBaseUrl',
            message: RED._('bmw-cardata-account.error.otherAuthUrl'),
            hint: RED._('bmw-cardata-account.error.otherAuthUrlHint'),
          }),
        );
        return;
      }
      // The dialog sends Node-RED's placeholder for a client ID it was not shown (a password credential): the
      // deployed one is used.
      const typed = text(body.clientId) === PASSWORD_PLACEHOLDER ? '' : text(body.clientId);
      clientId = typed || text(node.credentials?.clientId) || text(accounts.stored(id)?.clientId);
      authBaseUrl = node.authBaseUrl;
    } else {
      // A new account: only a client ID typed in the dialog, sent to the URL typed beside it.
      clientId = text(body.clientId);
      authBaseUrl = requestedUrl || DEFAULT_AUTH_BASE_URL;
    }
    if (!isWebLink(authBaseUrl)) {
      fail(
        res,
        400,
        new CarDataError({
          kind: 'input',
          parameter: 'authBaseUrl',
          message: RED._('bmw-cardata-account.error.authUrl'),
          hint: RED._('bmw-cardata-account.error.authUrlHint', { url: DEFAULT_AUTH_BASE_URL }),
        }),
      );
      return;
    }
    accounts.logins.start(id, clientId, authBaseUrl).then(
      (auth) =>
        res.json({
          status: 'pending',
          userCode: auth.userCode,
          verificationUri: auth.verificationUri,
          verificationUriComplete: auth.verificationUriComplete,
          interval: auth.interval,
          expiresAt: new Date(auth.expiresAt).toISOString(),
        }),
      (e: unknown) => fail(res, (e instanceof LoginError && !e.retryable) || (e instanceof CarDataError && e.kind === 'input') ? 400 : 502, e),
    );
  });

  RED.httpAdmin.get('/bmw-cardata/:id/auth/status', write, fromEditor, (req: Request, res: Response) => {
    res.json(accounts.logins.status(idOf(req)));
  });

  RED.httpAdmin.post('/bmw-cardata/:id/auth/cancel', write, jsonBody, fromEditor, (req: Request, res: Response) => {
    res.json({ status: 'cancelled', wasRunning: accounts.logins.stop(idOf(req)) });
  });
}
