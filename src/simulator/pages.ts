import type { DeviceCodeStore } from './accounts';
import type { Reply } from './reply';
import { html } from './reply';
import type { DeviceCodeState } from './types';

// The stand-in for BMW's "oneid/link" login page: the user confirms a user_code with one click, no password.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · CarData Simulator</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         color: #1f2933; background: linear-gradient(160deg, #eef2f7 0%, #dde4ee 100%); }
  header { display: flex; align-items: center; gap: 12px; padding: 14px 24px; background: #0b1f3a; color: #fff; }
  header .logo { width: 30px; height: 30px; border-radius: 8px; background: #1c69d4; color: #fff; font: 700 15px/30px system-ui, sans-serif; text-align: center; }
  header strong { font-size: 17px; letter-spacing: .02em; }
  .badge { margin-left: auto; padding: 3px 10px; border-radius: 999px; background: #f5a524; color: #1f2933;
           font-size: 12px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; }
  main { display: flex; justify-content: center; padding: 48px 16px; }
  .card { width: 100%; max-width: 440px; padding: 32px; border-radius: 14px; background: #fff;
          box-shadow: 0 10px 30px rgba(11, 31, 58, .12); }
  h1 { margin: 0 0 8px; font-size: 22px; }
  p { margin: 0 0 16px; color: #52606d; }
  .code { margin: 20px 0; padding: 14px; border-radius: 10px; background: #f0f4f8; text-align: center;
          font: 700 30px/1.2 ui-monospace, "SFMono-Regular", Menlo, monospace; letter-spacing: .2em; }
  ul { margin: 0 0 20px; padding-left: 20px; color: #52606d; }
  .actions { display: flex; gap: 12px; }
  .actions form { flex: 1; }
  button, input[type=text] { width: 100%; padding: 12px 16px; border-radius: 8px; font-size: 16px; }
  button { border: 0; font-weight: 600; cursor: pointer; }
  #approve { background: #1c69d4; color: #fff; }
  #approve:hover { background: #1554ad; }
  #deny { background: #e4e7eb; color: #1f2933; }
  #deny:hover { background: #cbd2d9; }
  #lookup { margin-top: 12px; background: #1c69d4; color: #fff; }
  input[type=text] { border: 1px solid #cbd2d9; text-transform: uppercase; letter-spacing: .15em; font-family: ui-monospace, Menlo, monospace; }
  .result { font-size: 18px; font-weight: 600; }
  .ok { color: #1f7a3d; } .bad { color: #b42318; }
  footer { text-align: center; color: #7b8794; font-size: 13px; padding-bottom: 24px; }
</style>
</head>
<body>
<header><span class="logo" aria-hidden="true">CD</span><strong>CarData Simulator</strong><span class="badge">Simulator · not BMW</span></header>
<main><div class="card">
${content}
</div></main>
<footer>Local BMW CarData simulator for development. No real account, vehicle or BMW service is involved.</footer>
</body>
</html>`;
}

function entryForm(message?: string): string {
  return `<h1>Connect a device</h1>
${message ? `<p class="bad">${escapeHtml(message)}</p>` : '<p>Enter the code shown by the application.</p>'}
<form method="get" action="/gcdm/oneid/link">
  <input type="text" id="user_code" name="user_code" maxlength="8" autocomplete="off" autofocus placeholder="XXXXXXXX" aria-label="User code">
  <button type="submit" id="lookup">Continue</button>
</form>`;
}

function consentPage(userCode: string, scope: string): string {
  const code = escapeHtml(userCode);
  const scopes = scope
    .split(' ')
    .map((s) => `<li><code>${escapeHtml(s)}</code></li>`)
    .join('');
  return `<h1>Approve access to your vehicles?</h1>
<p>An application asks for access to the simulated BMW CarData account. Check that it shows this code:</p>
<div class="code" id="code">${code}</div>
<p>Requested scopes:</p>
<ul>${scopes}</ul>
<div class="actions">
  <form method="post" action="/gcdm/oneid/approve"><input type="hidden" name="user_code" value="${code}"><button type="submit" id="approve">Approve</button></form>
  <form method="post" action="/gcdm/oneid/deny"><input type="hidden" name="user_code" value="${code}"><button type="submit" id="deny">Deny</button></form>
</div>`;
}

const STATE_TEXT: Record<DeviceCodeState, string> = {
  pending: 'is waiting for your decision',
  approved: 'has been approved',
  denied: 'has been denied',
  expired: 'has expired: start the login again in the application',
  used: 'has already been used by the application',
};

function resultPage(userCode: string, state: DeviceCodeState, justNow: boolean): string {
  const good = state === 'approved' || state === 'used';
  const headline = justNow && state === 'approved' ? 'Access approved' : justNow && state === 'denied' ? 'Access denied' : `Code ${escapeHtml(userCode)}`;
  const detail =
    justNow && state === 'approved'
      ? 'The application can now fetch its tokens. You can close this window and return to it.'
      : justNow && state === 'denied'
        ? 'The application was not given access. You can close this window.'
        : `This code ${STATE_TEXT[state]}.`;
  return `<h1>${headline}</h1>
<p class="result ${good ? 'ok' : 'bad'}" id="result" data-state="${state}">${detail}</p>`;
}

export function linkPage(query: Record<string, string>, devices: DeviceCodeStore): Reply {
  const userCode = (query.user_code ?? '').trim();
  if (!userCode) return html(200, layout('Connect a device', entryForm()));
  const rec = devices.byUserCode(userCode);
  if (!rec) return html(404, layout('Unknown code', entryForm(`The code ${userCode} is unknown.`)));
  const state = devices.stateOf(rec);
  if (state !== 'pending') return html(200, layout('Device login', resultPage(rec.userCode, state, false)));
  return html(200, layout('Approve access', consentPage(rec.userCode, rec.scope)));
}

export function decide(form: Record<string, string>, decision: 'approved' | 'denied', devices: DeviceCodeStore): Reply {
  const userCode = (form.user_code ?? '').trim();
  const rec = userCode ? devices.byUserCode(userCode) : undefined;
  if (!rec) return html(404, layout('Unknown code', entryForm(userCode ? `The code ${userCode} is unknown.` : undefined)));
  const state = devices.stateOf(rec);
  if (state !== 'pending' && state !== decision) {
    return html(409, layout('Device login', resultPage(rec.userCode, state, false)));
  }
  devices.decide(rec.userCode, decision);
  return html(200, layout(decision === 'approved' ? 'Access approved' : 'Access denied', resultPage(rec.userCode, decision, true)));
}

/** A landing page at "/" so someone opening the base URL in a browser sees what this is. */
export function indexPage(info: { apiBaseUrl: string; authBaseUrl: string; vins: Record<string, string> }): Reply {
  const vins = Object.entries(info.vins)
    .map(([k, v]) => `<li>${escapeHtml(k)}: <code>${escapeHtml(v)}</code></li>`)
    .join('');
  return html(
    200,
    layout(
      'Overview',
      `<h1>BMW CarData simulator</h1>
<p>REST API: <code>${escapeHtml(info.apiBaseUrl)}/customers/…</code><br>
GCDM: <code>${escapeHtml(info.authBaseUrl)}/oauth/…</code></p>
<p>Vehicles:</p><ul>${vins}</ul>
<form method="get" action="/gcdm/oneid/link"><button type="submit" id="lookup">Approve a device code</button></form>`,
    ),
  );
}
