// The admin REST API as the dashboard calls it. The session cookie authenticates every call;
// the browser adds the Origin header the server checks on POSTs.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error ?? null;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    // The session ended (server restarted): back to the login page.
    window.location.assign('/');
    throw new ApiError(401, null);
  }
  const parsed = response.headers.get('content-type')?.includes('application/json') ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const getJson = (path) => request('GET', path);
export const postJson = (path, body = {}) => request('POST', path, body);

const seg = (value) => encodeURIComponent(value);

export const api = {
  stats: () => getJson('/api/stats'),
  // 503 while not ready still carries the body (store, listener, cluster).
  ready: () => fetch('/ready', { headers: { accept: 'application/json' } }).then((r) => r.json()),
  clients: () => getJson('/api/clients'),
  devices: (status) => getJson(status ? `/api/devices?status=${seg(status)}` : '/api/devices'),
  rooms: (status) => getJson(status ? `/api/rooms?status=${seg(status)}` : '/api/rooms'),
  deviceAction: (bot, device, action) => postJson(`/api/devices/${seg(bot)}/${seg(device)}/${action}`),
  roomAction: (bot, room, action) => postJson(`/api/rooms/${seg(bot)}/${seg(room)}/${action}`),
  disconnect: (bot, device) => postJson(`/api/clients/${seg(bot)}/${seg(device)}/disconnect`),
  inject: (message) => postJson('/api/inject', message),
  bans: () => getJson('/api/bans'),
  liftBan: (kind, subject) => postJson('/api/bans/lift', { kind, subject }),
};
