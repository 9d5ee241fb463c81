import type { BridgeApi, ChatMessage, ClientInfo, Logger, MessageContext, ReloadResult } from '@botbridge/sdk';

/** Log lines a test can inspect. */
export interface RecordedLog {
  readonly level: string;
  readonly obj: object | string;
  readonly msg?: string;
}

export function recordingLogger(lines: RecordedLog[] = []): Logger & { lines: RecordedLog[] } {
  const at = (level: string) => (obj: object | string, msg?: string) => void lines.push({ level, obj, msg });
  const log = {
    lines,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

export function chatMessage(text: string, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: 'LOA.i/18445682959392711/1',
    traceId: 't1',
    botName: 'LOA.i',
    deviceId: 'a1b2c3d4e5f60718',
    room: '테스트방',
    channelId: '18445682959392711',
    logId: '1',
    text,
    sender: '홍길동',
    userHash: 'abcd1234',
    isGroupChat: true,
    isMention: false,
    clientTimestamp: '2025-07-15 17:00:00',
    receivedAt: 0,
    legacy: false,
    ...overrides,
  };
}

export function clientInfo(overrides: Partial<ClientInfo> = {}): ClientInfo {
  return {
    connectionId: 'c1',
    botName: 'LOA.i',
    deviceId: 'a1b2c3d4e5f60718',
    clientType: 'MessengerBotR',
    version: '3.2.1',
    deviceIP: null,
    deviceInfo: null,
    remoteAddress: '127.0.0.1',
    remotePort: 5000,
    connectedAt: 0,
    approval: 'approved',
    lastPingAt: null,
    rttMs: null,
    monitoring: null,
    pendingOutputBytes: 0,
    ...overrides,
  };
}

export function messageContext(message: ChatMessage, log: Logger = recordingLogger()): MessageContext {
  return {
    message,
    room: { botName: message.botName, channelId: message.channelId, name: message.room, status: 'approved' },
    client: clientInfo(),
    signal: new AbortController().signal,
    // Never aborted: these tests run handlers to their end.
    abort: { aborted: false, reason: undefined, signal: new AbortController().signal, race: (work) => work },
    log,
    reply: async () => [],
  };
}

export function fakeBridge(overrides: Partial<BridgeApi> = {}): BridgeApi {
  return {
    clients: () => [],
    reloadApprovals: async (): Promise<ReloadResult> => ({ devices: 0, changed: 0 }),
    send: async () => ({ status: 'written', traceId: 'p-1', deviceId: 'd-1' }),
    database: () => { throw new Error('no database in this test'); },
    appendRow: () => {},
    ...overrides,
  };
}
