// Archives: browse and filter, notes, restore (with a confirmation naming
// what is overwritten) and delete.
import { get, post, put, del } from '../lib/api.js';
import {
  h, liveTable, fieldRow, formErrorBox, select, confirmDialog, badge, timeCell, fmtBytes, fmtTime,
  endpointSummary, setText,
} from '../lib/dom.js';
import {
  pageHeader, actionButton, detailsList, filterBar, filterField, statusLine, section, plural, short,
} from '../lib/ui.js';

const toApiDate = (v) => (v ? v.replace(/-/g, '') : '');
const fromApiDate = (v) => (v && /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}` : '');

function refOptions(items, anyLabel) {
  return [{ value: '', label: anyLabel },
    ...items.slice().sort((a, b) => (a.name || '').localeCompare(b.name || '')).map((x) => ({ value: x.uuid, label: x.name }))];
}

export async function list(ctx) {
  ctx.title('Archives');
  const [targets, stores] = await Promise.all([get('/v1/targets'), get('/v1/stores')]);
  if (!ctx.alive) return;
  const q = ctx.query;
  const tSel = select(refOptions(targets, 'Any target'), q.get('target'));
  const sSel = select(refOptions(stores, 'Any store'), q.get('store'));
  const after = h('input', { type: 'date', value: fromApiDate(q.get('after')) });
  const before = h('input', { type: 'date', value: fromApiDate(q.get('before')) });
  const stSel = select([{ value: '', label: 'Any status' }, { value: 'valid', label: 'Valid' },
    { value: 'expired', label: 'Expired' }, { value: 'purged', label: 'Purged' }], q.get('status'));
  const limit = select([50, 100, 500, 1000].map((n) => ({ value: n, label: `${n}` })), q.get('limit') || 100);
  const status = statusLine();
  const table = liveTable({
    caption: 'Archives', key: (a) => a.uuid, empty: 'No archives match.',
    columns: [
      { label: 'Taken', cell: (a) => h('a', { href: `#/archives/${a.uuid}`, 'aria-label': `Archive taken ${fmtTime(a.taken_at)} of ${a.target_name}` }, fmtTime(a.taken_at)) },
      { label: 'Target', cell: (a) => h('span', null, a.target_name || short(a.target_uuid)) },
      { label: 'Store', cell: (a) => h('span', null, a.store_name || short(a.store_uuid)) },
      { label: 'Size', class: 'num', cell: (a) => h('span', null, fmtBytes(a.size)) },
      { label: 'Status', cell: (a) => badge(a.status) },
      { label: 'Expires', cell: (a) => timeCell(a.expires_at) },
      { label: 'Notes', cell: (a) => h('span', { class: 'notes-cell' }, a.notes || '') },
    ],
  });
  const apply = async () => {
    const qq = {
      target: tSel.value, store: sSel.value, after: toApiDate(after.value), before: toApiDate(before.value),
      status: stSel.value, limit: limit.value,
    };
    ctx.setQuery('/archives', { ...qq, limit: qq.limit === '100' ? '' : qq.limit });
    status.ok('Loading…');
    try {
      const items = await get('/v1/archives', qq);
      if (!ctx.alive) return;
      table.set(items);
      status.ok(`${plural(items.length, 'archive')}${items.length >= +limit.value ? ` (showing the newest ${limit.value})` : ''}`);
    } catch (e) {
      if (!e.handled) status.error(`Could not load archives: ${e.message}`);
    }
  };
  ctx.main.append(
    pageHeader('Archives'),
    filterBar([filterField('Target', tSel), filterField('Store', sSel), filterField('Taken after', after),
      filterField('Taken before', before), filterField('Status', stSel), filterField('Show', limit)], apply),
    status, table.el);
  await apply();
}

// The archive's job, or null when it was deleted since (archives outlive it).
async function jobOf(a) {
  if (!a.job_uuid) return null;
  try {
    return await get(`/v1/job/${a.job_uuid}`);
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

export async function view(ctx, id) {
  const a = await get(`/v1/archive/${id}`);
  const [targets, job] = await Promise.all([get('/v1/targets'), jobOf(a)]);
  if (!ctx.alive) return;
  ctx.title(`Archive ${fmtTime(a.taken_at)}`);
  const original = targets.find((t) => t.uuid === a.target_uuid);

  // notes
  // One line: the API refuses control characters (line breaks too) in notes.
  const notes = h('input', { type: 'text', name: 'notes', maxlength: 4096 });
  notes.value = a.notes || '';
  const notesRow = fieldRow({ label: 'Notes', control: notes, help: 'One line of free text kept with the archive.' });
  const notesErr = formErrorBox();
  const notesSaved = h('span', { class: 'saved', role: 'status' });
  const notesBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save notes');
  const notesForm = h('form', { class: 'form', 'aria-label': 'Archive notes' }, notesRow, notesErr,
    h('div', { class: 'actions' }, notesBtn, notesSaved));
  notesForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    notesErr.show(null);
    setText(notesSaved, '');
    notesBtn.disabled = true;
    try {
      await put(`/v1/archive/${id}`, { notes: notes.value });
      a.notes = notes.value;
      setText(notesSaved, 'Notes saved.');
    } catch (err) {
      if (!err.handled) notesErr.show(err, 'Could not save the notes');
    } finally {
      notesBtn.disabled = false;
    }
  });

  // restore
  const candidates = targets.filter((t) => t.plugin === a.target_plugin);
  candidates.sort((x, y) => (x.uuid === a.target_uuid ? -1 : y.uuid === a.target_uuid ? 1 : (x.name || '').localeCompare(y.name || '')));
  const tgtSel = select(candidates.map((t) => ({
    value: t.uuid, label: t.uuid === a.target_uuid ? `${t.name} (the original target)` : t.name,
  })), a.target_uuid, { name: 'target' });
  const restoreErr = formErrorBox();
  const restoreBtn = h('button', { type: 'submit', class: 'btn btn-warn' }, 'Restore…');
  const restorable = a.status === 'valid' && candidates.length > 0;
  if (!restorable) restoreBtn.disabled = true;
  const restoreForm = h('form', { class: 'form', 'aria-label': 'Restore this archive' },
    fieldRow({ label: 'Restore onto', control: tgtSel, required: true,
      help: `Targets using the ${a.target_plugin} plugin. The target's current data is replaced.` }),
    restoreErr, h('div', { class: 'actions' }, restoreBtn));
  restoreForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    restoreErr.show(null);
    const t = candidates.find((x) => x.uuid === tgtSel.value);
    if (!t) return;
    const ok = await confirmDialog({
      title: `Overwrite “${t.name}”?`,
      body: [
        h('p', null, 'Restoring this archive will ', h('strong', null, 'overwrite the current data'), ' of the target ',
          h('strong', { class: 'target-name' }, t.name), ` (${t.plugin}: `, h('span', { class: 'mono' }, endpointSummary(t.endpoint)), ').'),
        h('p', null, `The archive was taken ${fmtTime(a.taken_at)} from `, h('strong', null, a.target_name || 'its target'),
          ` (${fmtBytes(a.size)}, in store `, h('strong', null, a.store_name || short(a.store_uuid)), ').'),
        h('p', null, 'Anything written to the target since then is lost. This cannot be undone.'),
      ],
      confirmLabel: `Overwrite ${t.name} and restore`, danger: true,
    });
    if (!ok) return;
    restoreBtn.disabled = true;
    try {
      const body = t.uuid === a.target_uuid ? {} : { target: t.uuid };
      const r = await post(`/v1/archive/${id}/restore`, body);
      ctx.flash(`Restore onto “${t.name}” scheduled.`, { kind: 'success', keep: true });
      ctx.go(`#/tasks/${r.task_uuid}`);
    } catch (err) {
      if (!err.handled) {
        restoreErr.show(err, 'Could not start the restore');
        restoreErr.focus();
      }
    } finally {
      restoreBtn.disabled = !restorable;
    }
  });

  const delBtn = actionButton(ctx, 'Delete archive', async () => {
    const ok = await confirmDialog({
      title: 'Delete this archive?',
      body: h('p', null, `The archive of `, h('strong', null, a.target_name || 'its target'),
        ` taken ${fmtTime(a.taken_at)} (${fmtBytes(a.size)}) is removed from the store `,
        h('strong', null, a.store_name || short(a.store_uuid)), '. It cannot be restored afterwards.'),
      confirmLabel: 'Delete archive', danger: true,
    });
    if (!ok) return;
    const r = await del(`/v1/archive/${id}`);
    ctx.flash('Archive deleted; it is being removed from the store.', {
      kind: 'success', keep: true, link: r && r.task_uuid ? { href: `#/tasks/${r.task_uuid}`, text: 'Follow the purge' } : null,
    });
    ctx.go('#/archives');
  }, { cls: 'btn btn-danger', errorPrefix: 'Could not delete the archive' });

  ctx.main.append(
    pageHeader(`Archive of ${a.target_name || 'a target'}`, delBtn),
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/archives' }, '← All archives')),
    section('Details', detailsList([
      ['Status', badge(a.status)],
      ['Taken', timeCell(a.taken_at)],
      ['Expires', timeCell(a.expires_at)],
      ['Target', original ? h('a', { href: `#/targets/${a.target_uuid}` }, `${a.target_name} (${a.target_plugin})`) : `${a.target_name || '—'} (${a.target_plugin || '?'})`],
      ['Store', h('a', { href: `#/stores/${a.store_uuid}` }, `${a.store_name} (${a.store_plugin})`)],
      ['Job', job ? h('a', { href: `#/jobs/${job.uuid}` }, job.name || short(job.uuid)) :
        a.job_uuid ? h('span', null, `a deleted job (${short(a.job_uuid)})`) : '—'],
      ['Size', fmtBytes(a.size)],
      ['SHA-256', h('span', { class: 'mono wrap' }, a.sha256 || '—')],
      ['Store key', h('span', { class: 'mono wrap' }, a.store_key || '—')],
      ['UUID', h('span', { class: 'mono' }, a.uuid)],
    ])),
    section('Notes', notesForm),
    section('Restore', restorable ? restoreForm :
      h('p', { class: 'muted' }, a.status !== 'valid' ? `This archive is ${a.status}; it cannot be restored.` :
        `No target uses the ${a.target_plugin} plugin any more.`)));
}
