// DOM building without HTML strings: every piece of data reaches the page as
// a text node or an attribute value, never as markup.

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (k === 'selected') el.selected = !!v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function setText(el, text) {
  const s = text === undefined || text === null ? '' : String(text);
  if (el.textContent !== s) el.textContent = s;
}

let ids = 0;
export const uid = (p = 'f') => `${p}-${++ids}`;

// ---- formatting --------------------------------------------------------

export function parseTime(s) {
  if (!s) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(s);
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)));
}

// Formatters per zone ('' is the browser's), made once: the digits in a
// fixed shape, the zone's short name in the reader's language.
const zoneFormats = new Map();

function zoneFormat(tz) {
  let f = zoneFormats.get(tz || '');
  if (f) return f;
  const zone = tz ? { timeZone: tz } : {};
  try {
    f = {
      digits: new Intl.DateTimeFormat('en-US', {
        ...zone, year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
      }),
      name: new Intl.DateTimeFormat(undefined, { ...zone, timeZoneName: 'short' }),
    };
  } catch {
    // a zone this browser does not know: the right instant in its own zone
    return zoneFormat('');
  }
  zoneFormats.set(tz || '', f);
  return f;
}

// API times are UTC; show them in the browser's zone, or in tz (an IANA
// name), always with the zone's name: "2026-01-31 21:00:00 CET".
export function fmtTime(s, tz) {
  const d = typeof s === 'string' ? parseTime(s) : s;
  if (!d) return '—';
  const f = zoneFormat(tz);
  const p = {};
  for (const x of f.digits.formatToParts(d)) p[x.type] = x.value;
  const zone = f.name.formatToParts(d).find((x) => x.type === 'timeZoneName')?.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}${zone ? ` ${zone}` : ''}`;
}

export function fmtRelative(s, now = Date.now()) {
  const d = typeof s === 'string' ? parseTime(s) : s;
  if (!d) return '';
  const secs = Math.round((d.getTime() - now) / 1000);
  const a = Math.abs(secs);
  let v;
  if (a < 45) return secs > 5 ? 'in a few seconds' : 'just now';
  if (a < 3600) v = `${Math.round(a / 60)} min`;
  else if (a < 86400) v = `${Math.round(a / 3600)} h`;
  else v = `${Math.round(a / 86400)} d`;
  return secs >= 0 ? `in ${v}` : `${v} ago`;
}

export function fmtDuration(secs) {
  if (secs === null || secs === undefined || Number.isNaN(secs)) return '—';
  secs = Math.max(0, Math.round(secs));
  if (secs < 1) return '< 1 s';
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ${secs % 60} s`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ${Math.floor((secs % 3600) / 60)} min`;
  return `${Math.floor(secs / 86400)} d ${Math.floor((secs % 86400) / 3600)} h`;
}

export function between(a, b) {
  const da = parseTime(a);
  const db = b ? parseTime(b) : new Date();
  if (!da || !db) return null;
  return (db.getTime() - da.getTime()) / 1000;
}

export function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(+n)) return '—';
  n = +n;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

// Retention periods: seconds to words.
export function fmtPeriod(secs) {
  secs = +secs;
  if (!secs) return '—';
  const units = [[604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [n, name] of units)
    if (secs % n === 0) {
      const v = secs / n;
      return `${v} ${name}${v === 1 ? '' : 's'}`;
    }
  return `${secs} seconds`;
}

const STATUS_LABELS = {
  done: ['✓', 'done'], failed: ['✗', 'failed'], canceled: ['⊘', 'canceled'],
  running: ['▶', 'running'], pending: ['…', 'pending'], valid: ['✓', 'valid'],
  expired: ['⌛', 'expired'], purged: ['✗', 'purged'], paused: ['❚❚', 'paused'],
  never: ['–', 'never run'],
};

export function badge(status) {
  const [icon, label] = STATUS_LABELS[status] || ['', status || 'unknown'];
  const el = h('span', { class: `badge badge-${status || 'unknown'}` },
    h('span', { 'aria-hidden': 'true', class: 'badge-icon' }, icon), label);
  return el;
}

export function updateBadge(el, status) {
  const key = `badge badge-${status || 'unknown'}`;
  if (el.className === key) return;
  el.replaceWith(badge(status));
}

export function timeCell(s) {
  const t = h('time', { datetime: s ? `${s.replace(' ', 'T')}Z` : null, title: s ? `${s} UTC` : null },
    fmtTime(s));
  const rel = h('span', { class: 'rel' }, s ? fmtRelative(s) : '');
  return h('span', { class: 'when' }, t, rel);
}

export function updateTimeCell(el, s) {
  const [t, rel] = el.children;
  setText(t, fmtTime(s));
  if (s) {
    t.setAttribute('datetime', `${s.replace(' ', 'T')}Z`);
    t.title = `${s} UTC`;
  } else {
    t.removeAttribute('datetime');
    t.removeAttribute('title');
  }
  setText(rel, s ? fmtRelative(s) : '');
}

// Endpoints are JSON text; show them as key: value with secrets masked.
export function parseEndpoint(text) {
  if (text && typeof text === 'object') return text;
  try {
    const v = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

const SECRET_RE = /pass|secret|token|key_id|private|credential/i;

export function isSecretField(name, fields) {
  const f = (fields || []).find((x) => x.name === name);
  if (f) return f.type === 'password';
  return SECRET_RE.test(name);
}

export function endpointSummary(text, fields) {
  const ep = parseEndpoint(text);
  return Object.entries(ep).map(([k, v]) => {
    const shown = isSecretField(k, fields) ? '••••••' :
      Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `${k}: ${shown}`;
  }).join('; ');
}

// ---- tables ---------------------------------------------------------------

// A table whose rows are kept by key and updated in place, so polling never
// rebuilds what is on screen (no jumps, focus stays where it was).
// columns: [{label, cell(item) -> Node, update?(node, item), class?}]
export function liveTable({ caption, columns, key, empty, rowClass }) {
  const table = h('table', { class: 'data' });
  if (caption) table.append(h('caption', { class: 'visually-hidden' }, caption));
  table.append(h('thead', null, h('tr', null,
    columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))));
  const tbody = h('tbody');
  table.append(tbody);
  const emptyRow = h('tr', { class: 'empty' },
    h('td', { colspan: columns.length }, empty || 'Nothing here yet.'));
  const rows = new Map();

  function set(items) {
    const seen = new Set();
    let prev = null;
    if (items.length === 0) {
      for (const [, r] of rows) r.tr.remove();
      rows.clear();
      if (!emptyRow.isConnected) tbody.append(emptyRow);
      return;
    }
    emptyRow.remove();
    for (const item of items) {
      const k = key(item);
      seen.add(k);
      let r = rows.get(k);
      if (!r) {
        const cells = columns.map((c) => {
          const td = h('td', { 'data-label': c.label, class: c.class });
          const node = c.cell(item);
          append(td, [node]);
          return { td, node };
        });
        r = { tr: h('tr', null, cells.map((c) => c.td)), cells };
        rows.set(k, r);
      } else {
        columns.forEach((c, i) => {
          const cell = r.cells[i];
          if (c.update) {
            const repl = c.update(cell.td.firstChild, item);
            if (repl instanceof Node) {
              clear(cell.td).append(repl);
            }
          } else {
            const fresh = c.cell(item);
            const old = cell.td.firstChild;
            if (!(old && fresh instanceof Node && old.isEqualNode(fresh)))
              clear(cell.td).append(fresh instanceof Node ? fresh : document.createTextNode(String(fresh ?? '')));
          }
        });
      }
      if (rowClass) r.tr.className = rowClass(item) || '';
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== r.tr) tbody.insertBefore(r.tr, want);
      prev = r.tr;
    }
    for (const [k, r] of rows)
      if (!seen.has(k)) {
        r.tr.remove();
        rows.delete(k);
      }
  }
  set([]);
  return { el: h('div', { class: 'table-wrap' }, table), set, table };
}

// ---- forms ------------------------------------------------------------------

// A labelled form row: label, control, help text and a slot for its error.
export function fieldRow({ label, control, help, required, id }) {
  id = id || control.id || uid('f');
  control.id = id;
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const described = [];
  if (help) described.push(helpId);
  described.push(errId);
  control.setAttribute('aria-describedby', described.join(' '));
  if (required) {
    control.required = true;
    control.setAttribute('aria-required', 'true');
  }
  const lab = h('label', { for: id }, label,
    required ? h('span', { class: 'req', title: 'required' }, ' *') : null,
    required ? h('span', { class: 'visually-hidden' }, ' (required)') : null);
  const err = h('p', { class: 'field-error', id: errId });
  const row = h('div', { class: 'field' }, lab, control,
    help ? h('p', { class: 'help', id: helpId }, help) : null, err);
  row.setError = (msg) => {
    setText(err, msg || '');
    if (msg) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return row;
}

export function checkboxRow({ label, control, help, id }) {
  id = id || control.id || uid('f');
  control.id = id;
  const helpId = `${id}-help`;
  if (help) control.setAttribute('aria-describedby', helpId);
  const row = h('div', { class: 'field field-check' },
    h('div', { class: 'check' }, control, h('label', { for: id }, label)),
    help ? h('p', { class: 'help', id: helpId }, help) : null,
    h('p', { class: 'field-error' }));
  row.setError = (msg) => setText(row.lastChild, msg || '');
  return row;
}

// Put a control and its companions (a button, a unit) side by side in place.
export function wrapControl(control, ...extra) {
  const w = h('div', { class: 'with-button' });
  control.replaceWith(w);
  w.append(control, ...extra);
  return w;
}

// The box under a form listing what the API said was wrong.
export function formErrorBox() {
  const box = h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  box.show = (err, prefix) => {
    clear(box);
    if (!err) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const msg = typeof err === 'string' ? err : err.message;
    box.append(h('p', { class: 'form-error-title' }, prefix ? `${prefix}: ${msg}` : msg));
    if (err.reasons && err.reasons.length) {
      box.append(h('p', null, 'The plugin rejected this configuration:'));
      box.append(h('ul', { class: 'reasons' }, err.reasons.map((r) => h('li', null, r))));
    }
    if (err.missing && err.missing.length)
      box.append(h('p', null, `Missing: ${err.missing.join(', ')}`));
  };
  return box;
}

export function select(options, value, props) {
  const el = h('select', props || {});
  for (const o of options) {
    const opt = h('option', { value: o.value }, o.label);
    if (String(o.value) === String(value ?? '')) opt.selected = true;
    el.append(opt);
  }
  return el;
}

// ---- dialogs ----------------------------------------------------------------

// A modal confirmation built on <dialog>; resolves true only on the confirm
// button.  Escape and the other button resolve false.  cancelLabel names
// that button when "Cancel" would be ambiguous (canceling a task).
export function confirmDialog({ title, body, confirmLabel, cancelLabel, danger }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const cancel = h('button', { type: 'button', class: 'btn' }, cancelLabel || 'Cancel');
    const ok = h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary' },
      confirmLabel || 'Confirm');
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'actions' }, cancel, ok));
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    cancel.addEventListener('click', () => finish(false));
    ok.addEventListener('click', () => finish(true));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
