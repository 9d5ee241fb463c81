// The live event tail: newest first, bounded, with server-side filters (bot, device, room,
// event kinds) sent to the debug channel as a subscription.
import { clock, el } from './dom.js';

const MAX_ROWS = 400;

/** Event kinds offered as checkboxes, with whether they are on by default. */
const KINDS = [
  ['connection:open', '연결 open', true],
  ['connection:handshake', '핸드셰이크 handshake', true],
  ['connection:close', '종료 close', true],
  ['message:admitted', '메시지 in', true],
  ['message:dropped', '버림 dropped', true],
  ['message:started', '시작 started', false],
  ['message:finished', '완료 finished', true],
  ['plugin:handler', '핸들러 handler', false],
  ['plugin:error', '플러그인 오류 error', true],
  ['reply:queued', '답장 대기 queued', false],
  ['reply:sent', '답장 out', true],
  ['ping', '핑 ping', true],
];

function category(name) {
  if (name === 'plugin:error' || name === 'message:dropped') return 'error';
  return name.split(':')[0];
}

function summary(name, d) {
  switch (name) {
    case 'connection:open': return `${d.remoteAddress}:${d.remotePort}`;
    case 'connection:handshake': return `${d.result} · v${d.version}`;
    case 'connection:close': return d.reason;
    case 'message:admitted': return `${d.sender}: ${d.text}`;
    case 'message:dropped': return d.reason;
    case 'message:started': return `대기 wait ${d.waitMs.toFixed(1)} ms`;
    case 'message:finished': return `${d.outcome} · ${d.durationMs.toFixed(1)} ms`;
    case 'plugin:handler': return `${d.plugin}.${d.hook} ${d.outcome} ${d.durationMs.toFixed(1)} ms`;
    case 'plugin:error': return `${d.plugin}.${d.hook} ${d.code}: ${d.message}`;
    case 'reply:queued': return `#${d.index}`;
    case 'reply:sent': return d.status === 'written' ? `→ ${d.text}` : `✗ ${d.status}${d.reason ? ` (${d.reason})` : ''}: ${d.text}`;
    case 'ping': return `RTT ${d.rttMs} ms`;
    default: return JSON.stringify(d);
  }
}

export class EventTail {
  constructor({ table, filterForm, kindsBox, pauseButton, clearButton, onFilter }) {
    this.tbody = table.querySelector('tbody');
    this.filterForm = filterForm;
    this.onFilter = onFilter;
    this.paused = false;
    this.highlight = null;
    for (const [name, text, on] of KINDS) {
      const box = el('input', { type: 'checkbox', name: 'kind', value: name });
      box.checked = on;
      kindsBox.append(el('label', { title: name }, box, ` ${text}`));
    }
    filterForm.addEventListener('change', () => this.emitFilter());
    filterForm.addEventListener('input', debounce(() => this.emitFilter(), 300));
    filterForm.addEventListener('submit', (e) => e.preventDefault());
    pauseButton.addEventListener('click', () => {
      this.paused = !this.paused;
      pauseButton.textContent = this.paused ? '계속 Resume' : '일시정지 Pause';
    });
    clearButton.addEventListener('click', () => this.tbody.replaceChildren());
  }

  /** The subscription for the current filter inputs (queue:stats always, for the charts). */
  filter() {
    const data = new FormData(this.filterForm);
    const text = (key) => (String(data.get(key) ?? '').trim() || null);
    const events = data.getAll('kind').map(String);
    return { events: [...events, 'queue:stats'], bot: text('bot'), device: text('device'), room: text('room') };
  }

  emitFilter() {
    this.onFilter(this.filter());
  }

  setHighlight(traceId) {
    this.highlight = traceId;
    for (const row of this.tbody.rows) row.classList.toggle('hl', traceId !== null && row.dataset.trace === traceId);
  }

  add(message) {
    if (this.paused) return;
    const d = message.data;
    const who = d.botName ? `${d.botName}${d.deviceId ? ` / ${d.deviceId}` : ''}` : '';
    const row = el('tr', { dataset: { trace: message.traceId ?? '', event: message.name } },
      el('td', { class: 'mono', text: clock(message.at) }),
      el('td', {}, el('span', { class: `ev ev-${category(message.name)}`, text: message.name })),
      el('td', { class: 'mono', text: message.traceId ?? '' }),
      el('td', { text: who }),
      el('td', { text: d.room ?? '' }),
      el('td', { class: 'detail', text: summary(message.name, d) }),
    );
    if (this.highlight !== null && message.traceId === this.highlight) row.classList.add('hl');
    this.tbody.prepend(row);
    while (this.tbody.rows.length > MAX_ROWS) this.tbody.lastElementChild.remove();
  }
}

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
