// The only way the UI talks to shieldd: JSON over /v1 with the session cookie.
// Every failure becomes an ApiError whose message is fit to show a user.

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status;
    this.body = body || null;
    this.missing = Array.isArray(body?.missing) ? body.missing.map(String) : [];
    this.reasons = Array.isArray(body?.reasons) ? body.reasons.map(String) : [];
    this.handled = false;
  }
}

let unauthorized = () => {};

// The app installs what to do when a request comes back 401 (session gone).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

function errorText(status, statusText, body, text) {
  if (body && typeof body.error === 'string' && body.error.trim() !== '')
    return body.error.trim();
  if (status === 0)
    return 'cannot reach the SHIELD daemon';
  const snippet = (text || '').trim().slice(0, 200);
  return `HTTP ${status} ${statusText || ''}`.trim() + (snippet ? `: ${snippet}` : '');
}

export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, null, `cannot reach the SHIELD daemon (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text !== '') {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data, errorText(res.status, res.statusText, data, text));
    if (res.status === 401 && path !== '/v1/auth/login') {
      err.handled = true;
      unauthorized(err);
    }
    throw err;
  }
  if (data === null && text !== '')
    throw new ApiError(res.status, null, `the daemon sent a reply that is not JSON (${path})`);
  return data;
}

// Build "?a=1&b=2" from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, v === true ? 't' : v === false ? 'f' : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const get = (path, params) => api('GET', path + query(params));
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
