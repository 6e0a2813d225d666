// Tasks: the list (polled), one task with its log followed live, cancel.
import { get, del } from '../lib/api.js';
import {
  h, liveTable, select, confirmDialog, badge, timeCell, updateTimeCell, fmtBytes, fmtDuration, between,
  setText, clear,
} from '../lib/dom.js';
import { pageHeader, actionButton, detailsList, filterBar, filterField, statusLine, section, plural, short } from '../lib/ui.js';

const FINAL = new Set(['done', 'failed', 'canceled']);

export function isFinal(status) {
  return FINAL.has(status);
}

// Names for the uuids a task carries, looked up once per page.
export async function nameMaps() {
  const [jobs, targets, stores] = await Promise.all([get('/v1/jobs'), get('/v1/targets'), get('/v1/stores')]);
  const m = new Map();
  for (const x of [...jobs, ...targets, ...stores]) m.set(x.uuid, x.name);
  return m;
}

// A failed task's newest log line (last_log, which says why), under its
// badge; nothing for other tasks.  The line's own timestamp is left out.
export function lastLogLine(t) {
  if (t.status !== 'failed' || typeof t.last_log !== 'string' || t.last_log === '') return null;
  const line = t.last_log.replace(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} /, '');
  return h('span', { class: 'last-log', title: t.last_log }, line);
}

// A task's status: its badge and, when it failed, why.
export function statusCell(t) {
  const why = lastLogLine(t);
  return why ? h('span', { class: 'stack' }, badge(t.status), why) : badge(t.status);
}

export function taskSubject(t, names) {
  const job = t.job_uuid && names.get(t.job_uuid);
  const target = t.target_uuid && names.get(t.target_uuid);
  if (t.type === 'backup') return job ? `job ${job}` : target ? `target ${target}` : '';
  if (t.type === 'restore') return target ? `onto ${target}` : '';
  if (t.type === 'purge') return t.store_uuid && names.get(t.store_uuid) ? `from ${names.get(t.store_uuid)}` : '';
  return job || target || '';
}

export async function cancelTask(ctx, t, label) {
  const ok = await confirmDialog({
    title: 'Cancel this task?',
    body: h('p', null, `The ${t.type} task `, h('strong', null, label || short(t.uuid)),
      ' is stopped; its processes are killed. A canceled backup leaves no archive.'),
    confirmLabel: 'Cancel task', cancelLabel: 'Keep running', danger: true,
  });
  if (!ok) return false;
  await del(`/v1/task/${t.uuid}`);
  ctx.flash('Task canceled.', { kind: 'success' });
  return true;
}

export function cancelButton(ctx, t, label, after) {
  return actionButton(ctx, 'Cancel', async () => {
    if (await cancelTask(ctx, t, label) && after) await after();
  }, { cls: 'btn btn-small btn-danger', errorPrefix: 'Could not cancel the task',
    attrs: { 'aria-label': `Cancel ${t.type} task ${label || short(t.uuid)}`, 'data-action': 'cancel' } });
}

export async function list(ctx) {
  ctx.title('Tasks');
  const q = ctx.query;
  const stSel = select([{ value: '', label: 'Any status' },
    ...['pending', 'running', 'done', 'failed', 'canceled'].map((s) => ({ value: s, label: s }))], q.get('status'));
  const limit = select([25, 50, 100, 500].map((n) => ({ value: n, label: `${n}` })), q.get('limit') || 50);
  const status = statusLine();
  let names = await nameMaps();
  let tick;
  const table = liveTable({
    caption: 'Tasks', key: (t) => t.uuid, empty: 'No tasks match.',
    columns: [
      { label: 'Task', cell: (t) => h('a', { href: `#/tasks/${t.uuid}` }, `${t.type} ${short(t.uuid)}`) },
      { label: 'Status', cell: (t) => statusCell(t) },
      { label: 'For', cell: (t) => h('span', null, taskSubject(t, names)) },
      { label: 'Requested', cell: (t) => timeCell(t.requested_at), update: (el, t) => updateTimeCell(el, t.requested_at) },
      {
        label: 'Duration', class: 'num',
        cell: (t) => h('span', null, t.started_at ? fmtDuration(between(t.started_at, t.stopped_at)) : '—'),
      },
      { label: 'Bytes', class: 'num', cell: (t) => h('span', null, fmtBytes(t.bytes)) },
      {
        label: 'Actions', class: 'actions-cell',
        cell: (t) => (isFinal(t.status) ? h('span', { class: 'muted' }, '') :
          cancelButton(ctx, t, `${t.type} ${short(t.uuid)}`, () => tick())),
      },
    ],
  });
  tick = async () => {
    const qq = { status: stSel.value, limit: limit.value };
    try {
      const tasks = await get('/v1/tasks', qq);
      if (!ctx.alive) return;
      if (tasks.some((t) => (t.job_uuid && !names.has(t.job_uuid)) || (t.target_uuid && !names.has(t.target_uuid))))
        names = await nameMaps();
      table.set(tasks);
      const active = tasks.filter((t) => !isFinal(t.status)).length;
      status.ok(`${plural(tasks.length, 'task')}${active ? `, ${active} active` : ''} — updated every 2 seconds`);
    } catch (e) {
      if (!e.handled) status.error(`Could not load tasks: ${e.message}`);
    }
  };
  const apply = () => {
    ctx.setQuery('/tasks', { status: stSel.value, limit: limit.value === '50' ? '' : limit.value });
    status.ok('Loading…');
    return tick();
  };
  ctx.main.append(pageHeader('Tasks'),
    filterBar([filterField('Status', stSel), filterField('Show', limit)], apply),
    status, table.el);
  status.ok('Loading…');
  await ctx.poll(tick, 2000);
}

export async function view(ctx, id) {
  let t = await get(`/v1/task/${id}`);
  if (!ctx.alive) return;
  const names = await nameMaps();
  const title = `${t.type[0].toUpperCase()}${t.type.slice(1)} task ${short(t.uuid)}`;
  ctx.title(title);
  const badgeSlot = h('span', { class: 'title-badge' }, badge(t.status));
  const follow = h('p', { class: 'follow', role: 'status' });
  const actions = h('div', { class: 'page-actions' });
  const log = h('pre', { class: 'log', role: 'log', 'aria-label': 'Task log', tabindex: '0' });
  const errBox = h('div', { class: 'task-error', role: 'alert', hidden: true });
  const val = () => h('span');
  const cells = {
    status: val(), subject: val(), requested: timeCell(null), started: timeCell(null), stopped: timeCell(null),
    duration: h('span', { class: 'num' }), bytes: h('span', { class: 'num', id: 'task-bytes' }),
  };
  const link = (href, text) => h('a', { href }, text);
  const refs = [];
  if (t.job_uuid) refs.push(['Job', link(`#/jobs/${t.job_uuid}`, names.get(t.job_uuid) || short(t.job_uuid))]);
  if (t.target_uuid) refs.push(['Target', link(`#/targets/${t.target_uuid}`, names.get(t.target_uuid) || short(t.target_uuid))]);
  if (t.store_uuid) refs.push(['Store', link(`#/stores/${t.store_uuid}`, names.get(t.store_uuid) || short(t.store_uuid))]);
  const archiveSlot = h('span');
  ctx.main.append(
    h('div', { class: 'page-header' }, h('h1', null, title, ' ', badgeSlot), actions),
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/tasks' }, '← All tasks')),
    section('Details', detailsList([
      ['Type', t.type], ['Status', cells.status], ...refs, ['Archive', archiveSlot],
      ['Requested', cells.requested], ['Started', cells.started], ['Stopped', cells.stopped],
      ['Duration', cells.duration], ['Bytes', cells.bytes], ['Owner', t.owner || '—'],
      ['UUID', h('span', { class: 'mono' }, t.uuid)],
    ]), errBox),
    section('Log', follow, log));
  let shownLog = null;
  let cancelBtn = null;
  const render = () => {
    const cur = badgeSlot.firstChild;
    if (cur.className !== `badge badge-${t.status}`) clear(badgeSlot).append(badge(t.status));
    setText(cells.status, t.status);
    updateTimeCell(cells.requested, t.requested_at);
    updateTimeCell(cells.started, t.started_at);
    updateTimeCell(cells.stopped, t.stopped_at);
    setText(cells.duration, t.started_at ? fmtDuration(between(t.started_at, t.stopped_at)) : '—');
    setText(cells.bytes, `${fmtBytes(t.bytes)}${t.bytes >= 1024 ? ` (${t.bytes} bytes)` : ''}`);
    if (t.archive_uuid && !archiveSlot.firstChild)
      archiveSlot.append(link(`#/archives/${t.archive_uuid}`, short(t.archive_uuid)));
    if (!t.archive_uuid && !archiveSlot.firstChild) archiveSlot.append('—');
    if (t.error) {
      errBox.hidden = false;
      errBox.className = t.status === 'canceled' ? 'task-error task-error-canceled' : 'task-error';
      setText(errBox, t.status === 'canceled' ? `Canceled: ${t.error}` : `Error: ${t.error}`);
    }
    if ((t.log || '') !== shownLog) {
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
      shownLog = t.log || '';
      log.textContent = shownLog || '(no log yet)';
      if (atBottom) log.scrollTop = log.scrollHeight;
    }
    const final = isFinal(t.status);
    setText(follow, final ? `The task has ended: ${t.status}.` : 'Following the log live; it updates every second.');
    follow.className = `follow ${final ? `ended ended-${t.status}` : 'live'}`;
    if (!final && !cancelBtn) {
      // the dialog says "the backup task 1a2b3c4d": not the title again
      cancelBtn = cancelButton(ctx, t, short(t.uuid), async () => {
        t = await get(`/v1/task/${id}`);
        render();
      });
      actions.append(cancelBtn);
    }
    if (final && cancelBtn) {
      cancelBtn.remove();
      cancelBtn = null;
    }
  };
  render();
  if (isFinal(t.status)) return;
  await ctx.poll(async () => {
    t = await get(`/v1/task/${id}`);
    if (!ctx.alive) return false;
    render();
    return !isFinal(t.status);
  }, 1000);
}
