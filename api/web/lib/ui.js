// Page pieces shared by the views.
import { get } from './api.js';
import { h, clear } from './dom.js';

// The zone shieldd evaluates schedules in (GET /v1/status), asked once: it
// changes only when the daemon restarts.  '' when the daemon does not say.
let zoneAsked = null;

export function daemonZone() {
  if (!zoneAsked) {
    zoneAsked = get('/v1/status').then((st) => (typeof st.timezone === 'string' ? st.timezone : ''),
      (e) => {
        zoneAsked = null;
        throw e;
      });
  }
  return zoneAsked;
}

// " (Europe/Berlin time)" beside a schedule, or nothing.
export function zoneNote(zone) {
  return zone ? h('span', { class: 'zone-note' }, ` (${zone} time)`) : null;
}

export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' },
    h('h1', null, title),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

export function linkButton(href, label, cls = 'btn') {
  return h('a', { href, class: cls }, label);
}

// A button that runs an async action: disabled while it runs, errors shown
// in words as a flash message.
export function actionButton(ctx, label, fn, { cls = 'btn', busy, errorPrefix, attrs } = {}) {
  const b = h('button', Object.assign({ type: 'button', class: cls }, attrs || {}), label);
  b.addEventListener('click', async () => {
    if (b.disabled) return;
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
    const old = b.textContent;
    if (busy) b.textContent = busy;
    try {
      await fn(b);
    } catch (e) {
      if (!e.handled) ctx.flash(`${errorPrefix || `${old} failed`}: ${e.message}`, { kind: 'error' });
    } finally {
      b.disabled = false;
      b.removeAttribute('aria-busy');
      if (busy && b.textContent === busy) b.textContent = old;
    }
  });
  return b;
}

export function detailsList(pairs) {
  const dl = h('dl', { class: 'details' });
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    dl.append(h('div', { class: 'details-row' }, h('dt', null, k), h('dd', null, v ?? '—')));
  }
  return dl;
}

// A filter bar: a labelled control per filter, applied on change.
export function filterBar(controls, onApply, label = 'Filters') {
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': label });
  for (const c of controls) form.append(c);
  const reset = h('button', { type: 'reset', class: 'btn btn-small' }, 'Clear filters');
  form.append(h('div', { class: 'filter-actions' }, reset));
  form.addEventListener('change', () => onApply());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    onApply();
  });
  form.addEventListener('reset', () => setTimeout(onApply, 0));
  return form;
}

export function filterField(label, control) {
  const id = control.id || `flt-${Math.random().toString(36).slice(2, 8)}`;
  control.id = id;
  return h('div', { class: 'filter' }, h('label', { for: id }, label), control);
}

// A live status line (counts, "loading", errors of a list load).
export function statusLine() {
  const el = h('p', { class: 'status-line', role: 'status' });
  el.ok = (text) => {
    el.className = 'status-line';
    el.textContent = text;
  };
  el.error = (text) => {
    el.className = 'status-line status-error';
    el.textContent = text;
  };
  return el;
}

export function section(title, ...body) {
  const id = `sec-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { id }, title), body);
}

export function replace(el, ...nodes) {
  clear(el);
  for (const n of nodes.flat()) if (n) el.append(n);
  return el;
}

export function short(uuid) {
  return uuid ? String(uuid).slice(0, 8) : '—';
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || `${one}s`}`;
}
