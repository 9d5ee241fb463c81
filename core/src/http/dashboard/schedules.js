// The schedules panel (scheduler plugin, /api/schedules): list with pause / resume / delete and a
// small form to add one. Self-contained: it builds its own card at the end of <main> and stays
// hidden when the scheduler plugin is not running (/api/plugins). Texts go through textContent
// only (el()).
import { ApiError, getJson, postJson } from './api.js';
import { ago, el, replaceRows, statusBadge, toast } from './dom.js';

const REFRESH_MS = 10_000;
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

const tbody = el('tbody');
const empty = el('p', { class: 'empty', text: '예약 메시지가 없습니다 · No schedule' });
const form = el('form', { class: 'form', id: 'schedule-add', autocomplete: 'off' },
  el('div', { class: 'row2' },
    el('label', { text: '봇 Bot ' }, el('input', { name: 'botName', required: '' })),
    el('label', { text: '방 채널 ID Room channelId ' }, el('input', { name: 'roomId', required: '', inputmode: 'numeric' }))),
  el('div', { class: 'row2' },
    el('label', { text: '종류 Type ' }, el('select', { name: 'type' },
      el('option', { value: 'daily', text: '매일 daily' }), el('option', { value: 'weekly', text: '매주 weekly' }), el('option', { value: 'once', text: '한 번 once' }))),
    el('label', { text: '시간 Time ' }, el('input', { name: 'time', type: 'time', required: '' }))),
  el('div', { class: 'row2' },
    el('label', { text: '날짜 Date (once) ' }, el('input', { name: 'date', type: 'date' })),
    el('label', { text: '요일 Weekdays (weekly) ' }, el('input', { name: 'weekdays', placeholder: 'monday,friday' }))),
  el('label', { text: '제목 Title ' }, el('input', { name: 'title' })),
  el('label', { text: '메시지 Text ' }, el('textarea', { name: 'text', rows: '2', required: '' })),
  el('button', { type: 'submit', text: '추가 Add' }));

const card = el('section', { class: 'card', id: 'schedules', hidden: '' },
  el('h2', { text: '예약 메시지 Scheduled messages' }),
  el('table', { class: 'table', id: 'schedules-table' },
    el('thead', {}, el('tr', {}, ...['ID', '봇 Bot', '방 Room', '언제 When', '상태 Status', '다음 Next', '마지막 Last', '횟수 Sent', '제목 Title', ''].map((h) => el('th', { text: h })))),
    tbody),
  empty,
  el('h3', { text: '추가 Add' }),
  form);
document.querySelector('main')?.append(card);

const when = (s) => [s.date, s.weekdays.map((w) => w.slice(0, 3)).join(','), s.times.join(',')].filter((x) => x).join(' ');
const at = (iso) => (iso === null ? '–' : new Date(iso).toLocaleString());

async function act(path, method = 'POST') {
  try {
    if (method === 'DELETE') {
      const response = await fetch(path, { method, credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    } else {
      await postJson(path);
    }
    await refresh();
  } catch (error) {
    toast(`실패 · failed: ${error.message}`);
  }
}

function row(s) {
  const buttons = el('td', { class: 'buttons' },
    s.status === 'active'
      ? el('button', { type: 'button', class: 'ghost', text: '중지 Pause', onclick: () => act(`/api/schedules/${s.id}/pause`) })
      : el('button', { type: 'button', class: 'ghost', text: '재개 Resume', onclick: () => act(`/api/schedules/${s.id}/resume`) }),
    el('button', { type: 'button', class: 'ghost', text: '삭제 Delete', onclick: () => {
      if (window.confirm(`#${s.id} ${s.title} 삭제할까요? Delete?`)) void act(`/api/schedules/${s.id}`, 'DELETE');
    } }));
  return el('tr', { dataset: { id: String(s.id) } },
    el('td', { text: String(s.id) }), el('td', { text: s.botName }), el('td', { text: s.roomId }), el('td', { text: `${s.type} ${when(s)}` }),
    el('td', {}, statusBadge(s.status)), el('td', { text: at(s.nextSendAt) }),
    el('td', { text: s.lastSentAt === null ? '–' : ago(Date.parse(s.lastSentAt)) }), el('td', { text: String(s.sendCount) }),
    el('td', { text: s.title }), buttons);
}

async function refresh() {
  let list;
  try {
    list = await getJson('/api/schedules');
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) card.hidden = true;
    return;
  }
  card.hidden = false;
  replaceRows(tbody, list.map(row));
  empty.hidden = list.length > 0;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const weekdays = String(data.get('weekdays') ?? '').split(',').map((w) => w.trim().toLowerCase()).filter((w) => WEEKDAYS.includes(w));
  const body = {
    title: String(data.get('title') || data.get('text')).slice(0, 40),
    botName: String(data.get('botName')),
    roomId: String(data.get('roomId')),
    type: String(data.get('type')),
    times: [String(data.get('time'))],
    text: String(data.get('text')),
    createdBy: 'dashboard',
    ...(data.get('date') ? { date: String(data.get('date')) } : {}),
    ...(weekdays.length > 0 ? { weekdays } : {}),
  };
  try {
    const created = await postJson('/api/schedules', body);
    toast(`예약됨 · scheduled #${created.id}`);
    form.reset();
    await refresh();
  } catch (error) {
    toast(`실패 · failed: ${error.message}`);
  }
});

// Asked once: without the scheduler plugin the panel never polls (no 404s on the console).
getJson('/api/plugins').then((plugins) => {
  if (!plugins.some((p) => p.name === 'scheduler' && p.state === 'running')) return;
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}, () => undefined);
