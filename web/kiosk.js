// The kiosk (/kiosk): the browser's camera or the server's, the guide loop
// (POST /guide about twice a second, nothing recorded), identify once the
// face has been ready for a moment, then the result, large and brief.
import {$, api, beep, drawGuide, frameForm, grabFrame, kBrowserOval, kCameraOval, localTime,
        requireSession, signOut, t, translatePage, unlockAudio, wireLanguageSwitch} from './common.js';

// About two frames a second: enough to follow a person stepping up, light on
// the server (each /guide runs a detection).
const kGuideIntervalMs = 500;
// "ready" on this many frames in a row (about a second) before identifying,
// so a face passing through the oval is not taken.
const kReadyFrames = 2;
// How long a result stays up before the kiosk waits for the next person.
const kResultMs = 4000;
const kSettingsKey = 'faceatt.kiosk';

// Settings: the URL's query (?device_id=door1&group=3A&mode=server&buttons=1)
// wins over what the settings panel stored in this browser.
function loadSettings() {
  const stored = JSON.parse(localStorage.getItem(kSettingsKey) || '{}');
  const s = {device_id: 'kiosk', group: '', mode: 'browser', buttons: false, ...stored};
  const q = new URLSearchParams(location.search);
  for (const k of ['device_id', 'group', 'mode']) if (q.has(k)) s[k] = q.get(k);
  if (q.has('buttons')) s.buttons = q.get('buttons') === '1' || q.get('buttons') === 'true';
  if (s.mode !== 'server') s.mode = 'browser';
  return s;
}

let settings = loadSettings();
let session = null;
let readyCount = 0;
let pendingType = null;  // IN or OUT pressed (buttons mode)
let showing = false;     // a result is on screen
let lastGuidance = 'no_face';
let stopped = false;
const frameCanvas = document.createElement('canvas');

function setGuidance(key) {
  lastGuidance = key;
  if (settings.buttons && !pendingType) {
    $('#guidance').textContent = t('choose_in_out');
  } else {
    $('#guidance').textContent = t(`g_${key}`);
  }
  $('#guidance').dataset.guidance = key;
}

async function startCamera() {
  const video = $('#video');
  const stream = $('#stream');
  if (settings.mode === 'server') {
    video.hidden = true;
    stream.hidden = false;
    stream.src = '/stream.mjpeg';
    return;
  }
  stream.hidden = true;
  video.hidden = false;
  $('#guidance').textContent = t('starting_camera');
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({
      video: {width: {ideal: 640}, height: {ideal: 480}, facingMode: 'user'}, audio: false});
    await video.play();
  } catch (e) {
    $('#guidance').textContent = t('camera_denied', {message: e.message || e.name});
    $('#guidance').dataset.guidance = 'camera_unavailable';
    throw e;
  }
}

// The frame to judge: the browser camera's, or the server's latest (/capture).
async function currentFrame() {
  if (settings.mode === 'browser') return grabFrame($('#video'), frameCanvas);
  const res = await fetch('/capture', {credentials: 'same-origin'});
  if (res.status === 401) throw Object.assign(new Error('signed out'), {status: 401});
  if (!res.ok) {
    // 503: no camera, or no frame for a while; say so and keep asking.
    $('#guidance').textContent = t('r_camera_unavailable');
    $('#guidance').dataset.guidance = 'camera_unavailable';
    return null;
  }
  return res.blob();
}

function sizeGuide(ready) {
  const shown = settings.mode === 'server' ? $('#stream') : $('#video');
  drawGuide($('#guide'), shown.clientWidth || 640, shown.clientHeight || 480, ready);
}

async function tick() {
  if (showing || stopped) return;
  const frame = await currentFrame();
  if (!frame) return;
  const oval = settings.mode === 'server' ? kCameraOval : kBrowserOval;
  const g = await api('POST', '/guide', {form: frameForm(frame, oval)});
  setGuidance(g.guidance);
  // The server's stream draws its own overlay; the browser camera gets ours.
  if (settings.mode === 'browser') sizeGuide(g.guidance === 'ready');
  readyCount = g.guidance === 'ready' ? readyCount + 1 : 0;
  if (readyCount >= kReadyFrames && (!settings.buttons || pendingType)) await identify(frame);
}

async function identify(frame) {
  showing = true;
  $('#guidance').textContent = t('identifying');
  const type = pendingType || 'auto';
  const fields = {type, device_id: settings.device_id, group: settings.group};
  let answer;
  try {
    if (settings.mode === 'server') {
      const json = Object.fromEntries(Object.entries(fields).filter(([, v]) => v));
      answer = await api('POST', '/identify', {json, allow: [422, 500, 503]});
    } else {
      const form = new FormData();
      form.append('image', frame, 'frame.jpg');
      for (const [k, v] of Object.entries(fields)) if (v) form.append(k, v);
      answer = await api('POST', '/identify', {form, allow: [422, 500, 503]});
    }
  } catch (e) {
    answer = {success: false, reason: 'error', message: e.message};
  }
  await showResult(answer, frame);
}

// The face from the frame itself (the kiosk's key may not read thumbnails).
async function faceCrop(frame, box) {
  if (!frame || !box) return '';
  const bitmap = await createImageBitmap(frame);
  const w = box.right - box.left;
  const h = box.bottom - box.top;
  const m = Math.round(Math.max(w, h) * 0.3);
  const c = document.createElement('canvas');
  c.width = w + 2 * m;
  c.height = h + 2 * m;
  c.getContext('2d').drawImage(bitmap, box.left - m, box.top - m, c.width, c.height, 0, 0,
                               c.width, c.height);
  return c.toDataURL('image/jpeg', 0.85);
}

async function photoFor(answer, frame) {
  if (session.role !== 'device' && answer.employee_id) {
    const res = await fetch(`/users/${encodeURIComponent(answer.employee_id)}/thumbnail`);
    if (res.ok) return URL.createObjectURL(await res.blob());
  }
  return settings.mode === 'browser' ? faceCrop(frame, answer.box) : '';
}

function failureMessage(a) {
  switch (a.reason) {
    case 'already_recorded':
      return t('r_already_recorded',
               {type: a.type === 'OUT' ? t('out') : t('in'), time: localTime(a.first_ts)});
    case 'unknown':
    case 'multi_face':
    case 'bad_quality':
    case 'no_face':
    case 'out_of_area':
    case 'camera_unavailable':
      return t(`r_${a.reason}`);
    default:
      return t('r_error', {message: a.message || a.reason});
  }
}

async function showResult(a, frame) {
  const box = $('#result');
  box.className = `result ${a.success ? 'ok' : 'refused'}`;
  box.dataset.reason = a.success ? 'success' : a.reason;
  $('#result-name').textContent = a.name || '';
  $('#result-type').textContent = a.success ? (a.type === 'OUT' ? t('checked_out') : t('checked_in')) : '';
  $('#result-type').dataset.type = a.success ? a.type : '';
  $('#result-time').textContent = a.success ? localTime(a.ts) : '';
  $('#result-message').textContent = a.success ? '' : failureMessage(a);
  const photo = a.success || a.reason === 'already_recorded' ? await photoFor(a, frame) : '';
  $('#result-photo').hidden = !photo;
  if (photo) $('#result-photo').src = photo;
  box.hidden = false;
  beep(Boolean(a.success));
  setTimeout(() => {
    box.hidden = true;
    showing = false;
    readyCount = 0;
    pendingType = null;
    setGuidance(lastGuidance);
  }, kResultMs);
}

async function loop() {
  while (!stopped) {
    const started = Date.now();
    try {
      await tick();
    } catch (e) {
      if (e.status === 401) return restart();
      $('#guidance').textContent = t('r_error', {message: e.message});
    }
    await new Promise((r) => setTimeout(r, Math.max(50, kGuideIntervalMs - (Date.now() - started))));
  }
}

// The screen stays on while the kiosk shows (Wake Lock API where there is one;
// the lock is dropped when the tab is hidden, so it is taken again on return).
async function keepAwake() {
  if (!('wakeLock' in navigator)) return;
  const take = () => navigator.wakeLock.request('screen').catch(() => {});
  await take();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') take();
  });
}

function applySettingsUi() {
  $('#buttons').hidden = !settings.buttons;
  setGuidance(lastGuidance);
}

function wireSettings() {
  const dialog = $('#settings');
  $('#open-settings').addEventListener('click', () => {
    $('#set-device').value = settings.device_id;
    $('#set-group').value = settings.group;
    $('#set-mode').value = settings.mode;
    $('#set-buttons').checked = settings.buttons;
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'save') return;
    const changed = {
      device_id: $('#set-device').value.trim() || 'kiosk',
      group: $('#set-group').value.trim(),
      mode: $('#set-mode').value,
      buttons: $('#set-buttons').checked,
    };
    localStorage.setItem(kSettingsKey, JSON.stringify(changed));
    location.search = '';  // the stored settings, not an old query, from now on
  });
  for (const b of document.querySelectorAll('#buttons button')) {
    b.addEventListener('click', () => {
      pendingType = b.dataset.type;
      for (const o of document.querySelectorAll('#buttons button'))
        o.classList.toggle('chosen', o === b);
      setGuidance(lastGuidance);
    });
  }
}

async function restart() {
  stopped = true;
  $('#stage').hidden = true;
  $('#signout').hidden = true;
  session = await requireSession(['device', 'admin']);
  $('#signout').hidden = false;
  $('#stage').hidden = false;
  stopped = false;
  applySettingsUi();
  try {
    await startCamera();
  } catch {
    return;  // the message says why; nothing to identify without a camera
  }
  if (settings.mode === 'browser') sizeGuide(false);
  loop();
}

function tickClock() {
  $('#clock').textContent = localTime(new Date().toISOString());
}

async function main() {
  translatePage();
  unlockAudio();
  wireLanguageSwitch($('#lang'), () => setGuidance(lastGuidance));
  wireSettings();
  $('#fullscreen').addEventListener('click', () => document.documentElement.requestFullscreen?.());
  $('#signout').addEventListener('click', async () => {
    await signOut();
    location.reload();
  });
  window.addEventListener('resize', () => settings.mode === 'browser' && sizeGuide(false));
  tickClock();
  setInterval(tickClock, 1000);
  keepAwake();
  await restart();
}

main();
