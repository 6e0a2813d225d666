// The dashboard: jobs (failures first), running tasks with live progress and
// store usage, polled every two seconds and updated in place.
import { get } from '../lib/api.js';
import {
  h, liveTable, badge, timeCell, updateTimeCell, fmtBytes, fmtDuration, between, setText, clear,
} from '../lib/dom.js';
import { pageHeader, section, statusLine, plural, short, linkButton } from '../lib/ui.js';
import { jobState, runButton } from './jobs.js';
import { isFinal, taskSubject, cancelButton, lastLogLine } from './tasks.js';

const ORDER = { failed: 0, canceled: 1, running: 2, pending: 3, never: 4, done: 5, paused: 6 };

// Finished tasks never change: remember them.
const finishedTasks = new Map();

async function lastTask(uuid) {
  if (!uuid) return null;
  if (finishedTasks.has(uuid)) return finishedTasks.get(uuid);
  const t = await get(`/v1/task/${uuid}`);
  if (isFinal(t.status)) finishedTasks.set(uuid, t);
  return t;
}

export async function render(ctx) {
  ctx.title('Dashboard');
  const summary = h('p', { class: 'summary', id: 'dash-summary' }, '\u00a0');
  const status = statusLine();
  let names = new Map();
  let poll;

  const jobsTable = liveTable({
    caption: 'Jobs', key: (j) => j.uuid,
    empty: h('span', null, 'No jobs yet. ', h('a', { href: '#/jobs/new' }, 'Create a job'), ' to start backing up.'),
    rowClass: (j) => (jobState(j) === 'failed' ? 'row-failed' : ''),
    columns: [
      { label: 'Job', cell: (j) => h('a', { href: `#/jobs/${j.uuid}` }, j.name || '(unnamed)') },
      {
        label: 'Last result',
        cell: (j) => {
          const why = jobState(j) === 'failed' && j._last ? lastLogLine(j._last) : null;
          return why ? h('span', { class: 'stack' }, badge(jobState(j)), why) : badge(jobState(j));
        },
      },
      {
        label: 'Last run', cell: (j) => timeCell(j.last_run),
        update: (el, j) => updateTimeCell(el, j.last_run),
      },
      {
        label: 'Took', class: 'num',
        cell: (j) => h('span', null, !j.last_run ? '—' : j.last_run_stopped ?
          fmtDuration(between(j.last_run, j.last_run_stopped)) : `${fmtDuration(between(j.last_run))} so far`),
      },
      { label: 'Size', class: 'num', cell: (j) => h('span', null, j._last && j._last.bytes != null ? fmtBytes(j._last.bytes) : '—') },
      {
        label: 'Next run',
        cell: (j) => (j.paused ? h('span', { class: 'muted' }, 'paused') : timeCell(j.next_run)),
      },
      { label: 'Actions', class: 'actions-cell', cell: (j) => runButton(ctx, j, () => poll()) },
    ],
  });

  const tasksTable = liveTable({
    caption: 'Running tasks', key: (t) => t.uuid, empty: 'No tasks are running.',
    columns: [
      { label: 'Task', cell: (t) => h('a', { href: `#/tasks/${t.uuid}` }, `${t.type} ${short(t.uuid)}`) },
      { label: 'For', cell: (t) => h('span', null, taskSubject(t, names)) },
      { label: 'Status', cell: (t) => badge(t.status) },
      {
        label: 'Running for', class: 'num',
        cell: (t) => h('span', null, t.started_at ? fmtDuration(between(t.started_at)) : 'waiting'),
        update: (el, t) => setText(el, t.started_at ? fmtDuration(between(t.started_at)) : 'waiting'),
      },
      {
        label: 'Progress', class: 'num',
        cell: (t) => h('span', { class: 'progress-bytes' }, `${fmtBytes(t.bytes || 0)} so far`),
        update: (el, t) => setText(el, `${fmtBytes(t.bytes || 0)} so far`),
      },
      {
        label: 'Actions', class: 'actions-cell',
        cell: (t) => cancelButton(ctx, t, `${t.type} ${short(t.uuid)}`, () => poll()),
      },
    ],
  });

  const storesTable = liveTable({
    caption: 'Store usage', key: (s) => s.uuid, empty: 'No stores yet.',
    columns: [
      { label: 'Store', cell: (s) => h('a', { href: `#/stores/${s.uuid}` }, s.name || short(s.uuid)) },
      { label: 'Archives', class: 'num', cell: (s) => h('span', null, String(s.archives)) },
      { label: 'Used', class: 'num', cell: (s) => h('span', null, fmtBytes(s.bytes)) },
      {
        label: 'Share', class: 'bar-cell',
        cell: (s) => {
          const fill = h('span', { class: 'bar-fill' });
          fill.style.width = `${s._share}%`;
          return h('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
        },
        update: (el, s) => {
          el.firstChild.style.width = `${s._share}%`;
        },
      },
    ],
  });

  ctx.main.append(
    pageHeader('Dashboard', linkButton('#/jobs/new', 'New job', 'btn')),
    summary, status,
    section('Jobs', h('p', { class: 'help' }, 'Failed jobs are listed first.'), jobsTable.el),
    section('Running tasks', h('div', { class: 'reserve' }, tasksTable.el), h('p', null, h('a', { href: '#/tasks' }, 'All tasks'))),
    section('Store usage', storesTable.el));

  poll = async () => {
    try {
      const [st, jobs, running, pending] = await Promise.all([
        get('/v1/status'), get('/v1/jobs'), get('/v1/tasks', { status: 'running' }), get('/v1/tasks', { status: 'pending' })]);
      if (!ctx.alive) return;
      names = new Map();
      for (const j of jobs) {
        names.set(j.uuid, j.name);
        names.set(j.target_uuid, j.target_name);
        names.set(j.store_uuid, j.store_name);
      }
      await Promise.all(jobs.map(async (j) => {
        try {
          j._last = await lastTask(j.last_task_uuid);
        } catch (e) {
          if (e.status !== 404) throw e;
          j._last = null;
        }
      }));
      if (!ctx.alive) return;
      jobs.sort((a, b) => (ORDER[jobState(a)] ?? 9) - (ORDER[jobState(b)] ?? 9) ||
        (a.name || '').localeCompare(b.name || ''));
      jobsTable.set(jobs);
      tasksTable.set([...running, ...pending]);
      const max = Math.max(1, ...st.stores.map((s) => s.bytes || 0));
      storesTable.set(st.stores.map((s) => Object.assign(s, { _share: Math.round(((s.bytes || 0) / max) * 100) })));
      const failed = jobs.filter((j) => jobState(j) === 'failed').length;
      const tc = st.tasks || {};
      setText(summary, `SHIELD ${st.version} · up ${fmtDuration(st.uptime)} · ${plural(jobs.length, 'job')}` +
        `${failed ? ` (${failed} failing)` : ''} · tasks: ${tc.running || 0} running, ${tc.pending || 0} pending, ` +
        `${tc.done || 0} done, ${tc.failed || 0} failed, ${tc.canceled || 0} canceled`);
      summary.className = failed ? 'summary summary-bad' : 'summary';
      status.ok('Updated every 2 seconds.');
    } catch (e) {
      if (!e.handled) status.error(`Could not refresh the dashboard: ${e.message}`);
    }
  };
  await ctx.poll(poll, 2000);
}
