// What both pages share: the JSON API client (session cookie plus the CSRF
// header on every state-changing request), sign-in and out, a small DOM
// builder, the language switch and the beeps.
import {language, setLanguage, t, translatePage} from './i18n.js';

export {t, language};

let csrfToken = '';

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || (body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || '';
    this.reason = error.reason || (body && body.reason) || '';
    this.body = body;
  }
}

// One API call. `json` sends a JSON body, `form` a FormData; GET queries come
// in `query` (empty values left out). Answers the parsed JSON; an error answer
// (4xx/5xx) throws ApiError unless `allow` lists its status (the identify
// refusals that carry a JSON answer, such as 503 camera_unavailable).
export async function api(method, path, {json, form, query, allow = []} = {}) {
  const headers = {};
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  const url = query ? `${path}?${queryString(query)}` : path;
  const res = await fetch(url, {method, headers, body, credentials: 'same-origin'});
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok && !allow.includes(res.status)) throw new ApiError(res.status, data);
  return data;
}

export function queryString(query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, v);
  return params.toString();
}

// The session this browser holds (after a reload), or null.
export async function currentSession() {
  try {
    const s = await api('GET', '/session');
    csrfToken = s.csrf_token;
    return s;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function signIn(key) {
  const s = await api('POST', '/session', {json: {key}});
  csrfToken = s.csrf_token;
  return s;
}

export async function signOut() {
  await api('DELETE', '/session');
  csrfToken = '';
}

// el('td', {class: 'x', onclick: f}, 'text', child): an element; strings
// become text nodes (never HTML), null/false children are skipped.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// A local time of day (or date and time) for people, in the page's language.
export function localTime(ts, withDate = false) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const locale = language() === 'ko' ? 'ko-KR' : 'en-GB';
  return withDate ? d.toLocaleString(locale) : d.toLocaleTimeString(locale);
}

// Today as YYYY-MM-DD in the browser's time zone.
export function isoDate(d = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// The header's language switch: flips the language and re-renders.
export function wireLanguageSwitch(button, rerender) {
  button.addEventListener('click', () => {
    setLanguage(language() === 'ko' ? 'en' : 'ko');
    translatePage();
    rerender();
  });
}

// The sign-in form (#signin): resolves with the session once a key of one of
// `roles` signs in; a wrong key or another role shows why and waits again.
export function askForKey(roles) {
  const box = $('#signin');
  const form = $('#signin-form');
  const message = $('#signin-message');
  box.hidden = false;
  $('#signin-key').focus();
  return new Promise((resolve) => {
    const onSubmit = async (event) => {
      event.preventDefault();
      message.textContent = '';
      try {
        const s = await signIn($('#signin-key').value.trim());
        if (!roles.includes(s.role)) {
          await signOut();
          message.textContent = t('role_not_allowed');
          return;
        }
        form.removeEventListener('submit', onSubmit);
        $('#signin-key').value = '';
        box.hidden = true;
        resolve(s);
      } catch (e) {
        message.textContent = e.status === 401 ? t('wrong_key') : e.message;
      }
    };
    form.addEventListener('submit', onSubmit);
  });
}

// A session of one of `roles`: the one held, or a new sign-in.
export async function requireSession(roles) {
  const held = await currentSession();
  if (held && roles.includes(held.role)) return held;
  return askForKey(roles);
}

// Short tones from WebAudio (no sound files): rising for success, low for a
// refusal. Browsers start audio only after a user gesture, so the first
// click or key press unlocks it.
let audio = null;
export function unlockAudio() {
  const unlock = () => {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === 'suspended') audio.resume();
  };
  document.addEventListener('click', unlock);
  document.addEventListener('keydown', unlock);
}

export function beep(ok) {
  if (!audio || audio.state !== 'running') return;
  const notes = ok ? [660, 990] : [220, 180];
  notes.forEach((freq, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const start = audio.currentTime + i * 0.15;
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.2, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + 0.14);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + 0.15);
  });
}

// A frame of a <video> (or an <img> already loaded) as a JPEG Blob.
export function grabFrame(source, canvas) {
  const w = source.videoWidth || source.naturalWidth;
  const h = source.videoHeight || source.naturalHeight;
  if (!w || !h) return Promise.resolve(null);
  canvas.width = w;
  canvas.height = h;
  canvas.getContext('2d').drawImage(source, 0, 0, w, h);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
}

// The guide oval the page draws over the browser's camera, as fractions of
// the frame (centre cx, cy; half axes rx, ry): a face at arm's length from a
// 4:3 webcam fills it. Sent with every frame (oval_cx, ...) so the server
// judges "move into the oval" against the oval the person sees.
export const kBrowserOval = {cx: 0.5, cy: 0.45, rx: 0.22, ry: 0.32};
// The server camera's own ellipse (camera.h GuideEllipse), which camera-mode
// identify gates on and its stream draws: frames from /capture are judged by it.
export const kCameraOval = {cx: 0.5, cy: 0.5, rx: 0.25, ry: 0.4};

// A frame for POST /guide or an enrolment session: the image and the oval.
export function frameForm(frame, oval) {
  const form = new FormData();
  form.append('image', frame, 'frame.jpg');
  for (const [k, v] of Object.entries(oval)) form.append(`oval_${k}`, String(v));
  return form;
}

export function drawGuide(canvas, width, height, ready, oval = kBrowserOval) {
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, width, height);
  g.lineWidth = Math.max(3, width / 160);
  g.strokeStyle = ready ? '#2ecc71' : '#ffffff';
  g.setLineDash(ready ? [] : [12, 8]);
  g.beginPath();
  g.ellipse(width * oval.cx, height * oval.cy, width * oval.rx, height * oval.ry, 0, 0, 2 * Math.PI);
  g.stroke();
}

export {translatePage};
