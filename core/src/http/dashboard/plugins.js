// The plugins panel: each configured plugin's state, its counts since start (messages its
// onMessage handlers ran through, replies it produced, handler errors) and why it is not
// running or what failed last. Polls GET /api/plugins; the section is #plugins-panel.
import { api } from './api.js';
import { ago, el, replaceRows, statusBadge } from './dom.js';

const REFRESH_MS = 3000;

/** The API's states as operators read them (docs/admin-api.md). */
const STATE_LABELS = { configured: '설정됨 configured', running: '실행 중 started', failed: '실패 failed', stopped: '해제됨 disposed' };
const STATE_CLASS = { configured: 'pending', running: 'approved', failed: 'denied', stopped: 'revoked' };

function problem(plugin) {
  // Why it is not running (its config or setup failed) comes first; else the last handler error.
  if (plugin.error) return el('div', { class: 'err', text: plugin.error });
  if (!plugin.lastError) return el('span', { class: 'muted', text: '–' });
  const e = plugin.lastError;
  return el('div', { title: e.code },
    el('span', { class: 'mono', text: `${e.hook} · ${ago(e.at)} ` }),
    el('span', { class: 'err', text: e.message }));
}

function render(section, plugins) {
  const table = section.querySelector('table');
  replaceRows(table.tBodies[0], plugins.map((p) => el('tr', { dataset: { plugin: p.name, state: p.state } },
    el('td', {}, el('strong', { text: p.name }), p.version ? el('span', { class: 'muted', text: ` v${p.version}` }) : null),
    el('td', {}, statusLabel(p.state)),
    el('td', { class: 'num', 'data-label': '메시지 messages', text: String(p.messages) }),
    el('td', { class: 'num', 'data-label': '답장 replies', text: String(p.replies) }),
    el('td', { class: `num${p.errors > 0 ? ' err' : ''}`, 'data-label': '오류 errors', text: String(p.errors) }),
    el('td', { class: 'problem' }, problem(p)),
  )));
  section.querySelector('.empty').hidden = plugins.length > 0;
}

function statusLabel(state) {
  const badge = statusBadge(STATE_CLASS[state] ?? 'pending');
  badge.textContent = STATE_LABELS[state] ?? state;
  return badge;
}

export function startPluginsPanel(section) {
  const refresh = async () => {
    try {
      render(section, await api.plugins());
    } catch (error) {
      console.warn('plugins refresh failed', error);
    }
  };
  refresh();
  setInterval(refresh, REFRESH_MS);
}
