// The dashboard: tables polled from the admin API (and refreshed early when the event stream
// says something changed), charts fed by queue:stats, the live event tail and the sandbox.
import { api } from './api.js';
import { LineChart } from './charts.js';
import { DebugSocket } from './debug-socket.js';
import { ago, bytes, el, replaceRows, statusBadge, toast } from './dom.js';
import { EventTail } from './event-tail.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;

const charts = {
  queue: new LineChart($('chart-queue'), { series: [{ name: '대기 queued', color: '#3867d6' }, { name: '처리 running', color: '#20a464' }] }),
  rate: new LineChart($('chart-rate'), { series: [{ name: '수신 in', color: '#3867d6' }, { name: '답장 out', color: '#8e44ad' }] }),
  latency: new LineChart($('chart-latency'), {
    series: [{ name: 'p50', color: '#20a464' }, { name: 'p95', color: '#e0a100' }, { name: '대기 wait p95', color: '#d64545' }],
  }),
};

const sandbox = { traceId: null };
let devices = [];
let rooms = [];
let clients = [];
let bans = [];

const tail = new EventTail({
  table: $('tail'),
  filterForm: $('tail-filter'),
  kindsBox: $('tail-kinds'),
  pauseButton: $('tail-pause'),
  clearButton: $('tail-clear'),
  onFilter: (filter) => socket.subscribe(filter),
});

const socket = new DebugSocket({
  onEvent,
  onState: (open) => {
    const live = $('live');
    live.textContent = open ? '● 실시간 live' : '● 연결 끊김 offline';
    live.className = `pill ${open ? 'pill-on' : 'pill-off'}`;
  },
  onDropped: (count) => toast(`이벤트 ${count}개 누락 · ${count} events dropped (slow connection)`),
});
socket.subscribe(tail.filter());

function onEvent(message) {
  if (message.name === 'queue:stats') return onStats(message.data);
  tail.add(message);
  if (message.traceId !== null && message.traceId === sandbox.traceId) sandboxEvent(message);
  if (message.name.startsWith('connection:') || message.name === 'message:finished') refreshSoon();
}

// KPIs read steadier than one tick: throughput over the last 10 s, the latest p95 seen.
const rateWindow = [];
let lastP95 = null;

function onStats(s) {
  const now = Date.now();
  rateWindow.push({ at: now, admitted: s.totals.admitted });
  while (rateWindow.length > 2 && rateWindow[0].at < now - 10_000) rateWindow.shift();
  const first = rateWindow[0];
  const seconds = (now - first.at) / 1000;
  const rate = seconds > 0 ? (s.totals.admitted - first.admitted) / seconds : 0;
  if (s.processingMs.p95Ms !== null) lastP95 = s.processingMs.p95Ms;
  $('kpi-clients').textContent = String(s.clients);
  $('kpi-queued').textContent = String(s.queued);
  $('kpi-running').textContent = String(s.running);
  $('kpi-rate').textContent = `${rate.toFixed(1)} /s`;
  $('kpi-latency').textContent = lastP95 === null ? '–' : `${lastP95} ms`;
  charts.queue.push([s.queued, s.running]);
  charts.rate.push([s.perSecond.admitted, s.perSecond.repliesSent]);
  charts.latency.push([s.processingMs.p50Ms, s.processingMs.p95Ms, s.waitMs.p95Ms]);
}

let refreshTimer;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 250);
}

async function refresh() {
  try {
    [clients, devices, rooms, bans] = await Promise.all([api.clients(), api.devices(), api.rooms(), api.bans()]);
    renderClients();
    renderBans();
    renderApprovals();
    fillSandboxChoices();
  } catch (error) {
    console.warn('refresh failed', error);
  }
}

function action(label, kind, run) {
  return el('button', {
    type: 'button',
    class: `small ${kind}`,
    text: label,
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      try {
        await run();
        toast(`${label} ✓`);
      } catch (error) {
        toast(`${label} 실패 failed: ${error.message}`);
      }
      refresh();
    },
  });
}

function renderClients() {
  replaceRows($('clients').tBodies[0], clients.map((c) => el('tr', { dataset: { bot: c.botName, device: c.deviceId } },
    el('td', { class: 'mono', text: c.node ?? '–' }),
    el('td', { text: c.botName }),
    el('td', { class: 'mono', text: c.deviceId }),
    el('td', { class: 'mono', text: c.remoteAddress }),
    el('td', { text: c.protocol ? `${c.version} (${c.protocol})` : c.version }),
    el('td', {}, statusBadge(c.approval)),
    el('td', { text: ago(c.connectedAt) }),
    el('td', { text: ago(c.lastPingAt) }),
    el('td', { class: 'mono', text: c.rttMs === null ? '–' : `${c.rttMs} ms` }),
    el('td', { class: 'mono', text: bytes(c.pendingOutputBytes) }),
    // Cluster mode: the server forwards a disconnect to the node holding the phone.
    el('td', { class: 'actions' }, action('끊기 Disconnect', 'ghost', () => api.disconnect(c.botName, c.deviceId))),
  )));
  $('clients-empty').hidden = clients.length > 0;
}

// Issue 13: the bot port's temporary bans, liftable here as with `botbridge bans lift`.
function renderBans() {
  const now = Date.now();
  replaceRows($('bans').tBodies[0], bans.map((b) => el('tr', { dataset: { kind: b.kind, subject: b.subject } },
    el('td', { text: b.kind }),
    el('td', { class: 'mono', text: b.subject }),
    el('td', { text: b.reason }),
    el('td', { class: 'mono', text: `${Math.max(0, Math.ceil((b.until - now) / 1000))} s` }),
    el('td', { class: 'actions' }, action('해제 Lift', 'ok', () => api.liftBan(b.kind, b.subject))),
  )));
  $('bans-empty').hidden = bans.length > 0;
}

function verbs(status, showAll) {
  const out = [];
  if (status !== 'approved') out.push(['approve', '승인 Approve', 'ok']);
  if (status === 'pending') out.push(['deny', '거부 Deny', 'bad']);
  if (showAll && status === 'approved') out.push(['revoke', '취소 Revoke', 'bad']);
  if (showAll && status !== 'blocked') out.push(['block', '차단 Block', 'ghost']);
  return out;
}

function renderApprovals() {
  const showAll = $('show-all').checked;
  const shownDevices = showAll ? devices : devices.filter((d) => d.status === 'pending');
  const shownRooms = showAll ? rooms : rooms.filter((r) => r.status === 'pending');
  replaceRows($('devices').tBodies[0], shownDevices.map((d) => el('tr', { dataset: { bot: d.botName, device: d.deviceId } },
    el('td', { text: d.botName }),
    el('td', { class: 'mono', text: d.deviceId }),
    el('td', {}, statusBadge(d.status), d.connected ? ' ●' : ''),
    el('td', { class: 'mono', text: d.ipAddress ?? '' }),
    el('td', { text: ago(Date.parse(d.createdAt)) }),
    el('td', { class: 'actions' }, ...verbs(d.status, showAll).map(([verb, label, kind]) => action(label, kind, () => api.deviceAction(d.botName, d.deviceId, verb)))),
  )));
  replaceRows($('rooms').tBodies[0], shownRooms.map((r) => el('tr', { dataset: { bot: r.botName, room: r.roomId } },
    el('td', { text: r.botName }),
    el('td', { text: r.roomName }),
    el('td', { class: 'mono', text: r.roomId }),
    el('td', {}, statusBadge(r.status)),
    el('td', { text: ago(Date.parse(r.createdAt)) }),
    el('td', { class: 'actions' }, ...verbs(r.status, showAll).map(([verb, label, kind]) => action(label, kind, () => api.roomAction(r.botName, r.roomId, verb)))),
  )));
  $('devices-empty').hidden = shownDevices.length > 0;
  $('rooms-empty').hidden = shownRooms.length > 0;
  $('devices-empty').textContent = showAll ? '기기가 없습니다 · No device' : '대기 중인 기기가 없습니다 · No pending device';
  $('rooms-empty').textContent = showAll ? '방이 없습니다 · No room' : '대기 중인 방이 없습니다 · No pending room';
}

$('show-all').addEventListener('change', renderApprovals);

const form = $('sandbox');

function fillSandboxChoices() {
  const bots = [...new Set([...clients.map((c) => c.botName), ...devices.map((d) => d.botName)])];
  $('bot-names').replaceChildren(...bots.map((b) => el('option', { value: b })));
  if (form.botName.value === '' && clients.length > 0) {
    form.botName.value = clients[0].botName;
    form.deviceId.value = clients[0].deviceId;
  }
  const bot = form.botName.value;
  $('device-ids').replaceChildren(...devices.filter((d) => d.botName === bot).map((d) => el('option', { value: d.deviceId })));
  const select = $('sandbox-room');
  const chosen = select.value;
  const botRooms = rooms.filter((r) => r.botName === bot);
  select.replaceChildren(
    el('option', { value: '', text: '직접 입력 · Type a room' }),
    ...botRooms.map((r) => el('option', { value: r.roomId, text: `${r.roomName} (${r.status})` })),
  );
  if (botRooms.some((r) => r.roomId === chosen)) select.value = chosen;
  else if (form.room.value === '' && botRooms.length > 0) {
    select.value = (botRooms.find((r) => r.status === 'approved') ?? botRooms[0]).roomId;
    applyRoomChoice();
  }
}

function applyRoomChoice() {
  const room = rooms.find((r) => r.botName === form.botName.value && r.roomId === $('sandbox-room').value);
  if (!room) return;
  form.room.value = room.roomName;
  form.channelId.value = /^\d+$/.test(room.roomId) ? room.roomId : '';
}

$('sandbox-room').addEventListener('change', applyRoomChoice);
form.botName.addEventListener('change', fillSandboxChoices);

function sandboxEvent(message) {
  const result = $('sandbox-result');
  if (message.name === 'reply:sent') {
    const d = message.data;
    let text = `✗ ${d.status}${d.reason ? ` (${d.reason})` : ''}: ${d.text}`;
    if (d.status === 'written') text = d.text;
    // queued: no device of the bot is online; the outbox delivers it when one is back (or it expires).
    else if (d.status === 'queued') text = `⏳ 대기 queued (outbox): ${d.text}`;
    result.append(el('div', { class: 'reply', text }));
  } else if (message.name === 'reply:result' && message.data.status === 'expired') {
    result.append(el('div', { class: 'err', text: '✗ 만료 expired: no device came back within the outbox TTL' }));
  } else if (message.name === 'message:finished') {
    result.append(el('div', { class: 'muted', text: `완료 finished: ${message.data.outcome} · ${message.data.durationMs.toFixed(1)} ms` }));
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = $('sandbox-result');
  const message = {
    botName: form.botName.value.trim(),
    deviceId: form.deviceId.value.trim(),
    room: form.room.value.trim(),
    channelId: form.channelId.value.trim() || null,
    sender: form.sender.value.trim() || 'sandbox',
    text: form.text.value,
  };
  $('sandbox-send').disabled = true;
  try {
    const answer = socket.open ? await socket.inject(message) : await api.inject(message);
    if (answer.traceId) {
      sandbox.traceId = answer.traceId;
      tail.setHighlight(answer.traceId);
      result.replaceChildren(el('div', { text: `접수됨 admitted · trace ` }, el('span', { class: 'mono', text: answer.traceId })));
    } else {
      result.replaceChildren(el('div', { class: 'err', text: `버려짐 dropped: ${answer.dropped}` }));
    }
  } catch (error) {
    result.replaceChildren(el('div', { class: 'err', text: `실패 failed: ${error.message}` }));
  } finally {
    $('sandbox-send').disabled = false;
  }
});

// Rows the store writers dropped (only while the store was down, past the spill bound) and rows
// waiting for the store now; the tile turns red once anything was dropped.
function renderWrites(stats) {
  let dropped = 0;
  for (const [key, value] of Object.entries(stats.counters)) if (key.startsWith('store_writes_dropped')) dropped += value;
  const buffered = Object.values(stats.writers).reduce((sum, n) => sum + n, 0);
  $('kpi-writes-dropped').textContent = String(dropped);
  $('kpi-writes-buffered').textContent = `대기 buffered ${buffered}`;
  $('kpi-writes-card').classList.toggle('alert', dropped > 0);
}

// Cluster mode: this node's id, its NATS link and how many nodes it sees; red while degraded.
function renderCluster(ready) {
  const cluster = ready?.cluster;
  $('kpi-cluster-card').hidden = !cluster;
  if (!cluster) return;
  $('kpi-cluster').textContent = cluster.node;
  $('kpi-cluster-nats').textContent = `NATS ${cluster.nats} · 노드 nodes ${cluster.nodes}`;
  $('kpi-cluster-card').classList.toggle('alert', cluster.state !== 'ok');
}

// Replies kept for offline devices now, and how many expired before a device came back.
function renderOutbox(stats) {
  const expired = stats.counters['replies{expired}'] ?? 0;
  $('kpi-outbox').textContent = String(stats.outbox.queued);
  $('kpi-outbox-expired').textContent = `만료 expired ${expired}`;
  $('kpi-outbox-card').classList.toggle('alert', expired > 0);
}

async function header() {
  try {
    const stats = await api.stats();
    $('version').textContent = `v${stats.version} · ${stats.listen ? `TCP :${stats.listen.port}` : stats.phase}`;
    renderWrites(stats);
    renderOutbox(stats);
    renderCluster(await api.ready().catch(() => null));
  } catch {
    // shown as offline by the socket state
  }
}

header();
refresh();
setInterval(refresh, REFRESH_MS);
setInterval(header, 5_000);
