// SHIELD web UI: session handling, hash routing and the page frame.
import { api, onUnauthorized } from './lib/api.js';
import { h, clear, fieldRow } from './lib/dom.js';
import * as dashboard from './views/dashboard.js';
import * as systems from './views/systems.js';
import * as config from './views/config.js';
import * as jobs from './views/jobs.js';
import * as archives from './views/archives.js';
import * as tasks from './views/tasks.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
const flashArea = document.getElementById('flash');
const state = { user: null, view: null, returnTo: null, navigated: false };

// [pattern, nav section, handler]
const routes = [
  [/^\/?$/, 'dashboard', dashboard.render],
  [/^\/jobs$/, 'jobs', jobs.list],
  [/^\/jobs\/new$/, 'jobs', (c) => jobs.form(c, null)],
  [/^\/jobs\/([\w-]+)$/, 'jobs', (c, id) => jobs.view(c, id)],
  [/^\/jobs\/([\w-]+)\/edit$/, 'jobs', (c, id) => jobs.form(c, id)],
  [/^\/archives$/, 'archives', archives.list],
  [/^\/archives\/([\w-]+)$/, 'archives', (c, id) => archives.view(c, id)],
  [/^\/tasks$/, 'tasks', tasks.list],
  [/^\/tasks\/([\w-]+)$/, 'tasks', (c, id) => tasks.view(c, id)],
  [/^\/schedules$/, 'schedules', (c) => config.list(c, 'schedule')],
  [/^\/schedules\/new$/, 'schedules', (c) => config.form(c, 'schedule', null)],
  [/^\/schedules\/([\w-]+)$/, 'schedules', (c, id) => config.view(c, 'schedule', id)],
  [/^\/schedules\/([\w-]+)\/edit$/, 'schedules', (c, id) => config.form(c, 'schedule', id)],
  [/^\/retention$/, 'retention', (c) => config.list(c, 'retention')],
  [/^\/retention\/new$/, 'retention', (c) => config.form(c, 'retention', null)],
  [/^\/retention\/([\w-]+)$/, 'retention', (c, id) => config.view(c, 'retention', id)],
  [/^\/retention\/([\w-]+)\/edit$/, 'retention', (c, id) => config.form(c, 'retention', id)],
];
for (const kind of ['target', 'store']) {
  const base = `${kind}s`;
  routes.push(
    [new RegExp(`^/${base}$`), base, (c) => systems.list(c, kind)],
    [new RegExp(`^/${base}/new$`), base, (c) => systems.form(c, kind, null)],
    [new RegExp(`^/${base}/([\\w-]+)$`), base, (c, id) => systems.view(c, kind, id)],
    [new RegExp(`^/${base}/([\\w-]+)/edit$`), base, (c, id) => systems.form(c, kind, id)],
  );
}

// ---- flash messages ----------------------------------------------------------

// A burst of actions must not bury the page under messages: a few at a time,
// the newest replacing the oldest, each going away by itself (errors later).
const FLASH_MAX = 3;
const FLASH_MS = 6000;
const FLASH_ERROR_MS = 12000;

export function flash(message, { kind = 'info', link = null, keep = false } = {}) {
  const close = h('button', { type: 'button', class: 'flash-close', 'aria-label': 'Dismiss message' }, '×');
  const item = h('div', { class: `flash flash-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'flash-text' }, message),
    link ? [' ', h('a', { href: link.href }, link.text)] : null,
    close);
  item.keep = keep;
  close.addEventListener('click', () => item.remove());
  // A message being read (pointer on it) or used (focus in it, its link) stays.
  let timer = null;
  let held = 0;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => item.remove(), kind === 'error' ? FLASH_ERROR_MS : FLASH_MS);
  };
  const hold = (on) => {
    held = Math.max(0, held + (on ? 1 : -1));
    if (held) clearTimeout(timer);
    else arm();
  };
  item.addEventListener('mouseenter', () => hold(true));
  item.addEventListener('mouseleave', () => hold(false));
  item.addEventListener('focusin', () => hold(true));
  item.addEventListener('focusout', () => hold(false));
  flashArea.append(item);
  while (flashArea.children.length > FLASH_MAX) flashArea.firstChild.remove();
  arm();
  return item;
}

function sweepFlash() {
  for (const el of [...flashArea.children]) {
    if (el.keep) el.keep = false;
    else el.remove();
  }
}

// ---- views ---------------------------------------------------------------------

function stopView() {
  if (!state.view) return;
  state.view.alive = false;
  for (const fn of state.view.cleanups.splice(0)) {
    try {
      fn();
    } catch (e) {
      console.error(e);
    }
  }
  state.view = null;
}

function makeContext(params) {
  const ctx = {
    main,
    alive: true,
    cleanups: [],
    query: params,
    onCleanup(fn) {
      ctx.cleanups.push(fn);
    },
    // Run fn now and then every ms after each run finishes, while the view lives.
    // fn may return false to stop.
    poll(fn, ms) {
      let timer = null;
      const tick = async () => {
        if (!ctx.alive) return;
        let again = true;
        try {
          again = (await fn()) !== false;
        } catch (e) {
          if (!e.handled) console.error(e);
        }
        if (ctx.alive && again) timer = setTimeout(tick, ms);
      };
      ctx.onCleanup(() => clearTimeout(timer));
      return tick();
    },
    go(hash) {
      location.hash = hash;
    },
    flash,
    // Reflect filter values in the address without re-rendering the page.
    setQuery(path, values) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(values)) if (v !== '' && v != null) q.set(k, v);
      const s = q.toString();
      history.replaceState(null, '', `#${path}${s ? `?${s}` : ''}`);
    },
    title(t) {
      document.title = `${t} — SHIELD`;
    },
    // Show an error that stopped a whole page from loading.
    fail(err, what) {
      if (err.handled || !ctx.alive) return;
      clear(main).append(h('h1', null, what || 'Something went wrong'),
        h('div', { class: 'form-error', role: 'alert' }, h('p', null, err.message)),
        h('p', null, h('a', { href: '#/' }, 'Back to the dashboard')));
    },
  };
  return ctx;
}

async function route() {
  if (!state.user) return;
  stopView();
  sweepFlash();
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  let match = null;
  for (const [re, nav, fn] of routes) {
    const m = re.exec(path);
    if (m) {
      match = { nav, fn, args: m.slice(1) };
      break;
    }
  }
  for (const a of topbar.querySelectorAll('[data-nav]')) {
    if (match && a.dataset.nav === match.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const ctx = makeContext(new URLSearchParams(qs || ''));
  state.view = ctx;
  clear(main);
  if (!match) {
    ctx.title('Not found');
    main.append(h('h1', null, 'Page not found'),
      h('p', null, 'There is no page at ', h('code', null, path), '. ',
        h('a', { href: '#/' }, 'Go to the dashboard'), '.'));
    return;
  }
  if (state.navigated) main.focus({ preventScroll: true });
  state.navigated = true;
  window.scrollTo(0, 0);
  try {
    await match.fn(ctx, ...match.args);
  } catch (e) {
    ctx.fail(e);
  }
}

// ---- session -----------------------------------------------------------------

// Whether this browser holds a session, as far as the page knows.  The
// cookie is HttpOnly, out of the page's sight; without this note a first
// visit would ask /v1/auth/me and get a 401, which browsers log as an error.
const SESSION_KEY = 'shield.session';

function rememberSession(on) {
  try {
    if (on) localStorage.setItem(SESSION_KEY, '1');
    else localStorage.removeItem(SESSION_KEY);
  } catch {
    // no storage: the start-up probe asks the daemon every time
  }
}

function mayHaveSession() {
  try {
    return localStorage.getItem(SESSION_KEY) !== null;
  } catch {
    return true;
  }
}

function showLogin(message, kind) {
  stopView();
  state.user = null;
  rememberSession(false);
  topbar.hidden = true;
  clear(flashArea);
  document.title = 'Log in — SHIELD';
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'admin' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
  const error = h('p', { class: 'form-error-inline', id: 'login-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Log in');
  const form = h('form', { class: 'login-form', novalidate: true },
    fieldRow({ label: 'Username', control: user, required: true }),
    fieldRow({ label: 'Password', control: pass, required: true }),
    error,
    h('div', { class: 'actions' }, submit));
  const notice = message ?
    h('p', { class: `notice notice-${kind || 'warn'}`, role: 'status', id: 'login-notice' }, message) : null;
  clear(main).append(h('section', { class: 'login-card', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in to SHIELD'), notice, form));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!user.value.trim() || !pass.value) {
      error.textContent = 'Enter your username and password.';
      (user.value.trim() ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      await api('POST', '/v1/auth/login', { username: user.value.trim(), password: pass.value });
      const me = await api('GET', '/v1/auth/me');
      startApp(me);
    } catch (err) {
      error.textContent = err.status === 401 ?
        'Wrong username or password. Check them and try again.' :
        `Could not log in: ${err.message}`;
      pass.select();
      pass.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Log in';
    }
  });
  (message && kind !== 'info' ? pass : user.value ? pass : user).focus();
}

function startApp(me) {
  state.user = me;
  rememberSession(true);
  document.getElementById('username').textContent = me.username;
  topbar.hidden = false;
  const back = state.returnTo;
  state.returnTo = null;
  state.navigated = false;
  if (back && back !== location.hash) location.hash = back;
  else route();
}

onUnauthorized(() => {
  if (!state.user) return;
  state.returnTo = location.hash || '#/';
  showLogin('Your session has expired or was ended. Log in again to continue.', 'warn');
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/v1/auth/logout', {});
  } catch (e) {
    if (!e.handled) {
      flash(`Could not log out: ${e.message}`, { kind: 'error' });
      return;
    }
  }
  state.returnTo = null;
  history.replaceState(null, '', '#/');
  showLogin('You have logged out.', 'info');
});

window.addEventListener('hashchange', route);
// The skip link moves focus; it must not become a route.
document.querySelector('.skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener('unhandledrejection', (e) => {
  const err = e.reason;
  if (err && err.handled) return;
  flash(`Unexpected error: ${err && err.message ? err.message : err}`, { kind: 'error' });
});

(async function boot() {
  if (!mayHaveSession()) {
    showLogin();
    return;
  }
  try {
    const me = await api('GET', '/v1/auth/me');
    startApp(me);
  } catch (e) {
    if (e.status === 401) showLogin();
    else showLogin(`Cannot check your session: ${e.message}`, 'error');
  }
})();
