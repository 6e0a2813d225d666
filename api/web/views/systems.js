// Targets and stores: the same shape (name, summary, plugin, endpoint), the
// endpoint form built from the plugin's declared fields.
import { get, post, put, del } from '../lib/api.js';
import {
  h, clear, setText, liveTable, fieldRow, checkboxRow, formErrorBox, select, confirmDialog,
  parseEndpoint, endpointSummary, uid, wrapControl,
} from '../lib/dom.js';
import {
  pageHeader, linkButton, actionButton, detailsList, filterBar, filterField, statusLine,
  section, plural,
} from '../lib/ui.js';

const WORDS = {
  target: { one: 'target', many: 'targets', Title: 'Target', Titles: 'Targets', base: 'targets', path: 'target' },
  store: { one: 'store', many: 'stores', Title: 'Store', Titles: 'Stores', base: 'stores', path: 'store' },
};

function pluginOf(plugins, name) {
  return plugins.find((p) => p.plugin === name) || null;
}

// The fields a target's or a store's form asks for: a field marked for the
// other kind only means nothing to this one (fs's include in a store).
function fieldsFor(plugin, kind) {
  const fields = Array.isArray(plugin?.fields) ? plugin.fields : [];
  return fields.filter((f) => !f.for || f.for === kind);
}

// What a field is called on screen: its label, else its key.
function fieldName(f) {
  return typeof f.label === 'string' && f.label.trim() !== '' ? f.label : f.name;
}

// A form label: the field's name and, beside it, the key that plugins'
// messages and the CLI use (unless the name says it already).
function fieldLabel(f) {
  const name = fieldName(f);
  return name.toLowerCase() === f.name.toLowerCase() ? name :
    [name, ' ', h('code', { class: 'field-key' }, f.name)];
}

function pluginLabel(plugins, name) {
  const p = pluginOf(plugins, name);
  return p && p.name ? `${p.name} (${name})` : name;
}

export async function list(ctx, kind) {
  const w = WORDS[kind];
  ctx.title(w.Titles);
  const status = statusLine();
  const plugins = await get('/v1/plugins');
  const pluginSel = select([{ value: '', label: 'Any plugin' },
    ...plugins.map((p) => ({ value: p.plugin, label: pluginLabel(plugins, p.plugin) }))],
  ctx.query.get('plugin'));
  const usedSel = select([{ value: '', label: 'Used or not' },
    { value: 'f', label: 'Used by a job' }, { value: 't', label: 'Not used by any job' }],
  ctx.query.get('unused'));
  const table = liveTable({
    caption: w.Titles,
    key: (x) => x.uuid,
    empty: `No ${w.many} match.`,
    columns: [
      { label: 'Name', cell: (x) => h('a', { href: `#/${w.base}/${x.uuid}` }, x.name || '(unnamed)') },
      { label: 'Plugin', cell: (x) => h('span', null, x.plugin) },
      { label: 'Summary', cell: (x) => h('span', { class: 'muted-wrap' }, x.summary || '') },
      {
        label: 'Configuration',
        cell: (x) => h('span', { class: 'mono small wrap' },
          endpointSummary(x.endpoint, pluginOf(plugins, x.plugin)?.fields)),
      },
    ],
  });
  const apply = async () => {
    const q = { plugin: pluginSel.value, unused: usedSel.value };
    ctx.setQuery(`/${w.base}`, q);
    status.ok('Loading…');
    try {
      const items = await get(`/v1/${w.base}`, q);
      if (!ctx.alive) return;
      items.sort((a, b) => (a.name || '').localeCompare(b.name || ''));
      table.set(items);
      status.ok(plural(items.length, w.one, w.many));
    } catch (e) {
      if (!e.handled) status.error(`Could not load ${w.many}: ${e.message}`);
    }
  };
  ctx.main.append(
    pageHeader(w.Titles, linkButton(`#/${w.base}/new`, `New ${w.one}`, 'btn btn-primary')),
    filterBar([filterField('Plugin', pluginSel), filterField('Usage', usedSel)], apply),
    status, table.el);
  await apply();
}

export async function view(ctx, kind, id) {
  const w = WORDS[kind];
  const [item, plugins, jobs] = await Promise.all([
    get(`/v1/${w.path}/${id}`), get('/v1/plugins'), get('/v1/jobs', { [kind]: id })]);
  if (!ctx.alive) return;
  ctx.title(`${w.Title} ${item.name}`);
  const plugin = pluginOf(plugins, item.plugin);
  const fields = plugin?.fields || [];
  const ep = parseEndpoint(item.endpoint);
  const epRows = [];
  const names = [...fields.map((f) => f.name), ...Object.keys(ep).filter((k) => !fields.some((f) => f.name === k))];
  for (const k of names) {
    if (!(k in ep)) continue;
    const f = fields.find((x) => x.name === k);
    const v = ep[k];
    const secret = f ? f.type === 'password' : /pass|secret|token/i.test(k);
    const text = Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    epRows.push([f ? fieldName(f) : k, secret ? h('span', { class: 'masked', title: 'hidden secret' }, '••••••••') :
      h('span', { class: 'mono wrap' }, text)]);
  }
  const del_ = actionButton(ctx, 'Delete', async () => {
    const ok = await confirmDialog({
      title: `Delete ${w.one} “${item.name}”?`,
      body: h('p', null, `The ${w.one} `, h('strong', null, item.name),
        ' will be removed from SHIELD. Its data and archives are not touched.'),
      confirmLabel: `Delete ${w.one}`, danger: true,
    });
    if (!ok) return;
    await del(`/v1/${w.path}/${id}`);
    ctx.flash(`Deleted ${w.one} “${item.name}”.`, { kind: 'success', keep: true });
    ctx.go(`#/${w.base}`);
  }, { cls: 'btn btn-danger', errorPrefix: `Could not delete the ${w.one}` });
  const jobList = jobs.length ?
    h('ul', { class: 'plain' }, jobs.map((j) => h('li', null, h('a', { href: `#/jobs/${j.uuid}` }, j.name)))) :
    h('p', { class: 'muted' }, `No job uses this ${w.one}; it can be deleted.`);
  ctx.main.append(
    pageHeader(item.name || '(unnamed)',
      linkButton(`#/${w.base}/${id}/edit`, 'Edit'),
      kind === 'target' ? linkButton(`#/archives?target=${id}`, 'Archives') : null,
      kind === 'store' ? linkButton(`#/archives?store=${id}`, 'Archives') : null,
      del_),
    h('p', { class: 'breadcrumb' }, h('a', { href: `#/${w.base}` }, `← All ${w.many}`)),
    section('Details', detailsList([
      ['Name', item.name], ['Summary', item.summary || '—'],
      ['Plugin', pluginLabel(plugins, item.plugin) + (plugin ? '' : ' — not installed')],
      ['UUID', h('span', { class: 'mono' }, item.uuid)]])),
    section('Configuration', epRows.length ? detailsList(epRows) : h('p', { class: 'muted' }, 'Empty endpoint.')),
    section(`Jobs using this ${w.one}`, jobList));
}

// ---- the form ---------------------------------------------------------------

function isTrue(v) {
  return v === true || v === 1 || /^(1|true|yes|on|y|t)$/i.test(String(v ?? ''));
}

// One control per plugin field; returns {row, read(), set error}.
function buildField(f, value) {
  const id = uid('ep');
  const type = f.type || 'string';
  let control;
  let read;
  const def = f.default !== undefined && f.default !== null ? String(f.default) : '';
  const help = [f.help || '', def !== '' && type !== 'password' ? `Default: ${def}.` : ''].filter(Boolean).join(' ');
  if (type === 'bool') {
    control = h('input', { type: 'checkbox', id, name: f.name, checked: value !== undefined ? isTrue(value) : isTrue(def) });
    read = () => control.checked;
    const row = checkboxRow({ label: fieldLabel(f), control, help });
    return { row, read, f, control };
  }
  const initial = value !== undefined ? (Array.isArray(value) ? value.join('\n') : String(value)) : def;
  if (type === 'list') {
    control = h('textarea', { id, name: f.name, rows: 3, spellcheck: 'false' });
    control.value = initial;
    read = () => {
      const items = control.value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
      return items.length ? items : undefined;
    };
  } else {
    const attrs = { id, name: f.name, spellcheck: 'false', autocomplete: 'off' };
    if (type === 'password') Object.assign(attrs, { type: 'password', autocomplete: 'new-password' });
    else if (type === 'port') Object.assign(attrs, { type: 'number', min: 1, max: 65535, step: 1, inputmode: 'numeric' });
    else if (type === 'int') Object.assign(attrs, { type: 'number', step: 1, inputmode: 'numeric' });
    else if (type === 'url') Object.assign(attrs, { type: 'text', inputmode: 'url' });
    else attrs.type = 'text';
    control = h('input', attrs);
    control.value = initial;
    read = () => (control.value === '' ? undefined : control.value);
  }
  let row;
  if (type === 'password') {
    const toggle = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false', 'aria-controls': id }, 'Show');
    toggle.addEventListener('click', () => {
      const show = control.type === 'password';
      control.type = show ? 'text' : 'password';
      toggle.setAttribute('aria-pressed', String(show));
      toggle.textContent = show ? 'Hide' : 'Show';
    });
    row = fieldRow({ label: fieldLabel(f), control, help, required: !!f.required, id });
    wrapControl(control, toggle);
  } else {
    row = fieldRow({ label: fieldLabel(f), control, help: type === 'list' ? `${help} One per line or comma-separated.`.trim() : help, required: !!f.required, id });
  }
  return { row, read, f, control };
}

export async function form(ctx, kind, id) {
  const w = WORDS[kind];
  const [plugins, item] = await Promise.all([get('/v1/plugins'), id ? get(`/v1/${w.path}/${id}`) : null]);
  if (!ctx.alive) return;
  const usable = plugins.filter((p) => p.features?.[kind] === 'yes' || (item && p.plugin === item.plugin));
  usable.sort((a, b) => a.plugin.localeCompare(b.plugin));
  ctx.title(item ? `Edit ${w.one} ${item.name}` : `New ${w.one}`);

  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', value: item?.name || '' });
  const summary = h('input', { type: 'text', name: 'summary', autocomplete: 'off', value: item?.summary || '' });
  const pluginSel = select([{ value: '', label: 'Choose a plugin…' },
    ...usable.map((p) => ({ value: p.plugin, label: pluginLabel(plugins, p.plugin) }))],
  item?.plugin || '', { name: 'plugin' });
  const nameRow = fieldRow({ label: 'Name', control: name, required: true });
  const summaryRow = fieldRow({ label: 'Summary', control: summary, help: 'A short description, optional.' });
  const pluginRow = fieldRow({ label: 'Plugin', control: pluginSel, required: true,
    help: `How SHIELD ${kind === 'target' ? 'backs up and restores this data system' : 'stores and retrieves archives'}.` });
  const epBox = h('fieldset', { class: 'endpoint' });
  const errors = formErrorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, item ? 'Save changes' : `Create ${w.one}`);
  const formEl = h('form', { class: 'form', novalidate: true, 'aria-label': item ? `Edit ${w.one}` : `New ${w.one}` },
    nameRow, summaryRow, pluginRow, epBox, errors,
    h('div', { class: 'actions' }, submit,
      h('a', { class: 'btn', href: item ? `#/${w.base}/${id}` : `#/${w.base}` }, 'Cancel')));

  const typed = parseEndpoint(item?.endpoint);   // values kept across plugin switches
  let built = [];
  let raw = null;

  function renderEndpoint() {
    for (const b of built) {
      const v = b.read();
      if (v === undefined) delete typed[b.f.name];
      else typed[b.f.name] = v;
    }
    clear(epBox);
    built = [];
    raw = null;
    const p = pluginOf(plugins, pluginSel.value);
    if (!p) {
      epBox.append(h('legend', null, 'Configuration'),
        h('p', { class: 'muted' }, 'Choose a plugin to see its settings.'));
      return;
    }
    epBox.append(h('legend', null, `${p.name || p.plugin} configuration`));
    if (p.help) epBox.append(h('p', { class: 'help plugin-help' }, p.help));
    const fields = fieldsFor(p, kind);
    if (!Array.isArray(p.fields) || p.fields.length === 0) {
      raw = h('textarea', { rows: 5, name: 'endpoint', spellcheck: 'false', class: 'mono' });
      raw.value = JSON.stringify(typed, null, 2);
      epBox.append(fieldRow({ label: 'Endpoint (JSON object)', control: raw, required: true,
        help: 'This plugin does not describe its settings; enter them as a JSON object.' }));
      return;
    }
    for (const f of fields) {
      const b = buildField(f, typed[f.name]);
      built.push(b);
      epBox.append(b.row);
    }
  }
  pluginSel.addEventListener('change', renderEndpoint);
  renderEndpoint();

  function clearErrors() {
    errors.show(null);
    for (const r of [nameRow, pluginRow, ...built.map((b) => b.row)]) r.setError('');
  }

  formEl.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const problems = [];
    if (!name.value.trim()) {
      nameRow.setError('Enter a name.');
      problems.push(name);
    }
    if (!pluginSel.value) {
      pluginRow.setError('Choose a plugin.');
      problems.push(pluginSel);
    }
    let endpoint = {};
    if (raw) {
      try {
        endpoint = JSON.parse(raw.value || '{}');
        if (!endpoint || typeof endpoint !== 'object' || Array.isArray(endpoint)) throw new Error('not an object');
      } catch (err) {
        errors.show(`The endpoint is not a JSON object (${err.message}).`);
        problems.push(raw);
      }
    } else {
      // keep settings the plugin does not describe (written by other clients)
      const p = pluginOf(plugins, pluginSel.value);
      if (item && p && p.plugin === item.plugin) {
        const orig = parseEndpoint(item.endpoint);
        for (const k of Object.keys(orig)) if (!built.some((b) => b.f.name === k)) endpoint[k] = orig[k];
      }
      for (const b of built) {
        const v = b.read();
        if (v === undefined) {
          if (b.f.required) {
            b.row.setError(`${fieldName(b.f)} is required.`);
            problems.push(b.control);
          }
          continue;
        }
        endpoint[b.f.name] = v;
      }
    }
    if (problems.length) {
      if (errors.hidden) errors.show('Some required settings are missing; see the marked fields.');
      problems[0].focus();
      return;
    }
    const body = { name: name.value.trim(), summary: summary.value, plugin: pluginSel.value, endpoint: JSON.stringify(endpoint) };
    submit.disabled = true;
    try {
      let uuid = id;
      if (item) await put(`/v1/${w.path}/${id}`, body);
      else uuid = (await post(`/v1/${w.base}`, body)).uuid;
      ctx.flash(item ? `Saved ${w.one} “${body.name}”.` : `Created ${w.one} “${body.name}”.`, { kind: 'success', keep: true });
      ctx.go(`#/${w.base}/${uuid}`);
    } catch (err) {
      if (err.handled) return;
      errors.show(err, item ? `Could not save the ${w.one}` : `Could not create the ${w.one}`);
      for (const m of err.missing) {
        if (m === 'name') nameRow.setError('Enter a name.');
        if (m === 'plugin') pluginRow.setError('Choose a plugin.');
      }
      // point at the fields a plugin's reasons name
      for (const b of built) {
        const hits = err.reasons.filter((r) => new RegExp(`\\b${b.f.name}\\b`).test(r));
        if (hits.length) b.row.setError(hits.join(' '));
      }
      errors.focus();
    } finally {
      submit.disabled = false;
    }
  });

  ctx.main.append(
    pageHeader(item ? `Edit ${w.one} “${item.name}”` : `New ${w.one}`),
    h('p', { class: 'breadcrumb' }, h('a', { href: item ? `#/${w.base}/${id}` : `#/${w.base}` }, item ? `← Back to ${item.name}` : `← All ${w.many}`)),
    formEl);
  name.focus();
}
