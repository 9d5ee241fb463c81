// The log tail panel: the bridge's recent log lines (GET /api/logs, redacted by the server),
// warn and above unless another level is chosen, newest first. Polls with the last line's
// `seq` as cursor, so each line crosses the network once; the section is #logs-panel.
import { api } from './api.js';
import { clock, el } from './dom.js';

const POLL_MS = 2000;
const MAX_ROWS = 300;
/** Fields shown beside the message; the rest stay in the row's tooltip. */
const SHOWN = ['plugin', 'hook', 'code', 'err', 'reason', 'botName', 'deviceId', 'room', 'remote'];

function detail(fields) {
  const parts = [];
  for (const key of SHOWN) if (fields[key] !== undefined && fields[key] !== null) parts.push(`${key}=${typeof fields[key] === 'string' ? fields[key] : JSON.stringify(fields[key])}`);
  return parts.join(' ');
}

export function startLogsPanel(section) {
  const tbody = section.querySelector('tbody');
  const select = section.querySelector('select');
  const empty = section.querySelector('.empty');
  let after = 0;
  let busy = false;

  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const level = select.value;
      const lines = await api.logs(level, after);
      if (level !== select.value) return;
      for (const line of lines) {
        after = Math.max(after, line.seq);
        const category = line.fields.category ?? line.fields.component ?? '';
        const text = detail(line.fields);
        tbody.prepend(el('tr', { dataset: { level: line.level, seq: String(line.seq) }, title: JSON.stringify(line.fields) },
          el('td', { class: 'mono', text: clock(line.time) }),
          el('td', {}, el('span', { class: `lv lv-${line.level}`, text: line.level })),
          el('td', { class: 'mono', text: String(category) }),
          el('td', { class: 'detail' }, el('span', { text: line.msg }), text ? el('span', { class: 'muted mono', text: ` ${text}` }) : null),
        ));
      }
      while (tbody.rows.length > MAX_ROWS) tbody.lastElementChild.remove();
      empty.hidden = tbody.rows.length > 0;
    } catch (error) {
      console.warn('log tail refresh failed', error);
    } finally {
      busy = false;
    }
  };
  select.addEventListener('change', () => {
    after = 0;
    tbody.replaceChildren();
    poll();
  });
  poll();
  setInterval(poll, POLL_MS);
}
