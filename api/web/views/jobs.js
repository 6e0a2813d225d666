// Jobs: a target, a store, a schedule and a retention policy; run, pause.
import { get, post, put, del } from '../lib/api.js';
import {
  h, clear, liveTable, fieldRow, checkboxRow, formErrorBox, select, confirmDialog, badge, timeCell,
  fmtBytes, fmtDuration, fmtPeriod, between,
} from '../lib/dom.js';
import {
  pageHeader, linkButton, actionButton, detailsList, filterBar, filterField, statusLine, section, plural, short,
  daemonZone, zoneNote,
} from '../lib/ui.js';
import { statusCell } from './tasks.js';

// The outcome of a job's last run (running while one is under way).
export function jobState(j) {
  return j.last_task_status || j.last_status || 'never';
}

// "Run now": schedule a backup and offer a link to follow it.
export async function runJob(ctx, job) {
  const r = await post(`/v1/job/${job.uuid}/run`, {});
  ctx.flash(`Backup of “${job.name}” scheduled.`, { kind: 'success', link: { href: `#/tasks/${r.task_uuid}`, text: 'Follow the task' } });
  return r;
}

export function runButton(ctx, job, after) {
  return actionButton(ctx, 'Run now', async () => {
    await runJob(ctx, job);
    if (after) await after();
  }, { cls: 'btn btn-small', busy: 'Scheduling…', errorPrefix: `Could not run “${job.name}”`,
    attrs: { 'aria-label': `Run job ${job.name} now`, 'data-action': 'run' } });
}

export function pauseButton(ctx, job, after) {
  const pause = !job.paused;
  return actionButton(ctx, pause ? 'Pause' : 'Unpause', async () => {
    await post(`/v1/job/${job.uuid}/${pause ? 'pause' : 'unpause'}`, {});
    ctx.flash(`Job “${job.name}” ${pause ? 'paused' : 'unpaused'}.`, { kind: 'success' });
    if (after) await after();
  }, { cls: 'btn btn-small', errorPrefix: `Could not ${pause ? 'pause' : 'unpause'} “${job.name}”`,
    attrs: { 'aria-label': `${pause ? 'Pause' : 'Unpause'} job ${job.name}`, 'data-action': pause ? 'pause' : 'unpause' } });
}

function refOptions(items, anyLabel) {
  return [{ value: '', label: anyLabel },
    ...items.slice().sort((a, b) => (a.name || '').localeCompare(b.name || '')).map((x) => ({ value: x.uuid, label: x.name }))];
}

export async function list(ctx) {
  ctx.title('Jobs');
  const status = statusLine();
  const [targets, stores, schedules, policies, zone] = await Promise.all([
    get('/v1/targets'), get('/v1/stores'), get('/v1/schedules'), get('/v1/retention'), daemonZone()]);
  if (!ctx.alive) return;
  const q = ctx.query;
  const tSel = select(refOptions(targets, 'Any target'), q.get('target'));
  const sSel = select(refOptions(stores, 'Any store'), q.get('store'));
  const scSel = select(refOptions(schedules, 'Any schedule'), q.get('schedule'));
  const rSel = select(refOptions(policies, 'Any retention policy'), q.get('retention'));
  const pSel = select([{ value: '', label: 'Paused or not' }, { value: 'f', label: 'Active' }, { value: 't', label: 'Paused' }], q.get('paused'));
  let refresh;
  const table = liveTable({
    caption: 'Jobs', key: (j) => j.uuid, empty: 'No jobs match.',
    columns: [
      { label: 'Name', cell: (j) => h('a', { href: `#/jobs/${j.uuid}` }, j.name || '(unnamed)') },
      { label: 'Target', cell: (j) => h('a', { href: `#/targets/${j.target_uuid}` }, j.target_name) },
      { label: 'Store', cell: (j) => h('a', { href: `#/stores/${j.store_uuid}` }, j.store_name) },
      { label: 'Schedule', cell: (j) => h('span', { title: zone ? `${j.schedule} (${zone} time)` : j.schedule }, j.schedule_name) },
      { label: 'Retention', cell: (j) => h('span', null, j.retention_name) },
      { label: 'Last run', cell: (j) => h('span', { class: 'stack' }, badge(jobState(j)), j.last_run ? timeCell(j.last_run) : null) },
      { label: 'Next run', cell: (j) => (j.paused ? h('span', { class: 'muted' }, 'paused') : timeCell(j.next_run)) },
      {
        label: 'Actions', class: 'actions-cell',
        cell: (j) => h('span', { class: 'row-actions' }, runButton(ctx, j, () => refresh()), pauseButton(ctx, j, () => refresh())),
      },
    ],
  });
  refresh = async () => {
    const qq = { target: tSel.value, store: sSel.value, schedule: scSel.value, retention: rSel.value, paused: pSel.value };
    ctx.setQuery('/jobs', qq);
    try {
      const jobs = await get('/v1/jobs', qq);
      if (!ctx.alive) return;
      jobs.sort((a, b) => (a.name || '').localeCompare(b.name || ''));
      table.set(jobs);
      status.ok(plural(jobs.length, 'job'));
    } catch (e) {
      if (!e.handled) status.error(`Could not load jobs: ${e.message}`);
    }
  };
  ctx.main.append(
    pageHeader('Jobs', linkButton('#/jobs/new', 'New job', 'btn btn-primary')),
    filterBar([filterField('Target', tSel), filterField('Store', sSel), filterField('Schedule', scSel),
      filterField('Retention', rSel), filterField('State', pSel)], () => refresh()),
    status, table.el);
  status.ok('Loading…');
  await ctx.poll(refresh, 5000);
}

// Put what make() builds into slot, unless key says it shows that already
// (a poll must not rebuild what is on screen).
function fill(slot, key, make) {
  if (slot.dataset.key === key) return;
  slot.dataset.key = key;
  clear(slot).append(make());
}

export async function view(ctx, id) {
  const [first, zone] = await Promise.all([get(`/v1/job/${id}`), daemonZone()]);
  if (!ctx.alive) return;
  let job = first;
  ctx.title(`Job ${job.name}`);
  const reload = async () => {
    if (ctx.alive) {
      // re-render this page with fresh state
      const h0 = location.hash;
      history.replaceState(null, '', h0);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    }
  };
  const tasksTable = liveTable({
    caption: 'Recent tasks', key: (t) => t.uuid, empty: 'This job has not run yet.',
    columns: [
      { label: 'Task', cell: (t) => h('a', { href: `#/tasks/${t.uuid}` }, `${t.type} ${short(t.uuid)}`) },
      { label: 'Status', cell: (t) => statusCell(t) },
      { label: 'Started', cell: (t) => timeCell(t.started_at || t.requested_at) },
      { label: 'Took', cell: (t) => h('span', { class: 'num' }, t.started_at ? fmtDuration(between(t.started_at, t.stopped_at)) : '—') },
      { label: 'Size', cell: (t) => h('span', { class: 'num' }, fmtBytes(t.bytes)) },
    ],
  });
  // What a run changes; the rest of the page stays as first drawn.
  const slots = { state: h('span'), result: h('span'), next: h('span'), last: h('span') };
  const showJob = () => {
    fill(slots.state, String(!!job.paused), () => (job.paused ?
      h('span', { class: 'stack' }, badge('paused'), 'not run on schedule while paused') : 'active, runs on schedule'));
    fill(slots.result, jobState(job), () => badge(jobState(job)));
    fill(slots.next, job.paused ? 'paused' : String(job.next_run), () => (job.paused ? 'paused' : timeCell(job.next_run)));
    fill(slots.last, String(job.last_run), () => (job.last_run ? timeCell(job.last_run) : 'never'));
  };
  showJob();
  const delBtn = actionButton(ctx, 'Delete', async () => {
    const ok = await confirmDialog({
      title: `Delete job “${job.name}”?`,
      body: h('p', null, 'The job ', h('strong', null, job.name),
        ' will stop running. Its archives stay until they expire.'),
      confirmLabel: 'Delete job', danger: true,
    });
    if (!ok) return;
    await del(`/v1/job/${id}`);
    ctx.flash(`Deleted job “${job.name}”.`, { kind: 'success', keep: true });
    ctx.go('#/jobs');
  }, { cls: 'btn btn-danger', errorPrefix: 'Could not delete the job' });
  ctx.main.append(
    pageHeader(job.name || '(unnamed)', runButton(ctx, job, () => tick()), pauseButton(ctx, job, reload),
      linkButton(`#/jobs/${id}/edit`, 'Edit'), delBtn),
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/jobs' }, '← All jobs')),
    section('Details', detailsList([
      ['Summary', job.summary || '—'],
      ['State', slots.state],
      ['Last result', slots.result],
      ['Target', h('a', { href: `#/targets/${job.target_uuid}` }, `${job.target_name} (${job.target_plugin})`)],
      ['Store', h('a', { href: `#/stores/${job.store_uuid}` }, `${job.store_name} (${job.store_plugin})`)],
      ['Schedule', h('span', null, h('a', { href: `#/schedules/${job.schedule_uuid}` }, job.schedule_name), ' — ',
        h('code', null, job.schedule), zoneNote(zone))],
      ['Retention', h('span', null, h('a', { href: `#/retention/${job.retention_uuid}` }, job.retention_name), ` — keeps archives for ${fmtPeriod(job.expiry)}`)],
      ['Next run', slots.next],
      ['Last run', slots.last],
      ['UUID', h('span', { class: 'mono' }, job.uuid)],
    ])),
    section('Recent tasks', tasksTable.el,
      h('p', null, h('a', { href: `#/archives?target=${job.target_uuid}&store=${job.store_uuid}` }, 'Archives of this target in this store'))));
  // The job's last result and run change when one of its tasks starts or
  // ends: fetch the job again then, not on every poll.
  let seen = null;
  const tick = async () => {
    const tasks = await get('/v1/tasks', { job: id, limit: 10 });
    if (!ctx.alive) return;
    tasksTable.set(tasks);
    const now = tasks.map((t) => `${t.uuid}:${t.status}`).join(' ');
    if (seen !== null && now !== seen) {
      job = await get(`/v1/job/${id}`);
      if (!ctx.alive) return;
      showJob();
    }
    seen = now;
  };
  await ctx.poll(tick, 3000);
}

export async function form(ctx, id) {
  const [job, targets, stores, schedules, policies] = await Promise.all([
    id ? get(`/v1/job/${id}`) : null, get('/v1/targets'), get('/v1/stores'), get('/v1/schedules'), get('/v1/retention')]);
  if (!ctx.alive) return;
  ctx.title(job ? `Edit job ${job.name}` : 'New job');
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', value: job?.name || '' });
  const summary = h('input', { type: 'text', name: 'summary', autocomplete: 'off', value: job?.summary || '' });
  const refs = [
    ['target', 'Target', targets, '#/targets/new', 'What to back up.'],
    ['store', 'Store', stores, '#/stores/new', 'Where archives are kept.'],
    ['schedule', 'Schedule', schedules, '#/schedules/new', 'When the backup runs.'],
    ['retention', 'Retention policy', policies, '#/retention/new', 'How long archives are kept.'],
  ].map(([key, label, items, href, help]) => {
    const sel = select(refOptions(items, `Choose a ${label.toLowerCase()}…`), job ? job[`${key}_uuid`] : '', { name: key });
    const row = fieldRow({ label, control: sel, required: true, help });
    if (items.length === 0)
      row.insertBefore(h('p', { class: 'help' }, `There is none yet: `, h('a', { href }, `create a ${label.toLowerCase()}`), ' first.'), row.lastChild);
    return { key, label, sel, row };
  });
  const paused = h('input', { type: 'checkbox', name: 'paused', checked: !!job?.paused });
  const nameRow = fieldRow({ label: 'Name', control: name, required: true });
  const errors = formErrorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, job ? 'Save changes' : 'Create job');
  const formEl = h('form', { class: 'form', novalidate: true, 'aria-label': job ? 'Edit job' : 'New job' },
    nameRow, fieldRow({ label: 'Summary', control: summary, help: 'A short description, optional.' }),
    refs.map((r) => r.row),
    checkboxRow({ label: 'Paused (do not run on schedule)', control: paused }),
    errors,
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn', href: job ? `#/jobs/${id}` : '#/jobs' }, 'Cancel')));
  formEl.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.show(null);
    nameRow.setError('');
    const missing = [];
    if (!name.value.trim()) {
      nameRow.setError('Enter a name.');
      missing.push(name);
    }
    for (const r of refs) {
      r.row.setError(r.sel.value ? '' : `Choose a ${r.label.toLowerCase()}.`);
      if (!r.sel.value) missing.push(r.sel);
    }
    if (missing.length) {
      missing[0].focus();
      return;
    }
    const body = { name: name.value.trim(), summary: summary.value };
    for (const r of refs) body[r.key] = r.sel.value;
    submit.disabled = true;
    try {
      let uuid = id;
      if (job) {
        await put(`/v1/job/${id}`, body);
        if (paused.checked !== !!job.paused) await post(`/v1/job/${id}/${paused.checked ? 'pause' : 'unpause'}`, {});
      } else {
        body.paused = paused.checked;
        uuid = (await post('/v1/jobs', body)).uuid;
      }
      ctx.flash(`${job ? 'Saved' : 'Created'} job “${body.name}”.`, { kind: 'success', keep: true });
      ctx.go(`#/jobs/${uuid}`);
    } catch (err) {
      if (err.handled) return;
      errors.show(err, job ? 'Could not save the job' : 'Could not create the job');
      for (const r of refs) if (err.missing.includes(r.key)) r.row.setError(`Choose a ${r.label.toLowerCase()}.`);
      errors.focus();
    } finally {
      submit.disabled = false;
    }
  });
  ctx.main.append(
    pageHeader(job ? `Edit job “${job.name}”` : 'New job'),
    h('p', { class: 'breadcrumb' }, h('a', { href: job ? `#/jobs/${id}` : '#/jobs' }, job ? `← Back to ${job.name}` : '← All jobs')),
    formEl);
  name.focus();
}
