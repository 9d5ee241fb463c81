import { existsSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { reasonOf } from '../errors.js';
import type { Command } from 'commander';
import type { ApprovalStatus } from '@botbridge/sdk';
import { openStore } from '../store/open-store.js';
import { isApprovalStatus } from '../store/record-mappers.js';
import type { DeviceRecord, ListFilter, RoomRecord, Store } from '../store/types.js';
import { CliError } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { formatLocalTime, formatTable } from './format-table.js';
import { requireExistingStore, resolveStore } from './resolve-store-url.js';
import type { StoreOptions } from './resolve-store-url.js';

/** `botbridge devices …` and `botbridge rooms …`: the operator's side of approval (PROTOCOL.md §5). */

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'revoked', 'blocked'];

const VERBS = [
  { verb: 'approve', status: 'approved' },
  { verb: 'deny', status: 'denied' },
  { verb: 'revoke', status: 'revoked' },
  { verb: 'block', status: 'blocked' },
] as const satisfies readonly { verb: string; status: ApprovalStatus }[];

interface Subject<R> {
  readonly noun: string;
  readonly plural: string;
  readonly idArgument: string;
  readonly idHelp: string;
  list(store: Store, filter: ListFilter): Promise<R[]>;
  setStatus(store: Store, botName: string, id: string, status: ApprovalStatus, reason: string | null): Promise<boolean>;
  readonly header: readonly string[];
  cells(record: R): string[];
}

const devices: Subject<DeviceRecord> = {
  noun: 'device',
  plural: 'devices',
  idArgument: 'device',
  idHelp: 'deviceID the phone sent in its handshake',
  list: (store, filter) => store.listDevices(filter),
  setStatus: (store, bot, id, status, reason) => store.setDeviceStatus(bot, id, status, reason),
  header: ['BOT', 'DEVICE', 'STATUS', 'IP', 'VERSION', 'UPDATED'],
  cells: (d) => [d.botName, d.deviceId, d.status, d.ipAddress ?? '-', d.clientVersion ?? '-', formatLocalTime(d.updatedAt)],
};

const rooms: Subject<RoomRecord> = {
  noun: 'room',
  plural: 'rooms',
  idArgument: 'channelId',
  idHelp: 'KakaoTalk channelId, or name:<room name> for a room registered without one',
  list: (store, filter) => store.listRooms(filter),
  setStatus: (store, bot, id, status, reason) => store.setRoomStatus(bot, id, status, reason),
  header: ['BOT', 'ROOM', 'NAME', 'STATUS', 'UPDATED'],
  cells: (r) => [r.botName, r.roomId, r.roomName, r.status, formatLocalTime(r.updatedAt)],
};

function parseStatus(value: string): ApprovalStatus {
  if (!isApprovalStatus(value)) throw new InvalidArgumentError(`unknown status; expected one of ${STATUSES.join(', ')}.`);
  return value;
}

async function withStore<T>(options: StoreOptions, run: (store: Store) => Promise<T>): Promise<T> {
  const resolved = await resolveStore(options);
  requireExistingStore(resolved);
  const store = await openStore(resolved.url, resolved.settings);
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

/**
 * Cluster mode: tells every node at once (they re-read the row from SQL); without a cluster, or
 * when NATS does not answer, the servers pick the change up at their next poll.
 */
async function announce(options: StoreOptions & { cluster?: string }, change: { kind: 'device' | 'room'; botName: string; id: string }, io: CliIo): Promise<void> {
  let url = options.cluster;
  let prefix = 'botbridge';
  if (url === undefined) {
    const { loadBridgeConfig } = await import('../config/load-config.js');
    const cluster = options.config !== undefined || existsSync('bridge.config.ts') ? (await loadBridgeConfig(options.config)).settings.cluster : undefined;
    if (cluster === undefined) return;
    url = cluster.url;
    prefix = cluster.prefix;
  }
  try {
    const { announceApprovalChange } = await import('../cluster/announce.js');
    await announceApprovalChange(url, prefix, change);
  } catch (error) {
    io.err(`warning: the cluster at ${url} was not told (${reasonOf(error)}); its nodes apply the change at their next poll\n`);
  }
}

function addStoreOptions(command: Command): Command {
  return command
    .option('--store <url>', 'store URL (default: $BOTBRIDGE_STORE, store.url of the config, sqlite:./data/botbridge.db); must exist')
    .option('--config <file>', 'bridge config file to read store.url from (default: ./bridge.config.ts)');
}

function addSubject<R>(program: Command, subject: Subject<R>, io: CliIo): void {
  const group = program.command(subject.plural).description(`list and approve ${subject.plural}`);

  addStoreOptions(group.command('list').description(`list ${subject.plural}`))
    .option('--bot <name>', 'only this bot')
    .option('--status <status>', `only this status (${STATUSES.join('|')})`, parseStatus)
    .option('--json', 'print JSON')
    .action(async (options: StoreOptions & { bot?: string; status?: ApprovalStatus; json?: boolean }) => {
      const filter: ListFilter = { botName: options.bot, status: options.status };
      const { records, description } = await withStore(options, async (store) => ({ records: await subject.list(store, filter), description: store.description }));
      if (options.json === true) io.out(`${JSON.stringify(records, null, 2)}\n`);
      // Names the store: an empty answer from the wrong database looks like an empty right one.
      else if (records.length === 0) io.out(`no ${subject.plural} in ${description}\n`);
      else io.out(formatTable(subject.header, records.map((r) => subject.cells(r))));
    });

  for (const { verb, status } of VERBS) {
    addStoreOptions(group.command(`${verb} <bot> <${subject.idArgument}>`).description(`set a ${subject.noun} to ${status}`))
      .addHelpText('after', `\n<${subject.idArgument}>: ${subject.idHelp}.\nA running server applies the change within approval.refreshIntervalMs.`)
      .option('--reason <text>', 'why (kept in rejection_reason; ignored when approving)')
      .option('--cluster <url>', 'NATS of a cluster to announce the change on (default: cluster.url of the config)')
      .action(async (botName: string, id: string, options: StoreOptions & { reason?: string; cluster?: string }) => {
        await withStore(options, async (store) => {
          const found = await subject.setStatus(store, botName, id, status, options.reason ?? null);
          if (!found) {
            throw new CliError(`no ${subject.noun} ${botName}/${id} in ${store.description} (see: botbridge ${subject.plural} list)`);
          }
        });
        io.out(`${subject.noun} ${botName}/${id}: ${status}\n`);
        await announce(options, { kind: subject.noun === 'device' ? 'device' : 'room', botName, id }, io);
      });
  }
}

export function addApprovalCommands(program: Command, io: CliIo): void {
  addSubject(program, devices, io);
  addSubject(program, rooms, io);
}
