// Browser tests of the SHIELD web UI: the real shieldd on 127.0.0.1, driven
// through Debian's Chromium with playwright-core.  Steps run in order and
// build on each other; the script prints "N passed, N failed".
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// test_ui.sh installs playwright-core under the build dir and says where;
// `npm test` in test/ui uses the local node_modules.
const { chromium } = await import(process.env.SHIELD_UI_MODULES ?
  pathToFileURL(path.join(process.env.SHIELD_UI_MODULES, 'playwright-core', 'index.mjs')).href : 'playwright-core');
const SRC = path.resolve(process.env.SHIELD_SRC || path.join(here, '../..'));
const BUILD = path.resolve(process.env.SHIELD_BUILD || path.join(SRC, 'build'));
const PLUGINS = path.resolve(process.env.SHIELD_PLUGINS || path.join(BUILD, 'plugins', 'bin'));
const SHIELDD = path.join(BUILD, 'core', 'shieldd');
const SHOTS = path.join(BUILD, 'ui-screenshots');
const PASSWORD = 'correct horse battery staple';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const XSS_NAME = '<script>alert(1)</script>';
const DAEMON_TZ = 'Europe/Berlin';
const BROWSER_TZ = 'America/New_York';
// a time as the UI shows it: with the short name of its zone
const SHOWN_TIME = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (EST|EDT)$/;
const BERLIN_TIME = /\d{4}-\d{2}-\d{2} 04:00:00 GMT\+[12]$/;
const XSS_NOTE = '<img src=x onerror=alert(document.domain)> keep <b>this</b>';

// ---- plumbing -----------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeTree(dir, files) {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

function readTree(dir) {
  const out = {};
  const walk = (d, prefix) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else out[rel] = fs.readFileSync(path.join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shield-ui.'));
const S = { tmp, dialogs: [], pageErrors: [], consoleErrors: [] };
let daemon = null;
let browser = null;

async function startDaemon() {
  const pdir = path.join(tmp, 'plugins');
  fs.mkdirSync(pdir);
  fs.copyFileSync(path.join(PLUGINS, 'fs'), path.join(pdir, 'fs'));
  fs.copyFileSync(path.join(SRC, 'test', 'plugins', 'slow'), path.join(pdir, 'slow'));
  fs.chmodSync(path.join(pdir, 'fs'), 0o755);
  fs.chmodSync(path.join(pdir, 'slow'), 0o755);
  // a target-only plugin with a secret, a port and a bool, to check the forms
  fs.writeFileSync(path.join(pdir, 'vault'), `#!/bin/sh
case $1 in
info) cat <<'JSON'
{"name": "Vault (UI test)", "author": "SHIELD tests", "version": "0.0.1",
 "features": {"target": "yes", "store": "no", "validate": "no"},
 "fields": [
  {"name": "address", "type": "string", "required": true, "help": "Host to talk to."},
  {"name": "port", "type": "port", "required": false, "default": "8200", "help": "TCP port."},
  {"name": "api_password", "type": "password", "required": true, "help": "Secret."},
  {"name": "tls", "type": "bool", "required": false, "default": "true", "help": "Use TLS."}]}
JSON
;;
esac
exit 0
`, { mode: 0o755 });
  S.port = await freePort();
  S.url = `http://127.0.0.1:${S.port}`;
  S.logPath = path.join(tmp, 'shieldd.log');
  const log = fs.openSync(S.logPath, 'a');
  daemon = spawn(SHIELDD, ['--listen', `127.0.0.1:${S.port}`, '--db', path.join(tmp, 'shield.db'),
    '--plugins', pdir, '--web', path.join(SRC, 'api', 'web'), '--log-level', 'debug'], {
    // schedules are evaluated in shieldd's zone, the browser shows another
    env: { ...process.env, SHIELD_ADMIN_PASSWORD: PASSWORD, TZ: DAEMON_TZ }, stdio: ['ignore', log, log],
  });
  S.exit = new Promise((resolve) => daemon.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (daemon.exitCode !== null) throw new Error(`shieldd exited ${daemon.exitCode}:\n${fs.readFileSync(S.logPath, 'utf8')}`);
    try {
      const r = await fetch(`${S.url}/v1/ping`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('shieldd did not answer within 20 s');
    await sleep(50);
  }
  const r = await fetch(`${S.url}/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  S.token = (await r.json()).token;
}

async function apiCall(method, p, body) {
  const r = await fetch(S.url + p, {
    method, headers: { Authorization: `Bearer ${S.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) throw new Error(`${method} ${p} -> ${r.status} ${JSON.stringify(data)}`);
  return data;
}

async function newPage(context) {
  const page = await context.newPage();
  page.on('dialog', async (d) => {
    S.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => S.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') S.consoleErrors.push(`${m.text()} (${m.location().url || '?'})`);
  });
  page.setDefaultTimeout(15000);
  return page;
}

async function shot(page, name, opts = {}) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, ...opts });
}

async function login(page, password = PASSWORD) {
  await page.locator('.login-form input[name="username"]').fill('admin');
  await page.locator('.login-form input[name="password"]').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

const uuidFromUrl = (page, kind) => {
  const m = new RegExp(`#/${kind}/([0-9a-f-]{36})`).exec(page.url());
  assert.ok(m, `expected a ${kind} page, at ${page.url()}`);
  return m[1];
};

async function waitHash(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(location.hash), re.source);
}

// Follow a link of the main navigation.
async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

// Fill a target/store form: name, plugin, then the plugin's fields.
async function fillSystemForm(page, { name, plugin, fields, summary }) {
  await page.locator('form input[name="name"]').fill(name);
  if (summary) await page.locator('form input[name="summary"]').fill(summary);
  await page.locator('form select[name="plugin"]').selectOption(plugin);
  for (const [k, v] of Object.entries(fields)) await page.getByLabel(k, { exact: false }).first().fill(v);
}

// The value cell of a details row ("Last result", "Last run", ...).
const detail = (page, label) => page.locator('.details-row')
  .filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');

// ---- the steps ------------------------------------------------------------------

const steps = [];
const step = (name, fn) => steps.push({ name, fn });

step('login: a wrong password is refused in words, the right one opens the dashboard', async () => {
  const { page } = S;
  await page.goto(`${S.url}/`);
  await page.getByRole('heading', { name: 'Log in to SHIELD' }).waitFor();
  await sleep(300);
  // a first visit knows it has no session: no refused request in the console
  assert.deepEqual(S.consoleErrors, [], 'no console error on the login page');
  await login(page, 'not the password');
  await page.locator('#login-error').filter({ hasText: 'Wrong username or password' }).waitFor();
  await shot(page, '01-login-wrong-password');
  await login(page);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.locator('#dash-summary').filter({ hasText: 'SHIELD' }).waitFor();
  await page.locator('.username').filter({ hasText: 'admin' }).waitFor();
});

step('validation: a relative base_dir shows the plugin\'s reasons next to the form', async () => {
  const { page } = S;
  await nav(page, 'Targets');
  await page.getByRole('link', { name: 'New target' }).click();
  await fillSystemForm(page, { name: 'bad', plugin: 'fs', fields: { base_dir: 'relative/dir' } });
  // password-less plugin: the form still marks required fields
  assert.equal(await page.locator('#' + await page.getByLabel('base_dir').getAttribute('id')).getAttribute('aria-required'), 'true');
  await page.getByRole('button', { name: 'Create target' }).click();
  const box = page.locator('form .form-error');
  await box.filter({ hasText: 'absolute' }).waitFor();
  assert.match(await box.innerText(), /Could not create the target/);
  assert.match(await box.locator('ul.reasons').innerText(), /base_dir/);
  // the reason is also attached to the field it names
  await page.locator('.field-error').filter({ hasText: 'absolute' }).first().waitFor();
  assert.equal(await page.getByLabel('base_dir').getAttribute('aria-invalid'), 'true');
  assert.match(page.url(), /#\/targets\/new$/);
  await shot(page, '02-target-validation-error');
});

step('create a target, a store, a schedule (with live preview), a retention policy and a job', async () => {
  const { page } = S;
  S.src = path.join(tmp, 'data');
  S.storeDir = path.join(tmp, 'store');
  fs.mkdirSync(S.storeDir);
  S.original = { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/deep/c.txt': 'charlie\n' };
  writeTree(S.src, S.original);

  await page.goto(`${S.url}/#/targets/new`);
  await fillSystemForm(page, { name: 'docs', plugin: 'fs', summary: 'project documents', fields: { base_dir: S.src } });
  // a target form has them, labelled
  for (const [key, label] of [['include', 'Include'], ['exclude', 'Exclude']]) {
    const id = await page.locator(`form [name="${key}"]`).getAttribute('id');
    assert.match(await page.locator(`label[for="${id}"]`).innerText(), new RegExp(`^${label}\\b`));
  }
  await page.getByRole('button', { name: 'Create target' }).click();
  await waitHash(page, /^#\/targets\/[0-9a-f-]{36}$/);
  S.target = uuidFromUrl(page, 'targets');
  await page.getByRole('heading', { name: 'docs' }).waitFor();
  await page.locator('.details').filter({ hasText: S.src }).waitFor();
  await detail(page, 'Directory').filter({ hasText: S.src }).waitFor();

  await nav(page, 'Stores');
  await page.getByRole('link', { name: 'New store' }).click();
  await fillSystemForm(page, { name: 'local disk', plugin: 'fs', fields: { base_dir: S.storeDir } });
  // a store form leaves out what only a target reads, and names fields for people
  assert.equal(await page.locator('form [name="include"], form [name="exclude"]').count(), 0,
    'no include/exclude in a store form');
  assert.match(await page.locator(`label[for="${await page.getByLabel('base_dir').getAttribute('id')}"]`).innerText(),
    /^Directory\b/);
  assert.ok(!(await page.locator('fieldset.endpoint').innerText()).includes('Target only'), 'no target-only help');
  await shot(page, '02-store-form');
  await page.getByRole('button', { name: 'Create store' }).click();
  await waitHash(page, /^#\/stores\/[0-9a-f-]{36}$/);
  S.store = uuidFromUrl(page, 'stores');

  await nav(page, 'Schedules');
  await page.getByRole('link', { name: 'New schedule' }).click();
  const when = page.getByLabel('When');
  await when.pressSequentially('dialy at 4am', { delay: 15 });
  const preview = page.locator('#timespec-preview');
  await preview.locator('.status-error').filter({ hasText: /dialy/ }).waitFor();
  assert.equal(await when.getAttribute('aria-invalid'), 'true');
  await when.fill('');
  await when.pressSequentially('daily at 4am', { delay: 15 });
  await preview.filter({ hasText: 'Canonical form: daily at 04:00' }).waitFor();
  assert.equal(await preview.locator('.next-runs li').count(), 5);
  // the schedule's own zone: 4am is 04:00 in shieldd's zone, and it says which
  assert.match(await preview.locator('.next-runs li time').first().innerText(), BERLIN_TIME);
  assert.match(await preview.innerText(), new RegExp(DAEMON_TZ));
  await page.locator('form input[name="name"]').fill('nightly');
  await shot(page, '03-schedule-preview');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await waitHash(page, /^#\/schedules\/[0-9a-f-]{36}$/);
  S.schedule = uuidFromUrl(page, 'schedules');

  await nav(page, 'Retention');
  await page.getByRole('link', { name: 'New retention policy' }).click();
  await page.locator('form input[name="name"]').fill('two weeks');
  await page.getByLabel('Keep archives for').fill('14');
  await page.locator('form select[name="unit"]').selectOption({ label: 'days' });
  await page.getByRole('button', { name: 'Create retention policy' }).click();
  await waitHash(page, /^#\/retention\/[0-9a-f-]{36}$/);
  S.retention = uuidFromUrl(page, 'retention');
  await page.locator('.details').filter({ hasText: '1209600 seconds' }).waitFor();

  await nav(page, 'Jobs');
  await page.getByRole('link', { name: 'New job' }).click();
  await page.locator('form input[name="name"]').fill('docs nightly');
  await page.locator('form select[name="target"]').selectOption({ label: 'docs' });
  await page.locator('form select[name="store"]').selectOption({ label: 'local disk' });
  await page.locator('form select[name="schedule"]').selectOption({ label: 'nightly' });
  await page.locator('form select[name="retention"]').selectOption({ label: 'two weeks' });
  await page.getByRole('button', { name: 'Create job' }).click();
  await waitHash(page, /^#\/jobs\/[0-9a-f-]{36}$/);
  S.job = uuidFromUrl(page, 'jobs');
  const job = await apiCall('GET', `/v1/job/${S.job}`);
  assert.equal(job.target_uuid, S.target);
  assert.equal(job.store_uuid, S.store);
  assert.equal(job.schedule, 'daily 4am'.replace('4am', 'at 4am'));
  assert.equal(job.expiry, 14 * 86400);
});

step('jobs: pause and unpause from the list', async () => {
  const { page } = S;
  await nav(page, 'Jobs');
  const row = page.locator('table.data tbody tr').filter({ hasText: 'docs nightly' });
  await row.getByRole('button', { name: 'Pause job docs nightly' }).click();
  await row.getByRole('button', { name: 'Unpause job docs nightly' }).waitFor();
  assert.equal((await apiCall('GET', `/v1/job/${S.job}`)).paused, true);
  await page.locator('form.filters select').last().selectOption({ label: 'Paused' });
  await page.locator('table.data tbody tr').filter({ hasText: 'docs nightly' }).waitFor();
  await row.getByRole('button', { name: 'Unpause job docs nightly' }).click();
  await page.locator('table.data tbody tr.empty').filter({ hasText: 'No jobs match' }).waitFor();
  assert.equal((await apiCall('GET', `/v1/job/${S.job}`)).paused, false);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await row.getByRole('button', { name: 'Pause job docs nightly' }).waitFor();
  await shot(page, '04-jobs');
});

step('toasts: at most three at a time, the newest kept, each goes away by itself', async () => {
  const { page } = S;
  await nav(page, 'Jobs');
  const row = page.locator('table.data tbody tr').filter({ hasText: 'docs nightly' });
  for (let i = 0; i < 6; i++) {
    const pause = i % 2 === 0;
    await row.getByRole('button', { name: `${pause ? 'Pause' : 'Unpause'} job docs nightly` }).click();
    await row.getByRole('button', { name: `${pause ? 'Unpause' : 'Pause'} job docs nightly` }).waitFor();
    await page.locator('#flash .flash').last().filter({ hasText: pause ? 'paused.' : 'unpaused.' }).waitFor();
  }
  const toasts = page.locator('#flash .flash');
  assert.equal(await toasts.count(), 3, 'three toasts at most');
  assert.match(await toasts.last().innerText(), /unpaused\./, 'the newest is kept');
  await shot(page, '04-toasts', { fullPage: false });
  await page.mouse.move(1, 1);   // a pointer on a toast holds it
  await page.waitForFunction(() => document.querySelectorAll('#flash .flash').length === 0, null, { timeout: 15000 });
  assert.equal((await apiCall('GET', `/v1/job/${S.job}`)).paused, false);
});

step('run the job now: the job page\'s details follow it without a reload; follow its task to the end', async () => {
  const { page } = S;
  await page.goto(`${S.url}/#/jobs/${S.job}`);
  await detail(page, 'Last result').filter({ hasText: 'never run' }).waitFor();
  assert.equal((await detail(page, 'Last run').innerText()).trim(), 'never');
  const details = await page.locator('dl.details').elementHandle();
  await page.getByRole('button', { name: 'Run job docs nightly now' }).click();
  const follow = page.getByRole('link', { name: 'Follow the task' });
  const href = await follow.getAttribute('href');
  await detail(page, 'Last result').locator('.badge-done').waitFor({ timeout: 60000 });
  assert.match((await detail(page, 'Last run').locator('time').innerText()).trim(), SHOWN_TIME);
  assert.match(await detail(page, 'Schedule').innerText(), new RegExp(`daily at 4am.*${DAEMON_TZ}`));
  assert.ok(await details.evaluate((el) => el.isConnected), 'the page was updated in place, not reloaded');
  await shot(page, '05-job-after-run');
  await page.locator(`a[href="${href}"]`).first().click();
  await waitHash(page, /^#\/tasks\/[0-9a-f-]{36}$/);
  S.backupTask = uuidFromUrl(page, 'tasks');
  await page.locator('.follow').filter({ hasText: 'The task has ended: done.' }).waitFor({ timeout: 60000 });
  await page.getByRole('log').filter({ hasText: 'backup done' }).waitFor();
  assert.notEqual((await page.locator('#task-bytes').innerText()).trim(), '0 B');
  await shot(page, '05-task-done');
});

step('dashboard: the job shows its last run, size and next run; store usage', async () => {
  const { page } = S;
  await nav(page, 'Dashboard');
  const row = page.locator('table.data tbody tr').filter({ hasText: 'docs nightly' });
  await row.locator('.badge-done').waitFor();
  // one word for a finished task: the API, the task page and the filter say "done"
  assert.equal((await row.locator('.badge-done').innerText()).replace('✓', '').trim(), 'done');
  await row.locator('td[data-label="Size"]').filter({ hasText: /\d+(\.\d)? (B|KiB)/ }).waitFor();
  assert.match((await row.locator('td[data-label="Next run"] time').innerText()).trim(), SHOWN_TIME);
  await page.locator('table.data tbody tr').filter({ hasText: 'local disk' }).locator('td[data-label="Archives"]')
    .filter({ hasText: '1' }).waitFor();
  await shot(page, '06-dashboard');
});

step('archives: find the archive and give it a note with markup (shown as text)', async () => {
  const { page } = S;
  await nav(page, 'Archives');
  await page.locator('form.filters select').first().selectOption({ label: 'docs' });
  await waitHash(page, new RegExp(`target=${S.target}`));
  const today = new Date().toISOString().slice(0, 10);
  const rows = page.locator('table.data tbody tr:not(.empty)');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  // a date range that excludes it leaves nothing
  await page.getByLabel('Taken before').fill('2001-01-01');
  await page.getByLabel('Taken before').dispatchEvent('change');
  await page.locator('table.data tbody tr.empty').waitFor();
  await page.getByLabel('Taken before').fill('');
  await page.getByLabel('Taken after').fill(today);
  await page.getByLabel('Taken after').dispatchEvent('change');
  await rows.first().waitFor();
  await rows.first().getByRole('link').click();
  await waitHash(page, /^#\/archives\/[0-9a-f-]{36}$/);
  S.archive = uuidFromUrl(page, 'archives');
  // the job is named, as the target and the store are, not shown as a uuid prefix
  const jobRow = page.locator('.details-row').filter({ has: page.locator('dt', { hasText: /^Job$/ }) });
  await jobRow.getByRole('link', { name: 'docs nightly', exact: true }).waitFor();
  assert.equal(await jobRow.getByRole('link').getAttribute('href'), `#/jobs/${S.job}`);
  await shot(page, '07-archive');
  await page.getByRole('textbox', { name: 'Notes' }).fill(XSS_NOTE);
  await page.getByRole('button', { name: 'Save notes' }).click();
  await page.locator('.saved').filter({ hasText: 'Notes saved.' }).waitFor();
  assert.equal((await apiCall('GET', `/v1/archive/${S.archive}`)).notes, XSS_NOTE);
  await page.goto(`${S.url}/#/archives?target=${S.target}`);
  const cell = page.locator('.notes-cell').first();
  await cell.filter({ hasText: '<img src=x onerror=' }).waitFor();
  assert.equal(await cell.innerText(), XSS_NOTE);
  assert.equal(await page.locator('main img, main b').count(), 0);
  await shot(page, '07-archives');
});

step('restore: confirmation names the target; the files come back on disk', async () => {
  const { page } = S;
  fs.writeFileSync(path.join(S.src, 'a.txt'), 'changed after the backup\n');
  fs.rmSync(path.join(S.src, 'sub', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(S.src, 'new.txt'), 'not in the archive\n');
  assert.notDeepEqual(readTree(S.src), S.original);
  await page.goto(`${S.url}/#/archives/${S.archive}`);
  await page.getByLabel('Restore onto').selectOption(S.target);
  await page.getByRole('button', { name: 'Restore…' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.waitFor();
  const text = await dlg.innerText();
  assert.match(text, /Overwrite “docs”\?/);
  assert.match(text, /overwrite the current data/);
  assert.ok(text.includes(S.src), 'the dialog names the directory that is overwritten');
  await shot(page, '08-restore-confirm', { fullPage: false });
  // Cancel first: nothing happens
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  await dlg.waitFor({ state: 'detached' });
  assert.ok(readTree(S.src)['new.txt']);
  await page.getByRole('button', { name: 'Restore…' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Overwrite docs and restore' }).click();
  await waitHash(page, /^#\/tasks\/[0-9a-f-]{36}$/);
  await page.locator('.follow').filter({ hasText: 'The task has ended: done.' }).waitFor({ timeout: 60000 });
  assert.deepEqual(readTree(S.src), S.original);
});

step('cancel: a slow backup shows live progress and ends canceled from the UI', async () => {
  const { page } = S;
  await page.goto(`${S.url}/#/targets/new`);
  await fillSystemForm(page, { name: 'slow source', plugin: 'slow', fields: { seconds: '60' } });
  await page.getByRole('button', { name: 'Create target' }).click();
  await waitHash(page, /^#\/targets\/[0-9a-f-]{36}$/);
  const slowTarget = uuidFromUrl(page, 'targets');
  S.slowJob = (await apiCall('POST', '/v1/jobs', {
    name: 'slow job', target: slowTarget, store: S.store, schedule: S.schedule, retention: S.retention, paused: true,
  })).uuid;
  await nav(page, 'Dashboard');
  await page.locator('table.data tbody tr').filter({ hasText: 'slow job' })
    .getByRole('button', { name: 'Run job slow job now' }).click();
  // live progress on the dashboard: the byte count grows in place
  const prog = page.locator('.progress-bytes').first();
  await prog.filter({ hasText: /[1-9][\d.]* (B|KiB)/ }).waitFor({ timeout: 20000 });
  const first = await prog.innerText();
  const handle = await prog.elementHandle();
  await page.waitForFunction(([el, t]) => el.isConnected && el.textContent !== t, [handle, first], { timeout: 15000 });
  await shot(page, '09-dashboard-running');
  await page.locator('table.data tbody tr').filter({ hasText: 'slow job' }).first().waitFor();
  await page.locator('td[data-label="Task"] a').first().click();
  await waitHash(page, /^#\/tasks\/[0-9a-f-]{36}$/);
  const task = uuidFromUrl(page, 'tasks');
  await page.locator('.follow.live').waitFor();
  await page.getByRole('button', { name: /^Cancel backup task/ }).click();
  // the two buttons say what each does: "Cancel" next to "Cancel task" was ambiguous
  const cdlg = page.getByRole('dialog');
  assert.deepEqual(await cdlg.getByRole('button').allInnerTexts(), ['Keep running', 'Cancel task']);
  assert.match(await cdlg.innerText(), /The backup task [0-9a-f]{8} is stopped/);
  await shot(page, '10-cancel-confirm', { fullPage: false });
  await cdlg.getByRole('button', { name: 'Keep running' }).click();
  await cdlg.waitFor({ state: 'detached' });
  await page.locator('.follow.live').waitFor();
  assert.equal((await apiCall('GET', `/v1/task/${task}`)).status, 'running', 'Keep running keeps it running');
  await page.getByRole('button', { name: /^Cancel backup task/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel task' }).click();
  await page.locator('.follow').filter({ hasText: 'The task has ended: canceled.' }).waitFor({ timeout: 30000 });
  assert.equal((await apiCall('GET', `/v1/task/${task}`)).status, 'canceled');
  await shot(page, '10-task-canceled');
  await nav(page, 'Tasks');
  await page.getByLabel('Status').selectOption('canceled');
  await page.locator('table.data tbody tr').filter({ hasText: task.slice(0, 8) }).waitFor();
  // the unfiltered list holds that row too: wait for the filtered answer
  await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr:not(.empty)').length === 1);
  await page.locator('table.data tbody tr').filter({ hasText: task.slice(0, 8) }).waitFor();
  await shot(page, '11-tasks-canceled-filter');
});

step('a failed task\'s last log line is on the dashboard and in the tasks list', async () => {
  const { page } = S;
  const dir = path.join(tmp, 'vanishing');
  fs.mkdirSync(dir);
  const target = (await apiCall('POST', '/v1/targets', {
    name: 'vanishing', summary: '', plugin: 'fs', endpoint: { base_dir: dir },
  })).uuid;
  fs.rmSync(dir, { recursive: true });
  const job = (await apiCall('POST', '/v1/jobs', {
    name: 'broken job', target, store: S.store, schedule: S.schedule, retention: S.retention, paused: true,
  })).uuid;
  const task = (await apiCall('POST', `/v1/job/${job}/run`, {})).task_uuid;
  let t;
  for (const deadline = Date.now() + 30000; Date.now() < deadline; await sleep(100)) {
    t = await apiCall('GET', `/v1/task/${task}`);
    if (t.status === 'failed') break;
  }
  assert.equal(t.status, 'failed');
  const listed = (await apiCall('GET', `/v1/tasks?job=${job}`)).find((x) => x.uuid === task);
  assert.ok(listed && typeof listed.last_log === 'string' && listed.last_log !== '', 'the API has last_log');
  // shown without the timestamp the log line starts with
  const line = listed.last_log.replace(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} /, '');
  await nav(page, 'Dashboard');
  const row = page.locator('table.data tbody tr').filter({ hasText: 'broken job' });
  await row.locator('.badge-failed').waitFor();
  await row.locator('.last-log').filter({ hasText: line }).waitFor();
  await shot(page, '16-dashboard-failed');
  await nav(page, 'Tasks');
  const trow = page.locator('table.data tbody tr').filter({ hasText: task.slice(0, 8) });
  await trow.locator('.badge-failed').waitFor();
  await trow.locator('.last-log').filter({ hasText: line }).waitFor();
  // a task that did not fail shows no such line
  assert.equal(await page.locator('table.data tbody tr').filter({ hasText: S.backupTask.slice(0, 8) })
    .locator('.last-log').count(), 0);
  await shot(page, '16-tasks-failed');
});

step('edit: a target and a job change through their forms; deleting a schedule in use is refused in words', async () => {
  const { page } = S;
  await page.goto(`${S.url}/#/targets/${S.target}`);
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await waitHash(page, /\/edit$/);
  assert.equal(await page.getByLabel('base_dir').inputValue(), S.src);
  await page.locator('form input[name="summary"]').fill('documents, edited');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('.details').filter({ hasText: 'documents, edited' }).waitFor();
  const t = await apiCall('GET', `/v1/target/${S.target}`);
  assert.equal(t.summary, 'documents, edited');
  assert.deepEqual(JSON.parse(t.endpoint), { base_dir: S.src });

  await page.goto(`${S.url}/#/jobs/${S.job}/edit`);
  await page.locator('form input[name="summary"]').fill('every night at four');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await waitHash(page, /^#\/jobs\/[0-9a-f-]{36}$/);
  await page.locator('.details').filter({ hasText: 'every night at four' }).waitFor();
  assert.equal((await apiCall('GET', `/v1/job/${S.job}`)).summary, 'every night at four');

  await page.goto(`${S.url}/#/schedules/${S.schedule}`);
  await page.locator('.next-runs li').first().waitFor();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete schedule' }).click();
  const err = page.locator('.flash-error');
  await err.waitFor();
  assert.match(await err.innerText(), /Could not delete the schedule: .*job/);
  assert.ok((await apiCall('GET', `/v1/schedule/${S.schedule}`)).uuid);
  await shot(page, '15-delete-refused');
});

step('secrets: password fields are masked in the form and on the page', async () => {
  const { page } = S;
  await page.goto(`${S.url}/#/targets/new`);
  await page.locator('form select[name="plugin"]').selectOption('vault');
  const pw = page.getByLabel('api_password');
  assert.equal(await pw.getAttribute('type'), 'password');
  assert.equal(await page.getByLabel('port').inputValue(), '8200', 'defaults are filled in');
  await page.locator('form input[name="name"]').fill('vault');
  await page.getByLabel('address').fill('127.0.0.1');
  await pw.fill('hunter2-very-secret');
  await page.getByRole('button', { name: 'Show' }).click();
  assert.equal(await pw.getAttribute('type'), 'text');
  await page.getByRole('button', { name: 'Hide' }).click();
  assert.equal(await pw.getAttribute('type'), 'password');
  await page.getByRole('button', { name: 'Create target' }).click();
  await waitHash(page, /^#\/targets\/[0-9a-f-]{36}$/);
  await page.locator('.masked').waitFor();
  assert.ok(!(await page.locator('main').innerText()).includes('hunter2'), 'the secret is not shown');
  await nav(page, 'Targets');
  await page.getByRole('link', { name: 'vault', exact: true }).waitFor();
  assert.ok(!(await page.locator('main').innerText()).includes('hunter2'), 'the secret is not listed');
  const t = (await apiCall('GET', '/v1/targets', undefined)).find((x) => x.name === 'vault');
  assert.deepEqual(JSON.parse(t.endpoint), { address: '127.0.0.1', port: '8200', api_password: 'hunter2-very-secret', tls: true });
});

step('XSS: a target named <script> renders as text everywhere', async () => {
  const { page } = S;
  const dir = path.join(tmp, 'xss');
  fs.mkdirSync(dir);
  await page.goto(`${S.url}/#/targets/new`);
  await fillSystemForm(page, { name: XSS_NAME, plugin: 'fs', summary: '<b>bold?</b>', fields: { base_dir: dir } });
  await page.getByRole('button', { name: 'Create target' }).click();
  await waitHash(page, /^#\/targets\/[0-9a-f-]{36}$/);
  assert.equal(await page.locator('h1').innerText(), XSS_NAME);
  await page.locator('.flash').filter({ hasText: XSS_NAME }).waitFor();
  await nav(page, 'Targets');
  await page.getByRole('link', { name: XSS_NAME }).waitFor();
  await page.goto(`${S.url}/#/jobs`);
  await page.getByLabel('Target').locator('option', { hasText: XSS_NAME }).waitFor({ state: 'attached' });
  await page.goto(`${S.url}/#/targets`);
  await page.getByRole('link', { name: XSS_NAME }).waitFor();
  assert.equal(await page.locator('main script, main b').count(), 0);
  assert.equal(await page.locator('script').count(), 1, 'only the app module script');
  await sleep(300);
  assert.deepEqual(S.dialogs, [], 'no alert/confirm dialog may fire');
  await shot(page, '12-targets-xss');
});

step('phone-sized screen: no horizontal overflow', async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true,
    storageState: await S.context.storageState() });
  const page = await newPage(ctx);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  for (const [hash, name, ready] of [
    ['#/', 'dashboard', 'table.data tbody tr:not(.empty)'],
    ['#/jobs', 'jobs', 'table.data tbody tr:not(.empty)'],
    ['#/archives', 'archives', 'table.data tbody tr:not(.empty)'],
    ['#/tasks', 'tasks', 'table.data tbody tr:not(.empty)'],
    [`#/tasks/${S.backupTask}`, 'task', '.log'],
    ['#/targets/new', 'target-form', 'form'],
  ]) {
    await page.goto(`${S.url}/${hash}`);
    await page.locator(ready).first().waitFor();
    await sleep(200);
    assert.ok(await overflow() <= 0, `${hash} overflows horizontally by ${await overflow()} px`);
    if (['dashboard', 'archives', 'task'].includes(name)) await shot(page, `13-phone-${name}`);
  }
  await ctx.close();
});

step('archives: delete one after a confirmation; it leaves the store', async () => {
  const { page } = S;
  const countFiles = (d) => fs.readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  const before = countFiles(S.storeDir);
  assert.ok(before >= 1);
  await page.goto(`${S.url}/#/archives/${S.archive}`);
  await page.getByRole('button', { name: 'Delete archive' }).click();
  const dlg = page.getByRole('dialog');
  assert.match(await dlg.innerText(), /local disk/);
  await dlg.getByRole('button', { name: 'Delete archive' }).click();
  await waitHash(page, /^#\/archives(\?|$)/);
  await page.locator('.flash').filter({ hasText: 'Archive deleted' }).waitFor();
  // the purge runs as a task: the file goes first, then the catalog says so
  const gone = async () => {
    const r = await fetch(`${S.url}/v1/archive/${S.archive}`, { headers: { Authorization: `Bearer ${S.token}` } });
    return r.status === 404 || (await r.json()).status === 'purged';
  };
  const deadline = Date.now() + 20000;
  while ((countFiles(S.storeDir) !== before - 1 || !(await gone())) && Date.now() < deadline) await sleep(100);
  assert.equal(countFiles(S.storeDir), before - 1);
  assert.ok(await gone(), 'the archive is purged after delete');
});

step('session: a session ended on the server sends the UI back to login with a message', async () => {
  const { page } = S;
  await page.goto(`${S.url}/#/`);
  await page.locator('#dash-summary').filter({ hasText: 'SHIELD' }).waitFor();
  const cookies = await S.context.cookies(S.url);
  const c = cookies.find((x) => x.name === 'shield_session');
  assert.ok(c && c.httpOnly, 'login sets an HttpOnly session cookie');
  // as from the UI's own origin: a cookie's change from anywhere else is refused
  const r = await fetch(`${S.url}/v1/auth/logout`, {
    method: 'POST', headers: { Cookie: `shield_session=${c.value}`, Origin: S.url },
  });
  assert.equal(r.status, 200);
  // the dashboard's next poll is refused: the login form comes back, explained
  await page.locator('#login-notice').filter({ hasText: 'session has expired' }).waitFor({ timeout: 10000 });
  await shot(page, '14-session-expired');
  await login(page);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#login-notice').filter({ hasText: 'You have logged out.' }).waitFor();
  S.consoleErrors = [];
  await page.reload();
  await page.getByRole('heading', { name: 'Log in to SHIELD' }).waitFor();
  await sleep(300);
  assert.deepEqual(S.consoleErrors, [], 'no console error on the login page after logging out');
  const me = await page.evaluate(async () => (await fetch('/v1/auth/me')).status);
  assert.equal(me, 401);
});

step('keyboard: the login form and navigation work without a mouse', async () => {
  const { page } = S;
  await page.goto(`${S.url}/`);
  await page.locator('.login-form input[name="password"]').focus();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  let reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.textContent === 'Archives');
  }
  assert.ok(reached, 'Tab reaches the Archives link');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Archives' }).waitFor();
  assert.deepEqual(S.pageErrors, [], 'no uncaught script errors');
});

// ---- run ------------------------------------------------------------------------

let passed = 0;
let failed = 0;
const t0 = Date.now();
try {
  fs.mkdirSync(SHOTS, { recursive: true });
  await startDaemon();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  S.context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: BROWSER_TZ, locale: 'en-US' });
  S.page = await newPage(S.context);
  for (const s of steps) {
    const t = Date.now();
    try {
      await s.fn();
      passed++;
      console.log(`ok   ${s.name} (${((Date.now() - t) / 1000).toFixed(1)}s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${s.name} (${((Date.now() - t) / 1000).toFixed(1)}s)\n${e.stack || e}`);
      await shot(S.page, `fail-${passed + failed}`).catch(() => {});
    }
  }
} catch (e) {
  failed++;
  console.log(`FAIL setup\n${e.stack || e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 30000);
    const { code, signal } = await S.exit;
    clearTimeout(timer);
    if (code !== 0) {
      failed++;
      console.log(`FAIL shieldd exited with ${code ?? signal} after SIGTERM`);
    } else {
      console.log('ok   shieldd stopped cleanly on SIGTERM');
    }
  }
  if (failed) console.log(`---- shieldd log (tail) ----\n${fs.existsSync(S.logPath || '') ? fs.readFileSync(S.logPath, 'utf8').slice(-6000) : ''}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`screenshots in ${SHOTS}`);
  console.log(`${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  process.exitCode = failed ? 1 : 0;
}
