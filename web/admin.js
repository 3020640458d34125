// The admin page (/admin): people, enrolling (upload or a webcam session),
// today's board, records with corrections and CSV, the per-day chart, and the
// system's state. A reader key sees the same views without any button that
// changes something (the server refuses those anyway).
import {countDays, dayChart} from './chart.js';
import {$, api, drawGuide, el, frameForm, grabFrame, isoDate, kBrowserOval, localTime, queryString,
        requireSession, signOut, t, translatePage, wireLanguageSwitch} from './common.js';

// Rows per page of the records table.
const kPageSize = 50;
// Webcam enrolment sends about two frames a second, as the kiosk does.
const kFrameIntervalMs = 500;
// The chart's default range: the last four weeks.
const kReportDays = 28;

let session = null;
let tab = 'people';
const recordFilters = {from: isoDate(), to: isoDate(), employee_id: '', group: '', status: '', type: ''};
let recordOffset = 0;
let stopCamera = null;  // ends a webcam enrolment when the tab changes

const isAdmin = () => session && session.role === 'admin';

function notify(text, error = false) {
  const n = $('#notice');
  n.textContent = text;
  n.className = error ? 'notice error' : 'notice';
  n.hidden = !text;
}

// Runs `work`, showing its failure (the server's message) instead of throwing.
async function guarded(work) {
  try {
    await work();
  } catch (e) {
    if (e.status === 401) return start();
    notify(e.message, true);
  }
}

// A modal form: `fields` [{name, label, type, value, options, required}];
// resolves with the values (files as FileList) or null when cancelled.
function dialog(title, fields, okLabel = t('save'), extra = null) {
  const d = $('#dialog');
  const form = $('#dialog-form');
  form.replaceChildren(el('h2', {}, title));
  if (extra) form.append(extra);
  for (const f of fields) {
    let input;
    if (f.type === 'select') {
      input = el('select', {name: f.name},
                 f.options.map(([v, label]) => el('option', {value: v, selected: v === f.value}, label)));
    } else if (f.type === 'checkbox') {
      input = el('input', {type: 'checkbox', name: f.name, checked: Boolean(f.value)});
    } else {
      input = el('input', {type: f.type || 'text', name: f.name, required: f.required,
                           multiple: f.multiple, accept: f.accept});
      if (f.value !== undefined && f.type !== 'file') input.value = f.value;
    }
    form.append(el('label', {class: f.type === 'checkbox' ? 'check' : ''}, el('span', {}, f.label), input));
  }
  form.append(el('menu', {},
                 el('button', {type: 'submit', value: 'ok', class: 'primary', id: 'dialog-ok'}, okLabel),
                 el('button', {type: 'submit', value: 'cancel', formnovalidate: true}, t('cancel'))));
  d.showModal();
  return new Promise((resolve) => {
    d.addEventListener('close', () => {
      if (d.returnValue !== 'ok') return resolve(null);
      const values = {};
      for (const f of fields) {
        const input = form.elements[f.name];
        values[f.name] = f.type === 'checkbox' ? input.checked : f.type === 'file' ? input.files : input.value.trim();
      }
      resolve(values);
    }, {once: true});
  });
}

const splitGroups = (text) => [...new Set(text.split(',').map((g) => g.trim()).filter(Boolean))];

// Puts the person in exactly `wanted` of the groups (PUT/DELETE membership).
async function setGroups(id, had, wanted) {
  const path = (g) => `/groups/${encodeURIComponent(g)}/members/${encodeURIComponent(id)}`;
  for (const g of wanted) if (!had.includes(g)) await api('PUT', path(g));
  for (const g of had) if (!wanted.includes(g)) await api('DELETE', path(g));
}

async function loadGroups() {
  const {groups} = await api('GET', '/groups');
  return groups;
}

function groupSelect(groups, value, id) {
  return el('select', {id, name: 'group'}, el('option', {value: ''}, t('any_group')),
            Object.keys(groups).sort().map((g) => el('option', {value: g, selected: g === value}, g)));
}

// ---- People ----

async function renderPeople(panel) {
  const [{users}, groups] = await Promise.all([api('GET', '/users'), loadGroups()]);
  const memberOf = {};
  for (const [g, ids] of Object.entries(groups)) for (const id of ids) (memberOf[id] ||= []).push(g);
  const search = el('input', {type: 'search', id: 'people-search', placeholder: t('search')});
  const filter = groupSelect(groups, '', 'people-group');
  const count = el('span', {class: 'muted', id: 'people-count'});
  const body = el('tbody');
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = users.filter((u) =>
      (!q || u.name.toLowerCase().includes(q) || u.employee_id.toLowerCase().includes(q)) &&
      (!filter.value || (memberOf[u.employee_id] || []).includes(filter.value)));
    count.textContent = t('people_count', {n: shown.length});
    body.replaceChildren(...shown.map((u) => personRow(u, memberOf[u.employee_id] || [])));
  };
  search.addEventListener('input', draw);
  filter.addEventListener('change', draw);
  panel.append(el('div', {class: 'toolbar'}, search, filter, count),
               el('div', {class: 'table-wrap'}, el('table', {id: 'people'},
                  el('thead', {}, el('tr', {}, [t('photo'), t('employee_id'), t('name'), t('department'),
                     t('groups'), t('photo_count'), t('active'), isAdmin() ? t('actions') : null].filter(Boolean).map((h) => el('th', {}, h)))),
                  body)));
  draw();
}

function personRow(u, groups) {
  const id = u.employee_id;
  const thumb = el('img', {class: 'thumb', alt: u.name, loading: 'lazy',
                           src: `/users/${encodeURIComponent(id)}/thumbnail`});
  thumb.addEventListener('error', () => thumb.removeAttribute('src'), {once: true});
  const cells = [el('td', {}, thumb), el('td', {}, id), el('td', {class: 'name'}, u.name),
                 el('td', {}, u.department || ''), el('td', {}, groups.join(', ')),
                 el('td', {class: 'photos'}, el('a', {href: '#', class: 'show-photos', title: t('photos'),
                                                      onclick: (e) => { e.preventDefault(); showPhotos(u); }},
                                                  String(u.embeddings ?? ''))),
                 el('td', {}, u.active ? t('yes') : t('no'))];
  if (isAdmin()) {
    cells.push(el('td', {class: 'actions'},
      el('button', {type: 'button', class: 'edit', onclick: () => editPerson(u, groups)}, t('edit')),
      el('button', {type: 'button', class: 'add-photos', onclick: () => addPhotos(u)}, t('add_photos')),
      el('button', {type: 'button', class: 'toggle-active',
                    onclick: () => guarded(async () => {
                      await api('PATCH', `/users/${encodeURIComponent(id)}`, {json: {active: !u.active}});
                      render();
                    })}, u.active ? t('deactivate') : t('activate')),
      el('button', {type: 'button', class: 'danger delete', onclick: () => deletePerson(u)}, t('delete'))));
  }
  return el('tr', {class: u.active ? '' : 'inactive', dataset: {id}}, cells);
}

async function editPerson(u, groups) {
  const v = await dialog(`${t('edit')}: ${u.employee_id}`, [
    {name: 'name', label: t('name'), value: u.name, required: true},
    {name: 'department', label: t('department'), value: u.department || ''},
    {name: 'groups', label: `${t('groups')} (${t('groups_hint')})`, value: groups.join(', ')},
    {name: 'active', label: t('active'), type: 'checkbox', value: u.active},
  ]);
  if (!v) return;
  await guarded(async () => {
    await api('PATCH', `/users/${encodeURIComponent(u.employee_id)}`,
              {json: {name: v.name, department: v.department, active: v.active}});
    await setGroups(u.employee_id, groups, splitGroups(v.groups));
    notify(t('saved'));
    render();
  });
}

async function addPhotos(u) {
  const v = await dialog(`${t('add_photos')}: ${u.name}`, [
    {name: 'images', label: t('photos'), type: 'file', multiple: true, accept: 'image/*', required: true}]);
  if (!v) return;
  await guarded(async () => {
    const form = new FormData();
    form.append('employee_id', u.employee_id);
    form.append('name', u.name);
    for (const f of v.images) form.append('image', f, f.name);
    const r = await api('POST', '/enroll', {form});
    notify(`${t('enrolled', {name: r.name, id: r.employee_id})} (+${r.accepted})`);
    render();
  });
}

// One person's photos as thumbnails; an admin may remove any but the last.
async function showPhotos(u) {
  const base = `/users/${encodeURIComponent(u.employee_id)}/photos`;
  const list = el('div', {class: 'photo-list', id: 'person-photos'});
  let changed = false;
  const draw = async () => {
    const {photos} = await api('GET', base);
    list.replaceChildren(...photos.map((p) => {
      const img = p.has_image ? el('img', {class: 'thumb', alt: `${u.name} ${p.id}`, src: `${base}/${p.id}`})
                              : el('span', {class: 'thumb muted'}, '—');
      const remove = isAdmin() && photos.length > 1
        ? el('button', {type: 'button', class: 'danger remove-photo', onclick: () => guarded(async () => {
          await api('DELETE', `${base}/${p.id}`);
          changed = true;
          notify(t('photo_removed'));
          await draw();
        })}, t('remove'))
        : null;
      return el('figure', {class: 'photo', dataset: {id: String(p.id)}}, img,
                el('figcaption', {class: 'muted'}, localTime(p.created_at, true)), remove);
    }));
  };
  await guarded(draw);
  await dialog(`${t('photos')}: ${u.name}`, [], t('close'), list);
  if (changed) render();
}

async function deletePerson(u) {
  const ok = await dialog(t('delete'), [], t('delete'),
                          el('p', {}, t('confirm_delete', {name: u.name, id: u.employee_id})));
  if (!ok) return;
  await guarded(async () => {
    await api('DELETE', `/users/${encodeURIComponent(u.employee_id)}`);
    render();
  });
}

// ---- Enroll ----

async function renderEnroll(panel) {
  panel.append(el('div', {class: 'cards'}, uploadCard(), webcamCard()));
}

function uploadCard() {
  const form = el('form', {id: 'enroll-upload', class: 'toolbar'},
    el('label', {}, t('name'), el('input', {name: 'name', required: true})),
    el('label', {}, t('employee_id'), el('input', {name: 'employee_id'})),
    el('label', {}, t('department'), el('input', {name: 'department'})),
    el('label', {}, `${t('groups')} (${t('groups_hint')})`, el('input', {name: 'groups'})),
    el('label', {}, t('photos'), el('input', {name: 'image', type: 'file', multiple: true, accept: 'image/*', required: true})),
    el('button', {type: 'submit', class: 'primary'}, t('enroll')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(async () => {
      const data = new FormData();
      for (const k of ['name', 'employee_id', 'department'])
        if (form.elements[k].value.trim()) data.append(k, form.elements[k].value.trim());
      for (const f of form.elements.image.files) data.append('image', f, f.name);
      const r = await api('POST', '/enroll', {form: data});
      await setGroups(r.employee_id, [], splitGroups(form.elements.groups.value));
      notify(t('enrolled', {name: r.name, id: r.employee_id}));
      form.reset();
    });
  });
  return el('section', {class: 'card'}, el('h3', {}, t('enroll_upload')), form);
}

function webcamCard() {
  const video = el('video', {autoplay: true, muted: true, playsinline: true});
  const overlay = el('canvas');
  const prompt = el('p', {class: 'pose-prompt', id: 'pose-prompt'});
  const progress = el('p', {class: 'muted', id: 'session-progress'});
  const form = el('form', {id: 'enroll-webcam', class: 'toolbar'},
    el('label', {}, t('name'), el('input', {name: 'name', required: true})),
    el('label', {}, t('employee_id'), el('input', {name: 'employee_id'})),
    el('label', {}, `${t('groups')} (${t('groups_hint')})`, el('input', {name: 'groups'})),
    el('button', {type: 'submit', class: 'primary', id: 'session-start'}, t('start')));
  const camera = el('div', {class: 'enroll-cam', hidden: true}, video, overlay);
  const canvas = document.createElement('canvas');
  let running = false;
  let sessionId = null;
  let finishNow = false;  // Finish pressed: enrol with the poses collected so far
  const finishButton = el('button', {type: 'button', id: 'session-finish', disabled: true,
                                     onclick: () => { finishNow = true; }}, t('complete'));

  const finish = async (cancel) => {
    running = false;
    finishNow = false;
    finishButton.disabled = true;
    stopCamera = null;
    if (video.srcObject) for (const track of video.srcObject.getTracks()) track.stop();
    video.srcObject = null;
    camera.hidden = true;
    if (cancel && sessionId) await api('DELETE', `/enroll/sessions/${sessionId}`).catch(() => {});
    sessionId = null;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (running) return;
    guarded(async () => {
      const groups = splitGroups(form.elements.groups.value);
      const body = {name: form.elements.name.value.trim()};
      if (form.elements.employee_id.value.trim()) body.employee_id = form.elements.employee_id.value.trim();
      if (groups.length) body.groups = groups;
      const s = await api('POST', '/enroll/sessions', {json: body});
      sessionId = s.session_id;
      const needed = s.needed_poses || [];
      video.srcObject = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: false});
      await video.play();
      camera.hidden = false;
      running = true;
      stopCamera = () => finish(true);
      prompt.textContent = t(`pose_${needed[0] || 'front'}`);
      while (running) {
        const started = Date.now();
        drawGuide(overlay, video.clientWidth || 640, video.clientHeight || 480, false);
        const frame = await grabFrame(video, canvas);
        if (frame) {
          const a = await api('POST', `/enroll/sessions/${sessionId}/frames`,
                              {form: frameForm(frame, kBrowserOval)});
          const p = a.progress || {};
          const done = Array.isArray(p.poses_done) ? p.poses_done : [];
          const doneCount = Array.isArray(p.poses_done) ? done.length : Number(p.poses_done || 0);
          progress.textContent = t('session_progress', {frames: p.frames ?? 0, done: doneCount, needed: needed.length}) +
                                 (a.accepted ? '' : ` · ${t('frame_refused', {reason: a.reason || a.guidance})}`);
          const next = needed.find((pose) => !done.includes(pose)) || needed[doneCount];
          prompt.textContent = a.guidance && a.guidance !== 'ready' && !a.accepted
                                   ? t(`g_${a.guidance}`) : t(`pose_${next || 'front'}`);
          finishButton.disabled = doneCount === 0;
          if (p.ready || (finishNow && doneCount > 0)) {
            const id = sessionId;
            await finish(false);
            const user = await api('POST', `/enroll/sessions/${id}/complete`);
            prompt.textContent = '';
            notify(t('enrolled', {name: user.name, id: user.employee_id}));
            form.reset();
            return;
          }
        }
        await new Promise((r) => setTimeout(r, Math.max(50, kFrameIntervalMs - (Date.now() - started))));
      }
    }).finally(() => { if (running) finish(true); });
  });
  const stop = el('button', {type: 'button', onclick: () => finish(true)}, t('stop'));
  return el('section', {class: 'card'}, el('h3', {}, t('enroll_webcam')), form, prompt, camera, progress,
            el('div', {class: 'toolbar'}, finishButton, stop));
}

// ---- Today ----

async function renderToday(panel, group = '') {
  const groups = await loadGroups();
  const select = groupSelect(groups, group, 'today-group');
  select.addEventListener('change', () => { panel.replaceChildren(); guarded(() => renderToday(panel, select.value)); });
  const board = await api('GET', '/attendance/today', {query: {group}});
  const column = (state, title) => {
    const people = board.people.filter((p) => p.state === state);
    return el('section', {id: `board-${state}`},
      el('h3', {}, `${title} (${people.length})`),
      el('ul', {}, people.map((p) => el('li', {dataset: {id: p.employee_id}},
        `${p.name} (${p.employee_id})`, p.since ? el('span', {class: 'muted'}, ` ${t('since', {time: localTime(p.since)})}`) : null))));
  };
  panel.append(el('div', {class: 'toolbar'}, select, el('span', {class: 'muted'}, board.date)),
               el('div', {class: 'board'}, column('in', t('board_in')), column('left', t('board_left')),
                  column('absent', t('board_absent'))));
}

// ---- Records ----

async function renderRecords(panel) {
  const groups = await loadGroups();
  const f = recordFilters;
  const select = (name, options) => el('select', {name},
    options.map(([v, label]) => el('option', {value: v, selected: v === f[name]}, label)));
  const form = el('form', {id: 'record-filters', class: 'toolbar'},
    el('label', {}, t('from'), el('input', {type: 'date', name: 'from', value: f.from})),
    el('label', {}, t('to'), el('input', {type: 'date', name: 'to', value: f.to})),
    el('label', {}, t('employee_id'), el('input', {name: 'employee_id', value: f.employee_id, size: 10})),
    el('label', {}, t('group'), groupSelect(groups, f.group, 'record-group')),
    el('label', {}, t('status'), select('status', [['', t('any')], ['success', 'success'], ['unknown', 'unknown'], ['failed', 'failed']])),
    el('label', {}, t('type'), select('type', [['', t('any')], ['IN', 'IN'], ['OUT', 'OUT']])),
    el('button', {type: 'submit', class: 'primary', id: 'record-filter'}, t('filter')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    for (const k of Object.keys(f)) f[k] = form.elements[k].value.trim();
    recordOffset = 0;
    render();
  });
  const data = await api('GET', '/attendance', {query: {...f, limit: kPageSize, offset: recordOffset}});
  // The CSV holds exactly the rows the filters select (every page of them).
  const csv = el('a', {href: `/attendance.csv?${queryString(f)}`, download: 'attendance.csv',
                       id: 'record-csv', class: 'button'}, el('button', {type: 'button', tabindex: -1}, t('csv')));
  const tools = [form, csv];
  if (isAdmin()) tools.push(el('button', {type: 'button', id: 'record-add', onclick: addRecord}, t('add_record')));
  const rows = data.records.map(recordRow);
  const first = data.count ? recordOffset + 1 : 0;
  const last = recordOffset + data.records.length;
  const pager = el('div', {class: 'toolbar'},
    el('button', {type: 'button', disabled: recordOffset === 0,
                  onclick: () => { recordOffset = Math.max(0, recordOffset - kPageSize); render(); }}, t('prev')),
    el('span', {id: 'record-range'}, t('page_of', {first, last, count: data.count})),
    el('button', {type: 'button', disabled: last >= data.count,
                  onclick: () => { recordOffset += kPageSize; render(); }}, t('next')));
  panel.append(el('div', {class: 'toolbar'}, tools),
    el('div', {class: 'table-wrap'}, el('table', {id: 'records'},
      el('thead', {}, el('tr', {}, ['#', t('time'), t('employee_id'), t('name'), t('type'), t('status'),
         t('device'), t('actions')].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', {colspan: 8}, t('no_rows')))))),
    pager);
}

function recordRow(r) {
  const actions = [el('button', {type: 'button', class: 'trail', onclick: () => showTrail(r.id)}, t('audit_trail'))];
  if (isAdmin() && r.status === 'success') {
    actions.push(el('button', {type: 'button', class: 'amend', onclick: () => amendRecord(r)}, t('amend')),
                 el('button', {type: 'button', class: 'danger void', onclick: () => voidRecord(r)}, t('void')));
  }
  return el('tr', {dataset: {id: r.id}},
    el('td', {}, r.id), el('td', {}, localTime(r.ts_server, true)), el('td', {}, r.employee_id || ''),
    el('td', {class: 'name'}, r.name || ''), el('td', {class: 'type'}, r.type || ''),
    el('td', {}, r.status + (r.reason ? ` (${r.reason})` : '') + (r.corrected ? ` · ${t('corrected')}` : '')),
    el('td', {}, r.device_id || ''), el('td', {class: 'actions'}, actions));
}

const typeOptions = [['IN', 'IN'], ['OUT', 'OUT']];

async function addRecord() {
  const v = await dialog(t('add_record'), [
    {name: 'employee_id', label: t('employee_id'), required: true},
    {name: 'type', label: t('type'), type: 'select', options: typeOptions, value: 'IN'},
    {name: 'ts', label: t('when'), type: 'datetime-local'},
    {name: 'reason', label: t('correction_reason'), required: true},
    {name: 'by', label: t('by')},
  ]);
  if (!v) return;
  await guarded(async () => {
    const body = Object.fromEntries(Object.entries(v).filter(([, x]) => x));
    await api('POST', '/attendance', {json: body});
    notify(t('saved'));
    render();
  });
}

async function amendRecord(r) {
  const v = await dialog(`${t('amend')}: ${t('record', {id: r.id})}`, [
    {name: 'type', label: t('type'), type: 'select', options: typeOptions, value: r.type},
    {name: 'ts', label: t('when'), type: 'datetime-local'},
    {name: 'reason', label: t('correction_reason'), required: true},
    {name: 'by', label: t('by')},
  ]);
  if (!v) return;
  await guarded(async () => {
    const body = {reason: v.reason};
    if (v.type !== r.type) body.type = v.type;
    if (v.ts) body.ts = v.ts;
    if (v.by) body.by = v.by;
    await api('PATCH', `/attendance/${r.id}`, {json: body});
    await showTrail(r.id);
    render();
  });
}

async function voidRecord(r) {
  const v = await dialog(`${t('void')}: ${t('record', {id: r.id})}`, [
    {name: 'reason', label: t('correction_reason'), required: true},
    {name: 'by', label: t('by')},
  ], t('void'));
  if (!v) return;
  await guarded(async () => {
    await api('POST', `/attendance/${r.id}/void`, {json: v.by ? v : {reason: v.reason}});
    render();
  });
}

async function showTrail(id) {
  await guarded(async () => {
    const row = await api('GET', `/attendance/${id}`);
    const show = (x) => (x && typeof x === 'object' ? JSON.stringify(x) : x ?? '');
    const table = el('table', {id: 'trail'},
      el('thead', {}, el('tr', {}, [t('time'), t('action'), t('by'), t('reason'), t('old'), t('new')].map((h) => el('th', {}, h)))),
      el('tbody', {}, (row.corrections || []).length
        ? row.corrections.map((c) => el('tr', {}, el('td', {}, localTime(c.at, true)), el('td', {class: 'action'}, c.action),
                                         el('td', {}, c.by || ''), el('td', {class: 'reason'}, c.reason || ''),
                                         el('td', {}, show(c.old)), el('td', {}, show(c.new))))
        : el('tr', {}, el('td', {colspan: 6}, t('none')))));
    const d = $('#dialog');
    $('#dialog-form').replaceChildren(el('h2', {}, `${t('audit_trail')}: ${t('record', {id})}`),
      el('p', {}, `${row.employee_id || ''} ${row.name_at_event || row.name || ''} ${row.type || ''} ${localTime(row.ts_server, true)}`),
      el('div', {class: 'table-wrap'}, table),
      el('menu', {}, el('button', {type: 'submit', value: 'cancel', id: 'dialog-close'}, t('close'))));
    if (!d.open) d.showModal();
  });
}

// ---- Reports ----

async function renderReports(panel) {
  const groups = await loadGroups();
  const from = new Date();
  from.setDate(from.getDate() - (kReportDays - 1));
  const form = el('form', {id: 'report-form', class: 'toolbar'},
    el('label', {}, t('from'), el('input', {type: 'date', name: 'from', value: isoDate(from)})),
    el('label', {}, t('to'), el('input', {type: 'date', name: 'to', value: isoDate()})),
    el('label', {}, t('group'), groupSelect(groups, '', 'report-group')),
    el('button', {type: 'submit', class: 'primary'}, t('show')));
  const out = el('div', {id: 'report'});
  const draw = () => guarded(async () => {
    const q = {from: form.elements.from.value, to: form.elements.to.value, group: form.elements.group.value};
    const {days} = await api('GET', '/attendance/summary', {query: q});
    const counts = countDays(days);
    out.replaceChildren(
      dayChart(counts, t('chart_title')),
      el('p', {class: 'legend'}, el('span', {class: 'present'}, t('present')),
         el('span', {class: 'late'}, t('late')), el('span', {class: 'absent'}, t('absent'))),
      el('table', {}, el('thead', {}, el('tr', {}, [t('date'), t('present'), t('late'), t('absent')].map((h) => el('th', {}, h)))),
         el('tbody', {}, counts.map((d) => el('tr', {}, el('td', {}, d.date), el('td', {}, d.present),
                                               el('td', {}, d.late), el('td', {}, d.absent))))));
  });
  form.addEventListener('submit', (event) => { event.preventDefault(); draw(); });
  panel.append(form, out);
  await draw();
}

// ---- System ----

function card(title, entries, id) {
  return el('section', {class: 'card', id},
    el('h3', {}, title),
    el('dl', {}, Object.entries(entries).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v ?? ''))])));
}

async function renderSystem(panel) {
  const health = await api('GET', '/health', {allow: [503]});
  const config = await api('GET', '/config');
  panel.append(el('div', {class: 'toolbar'}, el('button', {type: 'button', onclick: render}, t('refresh'))),
    el('div', {class: 'cards'},
      card(t('health'), {status: health.status, database: health.database, users: health.users,
                         version: health.version, uptime_seconds: Math.round(health.uptime_seconds)}, 'sys-health'),
      card(t('model'), {model: config.model, models: config.models, detector: config.detector}, 'sys-model'),
      card(t('thresholds'), {tolerance: config.tolerance, margin: config.margin, match: config.match,
                             cooldown_seconds: config.attendance_cooldown_seconds}, 'sys-thresholds'),
      card(t('camera'), {camera: health.camera, enabled: config.camera_enabled, fps: config.camera_fps,
                         gate_identify: config.gate_identify}, 'sys-camera')));
  if (!isAdmin()) return;
  const {deliveries} = await api('GET', '/webhooks/deliveries', {query: {limit: 20}});
  panel.append(el('h3', {}, t('webhooks')), deliveries.length ? el('div', {class: 'table-wrap'}, el('table', {id: 'deliveries'},
    el('thead', {}, el('tr', {}, ['#', 'event', t('status'), 'attempts', 'last_error', t('time'), ''].map((h) => el('th', {}, h)))),
    el('tbody', {}, deliveries.map((d) => el('tr', {},
      el('td', {}, d.id), el('td', {}, d.event), el('td', {}, d.status), el('td', {}, d.attempts),
      el('td', {}, d.last_error || d.last_http_status || ''), el('td', {}, localTime(d.created_at, true)),
      el('td', {}, d.status === 'failed' ? el('button', {type: 'button', class: 'retry', onclick: () => guarded(async () => {
        await api('POST', `/webhooks/deliveries/${d.id}/retry`);
        render();
      })}, t('retry')) : '')))))) : el('p', {class: 'muted'}, t('none')));
  const errors = await api('GET', '/errors/recent').catch((e) => ({errors: [], failed: e.message}));
  const list = (errors.errors || []).slice().reverse();  // newest first
  panel.append(el('h3', {}, t('last_errors')),
    errors.failed ? el('p', {class: 'error'}, errors.failed) : null,
    list.length ? el('div', {class: 'table-wrap'}, el('table', {id: 'errors'}, el('tbody', {},
      list.map((e) => el('tr', {}, el('td', {}, localTime(e.at || e.ts, true)), el('td', {}, e.route || e.source || ''),
                        el('td', {}, e.code || e.status || ''), el('td', {}, e.message || JSON.stringify(e)))))))
      : el('p', {class: 'muted'}, t('none')));
}

// ---- The frame ----

const renderers = {people: renderPeople, enroll: renderEnroll, today: renderToday,
                   records: renderRecords, reports: renderReports, system: renderSystem};

async function render() {
  if (stopCamera) stopCamera();
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  const panel = $('#panel');
  panel.replaceChildren();
  panel.dataset.tab = tab;
  await guarded(() => renderers[tab](panel));
  panel.dataset.ready = tab;
}

async function start() {
  $('#app').hidden = true;
  $('#signout').hidden = true;
  session = await requireSession(['admin', 'reader']);
  document.body.dataset.role = session.role;
  $('#whoami').textContent = t('signed_in_as', {role: session.role});
  for (const n of document.querySelectorAll('.admin-only')) n.hidden = !isAdmin();
  if (!isAdmin() && tab === 'enroll') tab = 'people';
  $('#app').hidden = false;
  $('#signout').hidden = false;
  notify('');
  await render();
}

function main() {
  translatePage();
  wireLanguageSwitch($('#lang'), () => {
    if (session) $('#whoami').textContent = t('signed_in_as', {role: session.role});
    render();
  });
  for (const b of document.querySelectorAll('#tabs button')) {
    b.addEventListener('click', () => {
      tab = b.dataset.tab;
      notify('');
      render();
    });
  }
  $('#signout').addEventListener('click', async () => {
    await signOut();
    location.reload();
  });
  start();
}

main();
