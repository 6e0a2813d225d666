// Schedules (timespecs with a live preview) and retention policies.
import { get, post, put, del } from '../lib/api.js';
import {
  h, clear, setText, liveTable, fieldRow, formErrorBox, select, confirmDialog, fmtTime,
  fmtRelative, fmtPeriod, wrapControl,
} from '../lib/dom.js';
import {
  pageHeader, linkButton, actionButton, detailsList, filterBar, filterField, statusLine, section, plural,
  daemonZone, zoneNote,
} from '../lib/ui.js';

const KINDS = {
  schedule: {
    one: 'schedule', many: 'schedules', Title: 'Schedule', Titles: 'Schedules', base: 'schedules',
    coll: '/v1/schedules', item: (id) => `/v1/schedule/${id}`, jobFilter: 'schedule',
  },
  retention: {
    one: 'retention policy', many: 'retention policies', Title: 'Retention policy',
    Titles: 'Retention policies', base: 'retention', coll: '/v1/retention', item: (id) => `/v1/retention/${id}`,
    jobFilter: 'retention',
  },
};

export async function list(ctx, kind) {
  const k = KINDS[kind];
  ctx.title(k.Titles);
  const status = statusLine();
  const usedSel = select([{ value: '', label: 'Used or not' },
    { value: 'f', label: 'Used by a job' }, { value: 't', label: 'Not used by any job' }], ctx.query.get('unused'));
  const columns = [{ label: 'Name', cell: (x) => h('a', { href: `#/${k.base}/${x.uuid}` }, x.name || '(unnamed)') }];
  if (kind === 'schedule') columns.push({ label: 'When', cell: (x) => h('span', { class: 'mono' }, x.when) });
  else columns.push({ label: 'Keeps archives for', cell: (x) => h('span', null, fmtPeriod(x.expires)) });
  columns.push({ label: 'Summary', cell: (x) => h('span', null, x.summary || '') });
  const table = liveTable({ caption: k.Titles, key: (x) => x.uuid, empty: `No ${k.many} match.`, columns });
  const zone = kind === 'schedule' ? await daemonZone() : '';
  if (!ctx.alive) return;
  const apply = async () => {
    const q = { unused: usedSel.value };
    ctx.setQuery(`/${k.base}`, q);
    status.ok('Loading…');
    try {
      const items = await get(k.coll, q);
      if (!ctx.alive) return;
      items.sort((a, b) => (a.name || '').localeCompare(b.name || ''));
      table.set(items);
      status.ok(plural(items.length, k.one, k.many));
    } catch (e) {
      if (!e.handled) status.error(`Could not load ${k.many}: ${e.message}`);
    }
  };
  ctx.main.append(
    pageHeader(k.Titles, linkButton(`#/${k.base}/new`, `New ${k.one}`, 'btn btn-primary')),
    zone ? h('p', { class: 'help' }, `Schedules run in shieldd's time zone, ${zone}.`) : null,
    filterBar([filterField('Usage', usedSel)], apply),
    status, table.el);
  await apply();
}

// Next runs in the schedule's own zone, so "daily at 4am" reads 04:00.
function nextRunsList(next, zone) {
  return h('ol', { class: 'next-runs' }, next.map((t) =>
    h('li', null, h('time', { datetime: `${t.replace(' ', 'T')}Z`, title: `${t} UTC` }, fmtTime(t, zone)),
      h('span', { class: 'rel' }, fmtRelative(t)))));
}

function nextRunsTitle(zone) {
  return zone ? `Next runs, in shieldd's time zone (${zone}):` : 'Next runs:';
}

export async function view(ctx, kind, id) {
  const k = KINDS[kind];
  const [item, jobs, zone] = await Promise.all([get(k.item(id)), get('/v1/jobs', { [k.jobFilter]: id }),
    kind === 'schedule' ? daemonZone() : '']);
  if (!ctx.alive) return;
  ctx.title(`${k.Title} ${item.name}`);
  const rows = [['Name', item.name], ['Summary', item.summary || '—']];
  if (kind === 'schedule') rows.push(['When', h('span', null, h('span', { class: 'mono' }, item.when), zoneNote(zone))]);
  else rows.push(['Keeps archives for', `${fmtPeriod(item.expires)} (${item.expires} seconds)`]);
  rows.push(['UUID', h('span', { class: 'mono' }, item.uuid)]);
  const extra = [];
  if (kind === 'schedule') {
    const box = h('div', { class: 'preview' }, h('p', { class: 'muted' }, 'Loading…'));
    extra.push(section('Next runs', box));
    post('/v1/timespec', { when: item.when, count: 5 }).then((r) => {
      clear(box).append(h('p', null, 'Canonical form: ', h('code', null, r.canonical)),
        h('p', null, nextRunsTitle(zone)), nextRunsList(r.next || [], zone));
    }, (e) => {
      if (!e.handled) clear(box).append(h('p', { class: 'status-error' }, `Cannot compute the next runs: ${e.message}`));
    });
  }
  const delBtn = actionButton(ctx, 'Delete', async () => {
    const ok = await confirmDialog({
      title: `Delete ${k.one} “${item.name}”?`,
      body: h('p', null, `The ${k.one} `, h('strong', null, item.name), ' will be removed.'),
      confirmLabel: `Delete ${k.one}`, danger: true,
    });
    if (!ok) return;
    await del(k.item(id));
    ctx.flash(`Deleted ${k.one} “${item.name}”.`, { kind: 'success', keep: true });
    ctx.go(`#/${k.base}`);
  }, { cls: 'btn btn-danger', errorPrefix: `Could not delete the ${k.one}` });
  ctx.main.append(
    pageHeader(item.name || '(unnamed)', linkButton(`#/${k.base}/${id}/edit`, 'Edit'), delBtn),
    h('p', { class: 'breadcrumb' }, h('a', { href: `#/${k.base}` }, `← All ${k.many}`)),
    section('Details', detailsList(rows)), ...extra,
    section(`Jobs using this ${k.one}`, jobs.length ?
      h('ul', { class: 'plain' }, jobs.map((j) => h('li', null, h('a', { href: `#/jobs/${j.uuid}` }, j.name)))) :
      h('p', { class: 'muted' }, `No job uses this ${k.one}; it can be deleted.`)));
}

// The live preview of a timespec: canonical form and next runs, asked of the
// daemon a moment after the user stops typing.
function timespecPreview(input, zone) {
  const box = h('div', { class: 'preview', id: 'timespec-preview', 'aria-live': 'polite' });
  const state = h('p', { class: 'preview-state' });
  const canon = h('p', { class: 'preview-canonical' });
  const runs = h('div', { class: 'preview-runs' });
  box.append(canon, state, runs);
  let seq = 0;
  let timer = null;
  const show = (s, cls) => {
    state.className = `preview-state ${cls || ''}`;
    setText(state, s);
  };
  const run = async () => {
    const when = input.value.trim();
    const my = ++seq;
    if (!when) {
      show('Type a schedule to see when it runs.', 'muted');
      setText(canon, '');
      clear(runs);
      return;
    }
    show('Checking…', 'muted');
    try {
      const r = await post('/v1/timespec', { when, count: 5 });
      if (my !== seq) return;
      show(nextRunsTitle(zone), '');
      clear(canon).append('Canonical form: ', h('code', null, r.canonical));
      clear(runs).append(nextRunsList(r.next || [], zone));
      input.removeAttribute('aria-invalid');
    } catch (e) {
      if (my !== seq || e.handled) return;
      show(e.message, 'status-error');
      setText(canon, '');
      clear(runs);
      input.setAttribute('aria-invalid', 'true');
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 300);
  });
  run();
  return box;
}

const UNITS = [[604800, 'weeks'], [86400, 'days'], [3600, 'hours']];

export async function form(ctx, kind, id) {
  const k = KINDS[kind];
  const [item, zone] = await Promise.all([id ? get(k.item(id)) : null, kind === 'schedule' ? daemonZone() : '']);
  if (!ctx.alive) return;
  ctx.title(item ? `Edit ${k.one} ${item.name}` : `New ${k.one}`);
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', value: item?.name || '' });
  const summary = h('input', { type: 'text', name: 'summary', autocomplete: 'off', value: item?.summary || '' });
  const nameRow = fieldRow({ label: 'Name', control: name, required: true });
  const rows = [nameRow, fieldRow({ label: 'Summary', control: summary, help: 'A short description, optional.' })];
  let read;
  let specRow;
  if (kind === 'schedule') {
    const when = h('input', { type: 'text', name: 'when', autocomplete: 'off', spellcheck: 'false', value: item?.when || '' });
    specRow = fieldRow({ label: 'When', control: when, required: true,
      help: 'For example: daily at 4am, hourly at :15, sundays at 23:00, 2nd tuesday at 23:15, every 15 minutes from 00:05.' +
        (zone ? ` Times are in shieldd's time zone, ${zone}.` : '') });
    rows.push(specRow, timespecPreview(when, zone));
    read = () => ({ when: when.value.trim() });
  } else {
    let n = 7;
    let unit = 86400;
    if (item) {
      const u = UNITS.find(([s]) => item.expires % s === 0);
      unit = u ? u[0] : 3600;
      n = u ? item.expires / u[0] : Math.round(item.expires / 3600);
    }
    const amount = h('input', { type: 'number', name: 'amount', min: 1, step: 1, inputmode: 'numeric', value: String(n) });
    const unitSel = select(UNITS.map(([s, l]) => ({ value: s, label: l })), unit, { name: 'unit', 'aria-label': 'Unit' });
    const secs = h('p', { class: 'help', id: 'expires-seconds' });
    const upd = () => setText(secs, `Archives are kept for ${fmtPeriod(+amount.value * +unitSel.value) || '—'}` +
      ` (${+amount.value * +unitSel.value || 0} seconds; at least one hour).`);
    amount.addEventListener('input', upd);
    unitSel.addEventListener('change', upd);
    upd();
    specRow = fieldRow({ label: 'Keep archives for', control: amount, required: true });
    wrapControl(amount, unitSel);
    specRow.insertBefore(secs, specRow.lastChild);
    rows.push(specRow);
    read = () => ({ expires: Math.round(+amount.value * +unitSel.value) });
  }
  const errors = formErrorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, item ? 'Save changes' : `Create ${k.one}`);
  const formEl = h('form', { class: 'form', novalidate: true, 'aria-label': item ? `Edit ${k.one}` : `New ${k.one}` },
    rows, errors, h('div', { class: 'actions' }, submit,
      h('a', { class: 'btn', href: item ? `#/${k.base}/${id}` : `#/${k.base}` }, 'Cancel')));
  formEl.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.show(null);
    nameRow.setError('');
    specRow.setError('');
    const body = { name: name.value.trim(), summary: summary.value, ...read() };
    if (!body.name) {
      nameRow.setError('Enter a name.');
      name.focus();
      return;
    }
    if (kind === 'schedule' && !body.when) {
      specRow.setError('Enter when the schedule runs.');
      return;
    }
    if (kind === 'retention' && !(body.expires >= 3600)) {
      specRow.setError('Keep archives for at least one hour.');
      return;
    }
    submit.disabled = true;
    try {
      let uuid = id;
      if (item) await put(k.item(id), body);
      else uuid = (await post(k.coll, body)).uuid;
      ctx.flash(`${item ? 'Saved' : 'Created'} ${k.one} “${body.name}”.`, { kind: 'success', keep: true });
      ctx.go(`#/${k.base}/${uuid}`);
    } catch (err) {
      if (err.handled) return;
      errors.show(err, item ? `Could not save the ${k.one}` : `Could not create the ${k.one}`);
      if (err.missing.includes('name')) nameRow.setError('Enter a name.');
      errors.focus();
    } finally {
      submit.disabled = false;
    }
  });
  ctx.main.append(
    pageHeader(item ? `Edit ${k.one} “${item.name}”` : `New ${k.one}`),
    h('p', { class: 'breadcrumb' }, h('a', { href: item ? `#/${k.base}/${id}` : `#/${k.base}` },
      item ? `← Back to ${item.name}` : `← All ${k.many}`)),
    formEl);
  name.focus();
}
