import { CSRF_COOKIE, CSRF_HEADER, type DeviceView } from '@yoke/protocol';

/** The path people open to approve a device (the CLI prints it as the verification URI). */
export const DEVICE_PAGE_PATH = '/api/v1/auth/device/verify';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function layout(body: string, title = 'Approve a device'): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Yoke: ${esc(title)}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
code{font-size:1.4rem;letter-spacing:.1em}button{font-size:1rem;margin-right:.5rem;padding:.4rem 1rem}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
}

/** Single sign-on without an org named yet: ask for it, keep where to go back to. */
export function orgPickerPage(returnTo: string | undefined): string {
  return layout(
    `<form method="get" action="/api/v1/auth/oidc/login"><label>Org <input name="org" required pattern="[a-z0-9-]+"
autofocus></label>${returnTo ? `<input type="hidden" name="returnTo" value="${esc(returnTo)}">` : ''}
<button type="submit">Continue</button></form>`,
    'Sign in to Yoke',
  );
}

/** Not signed in: which org to sign in to, then back here with the code. */
export function signInPage(userCode: string): string {
  return layout(`<p>Sign in to approve the code <code>${esc(userCode || '…')}</code>.</p>
<form method="get" action="/api/v1/auth/oidc/login"><label>Org <input name="org" required pattern="[a-z0-9-]+"></label>
<input type="hidden" name="returnTo" value="${esc(`${DEVICE_PAGE_PATH}?code=${encodeURIComponent(userCode)}`)}">
<button type="submit">Sign in</button></form>`);
}

/** Signed in: what is asking, for which access, and the two answers (sent with the session's CSRF token). */
export function decidePage(who: { email: string; org: string }, device: DeviceView | null, userCode: string): string {
  const what = device
    ? `<p><b>${esc(device.clientName)}</b> asks for <b>${device.scope === 'read' ? 'read-only' : 'read and write'}</b>
access to <b>${esc(who.org)}</b> as <b>${esc(who.email)}</b>.</p><p>Code: <code>${esc(device.userCode)}</code>
(${esc(device.status)})</p>`
    : `<p>No pending request has the code <code>${esc(userCode || '…')}</code>, or it expired.</p>`;
  const buttons =
    device?.status === 'pending'
      ? `<button data-approve="true">Approve</button><button data-approve="false">Deny</button><p id="out"></p>
<script>
for (const b of document.querySelectorAll('button[data-approve]')) b.onclick = async () => {
  const csrf = decodeURIComponent((document.cookie.match(/(?:^|; )${CSRF_COOKIE}=([^;]*)/) || [])[1] || '');
  const res = await fetch('/api/v1/auth/device/decision', { method: 'POST', credentials: 'same-origin',
    headers: { 'content-type': 'application/json', '${CSRF_HEADER}': csrf },
    body: JSON.stringify({ userCode: ${JSON.stringify(device.userCode)}, approve: b.dataset.approve === 'true' }) });
  const body = await res.json();
  document.getElementById('out').textContent = res.ok
    ? (body.status === 'approved' ? 'Approved: you can go back to your terminal.' : 'Denied.')
    : body.message;
  for (const x of document.querySelectorAll('button')) x.disabled = true;
};
</script>`
      : '';
  return layout(what + buttons);
}
