import { text, type ClientInfo } from '@botbridge/sdk';
import { defineBuiltin } from '../builtin-command.js';
import { defineCommand, type CommandDefinition } from '../command-registry.js';

/** A client that answered a ping within this long counts as active (old server: 300 s). */
export const ACTIVE_WINDOW_MS = 300_000;

export interface ClientInfoOptions {
  /** Clock for the active window; tests pass a fixed one. */
  readonly now?: () => number;
}

/**
 * `# client_info [summary] [--bot-name=NAME]` (admin): the connected clients with their RAM and
 * RTT. The old server's RAM line read fields its clients never sent; here it comes from the
 * monitoring block of the last ping answer.
 */
export function createClientInfoCommand(options: ClientInfoOptions = {}): CommandDefinition {
  const now = options.now ?? Date.now;
  return defineCommand({
    name: 'client_info',
    trigger: 'client_info',
    description: '연결된 클라이언트 상태 요약',
    adminOnly: true,
    parameters: [{ name: 'bot-name', type: 'string', optional: true, description: '이 봇 이름의 클라이언트만 표시' }],
    async run({ bridge, trigger, prompt, params }) {
      if (prompt !== '' && prompt !== 'summary') {
        return text(`🔍 클라이언트 정보 명령어 사용법:\n\n${trigger} summary - 클라이언트 요약 정보 조회`);
      }
      const botName = params['bot-name'] === undefined ? undefined : String(params['bot-name']);
      // Cluster mode: every node's phones (each names its node); a single node: its own.
      const all = bridge.fleetClients ? await bridge.fleetClients() : bridge.clients();
      const clients = all.filter((client) => botName === undefined || client.botName === botName);
      return text(formatSummary(clients, botName, now()));
    },
  });
}

/** The summary text; exported for unit tests. */
export function formatSummary(clients: readonly ClientInfo[], filter: string | undefined, nowMs: number): string {
  const active = clients.filter((client) => client.lastPingAt !== null && nowMs - client.lastPingAt <= ACTIVE_WINDOW_MS);
  const header = [
    `📊 클라이언트 상태 요약${filter === undefined ? '' : ` (필터: ${filter})`}`,
    `총 연결: ${clients.length}개`,
    `활성 클라이언트: ${active.length}개`,
    '',
    '📋 연결된 클라이언트:',
  ].join('\n');
  return header + clients.map((client, i) => formatClient(client, i + 1)).join('');
}

function formatClient(client: ClientInfo, position: number): string {
  let out = `\n${position}. ${client.botName} (v${client.version}${client.protocol === undefined ? '' : `, ${client.protocol}`})`;
  out += `\n   Device: ${client.deviceId}`;
  if (client.node !== undefined) out += `\n   Node: ${client.node}`;
  const monitoring = client.monitoring;
  if (monitoring !== null && monitoring.memoryUsage) {
    const total = monitoring.totalMemory ?? 0;
    const percent = monitoring.memoryPercent ?? (total > 0 ? (monitoring.memoryUsage / total) * 100 : 0);
    out += `\n   RAM: ${monitoring.memoryUsage}MB/${total}MB (${percent.toFixed(1)}%)`;
  }
  if (client.rttMs !== null) out += `\n   RTT: ${Math.round(client.rttMs)}ms`;
  return out;
}

export const clientInfoBuiltin = defineBuiltin({ name: 'client_info', options: undefined, create: () => createClientInfoCommand() });
