// Shared by the pages: the cookie session (POST/GET/DELETE /session) and
// JSON calls that carry the CSRF token on state-changing requests.
let csrf = '';

export async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined && !(body instanceof FormData)) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw Object.assign(new Error(data?.error?.message || res.statusText), { status: res.status, data });
  return data;
}

export async function signIn(key) {
  const s = await api('POST', '/session', { key });
  csrf = s.csrf_token;
  return s;
}

export async function currentSession() {
  try {
    const s = await api('GET', '/session');
    csrf = s.csrf_token;
    return s;
  } catch {
    return null;
  }
}

export function wireSignIn(onSignedIn) {
  const form = document.getElementById('sign-in');
  const status = document.getElementById('status');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const s = await signIn(new FormData(form).get('key'));
      status.textContent = 'Signed in as ' + s.role;
      onSignedIn(s);
    } catch (err) {
      status.textContent = err.message;
    }
  });
  currentSession().then((s) => { if (s) { status.textContent = 'Signed in as ' + s.role; onSignedIn(s); } });
}
