import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { call, resolve, type AdminOptions } from './ban-commands.js';
import type { CliIo } from './cli-io.js';
import { formatLocalTime, formatTable } from './format-table.js';

/**
 * `botbridge schedules list|add|pause|resume|delete|logs`: the scheduler plugin's kb_schedule
 * through the running server's admin API (`/api/schedules`), so next_send_at is computed by the
 * plugin with its time zone, exactly as for the dashboard and the API. The tables stay writable
 * by SQL as well (plugins/scheduler/README.md).
 */

interface ScheduleRow {
  readonly id: number;
  readonly title: string;
  readonly botName: string;
  readonly roomId: string;
  readonly type: string;
  readonly date: string | null;
  readonly times: readonly string[];
  readonly weekdays: readonly string[];
  readonly status: string;
  readonly nextSendAt: string | null;
  readonly lastSentAt: string | null;
  readonly sendCount: number;
}

const WEEKDAYS: Record<string, string> = {
  mon: 'monday', tue: 'tuesday', wed: 'wednesday', thu: 'thursday', fri: 'friday', sat: 'saturday', sun: 'sunday',
};

function parseId(value: string): string {
  if (!/^\d{1,10}$/.test(value)) throw new InvalidArgumentError('expected a schedule id (a number)');
  return value;
}

function parseWeekdays(value: string): string[] {
  return value.split(',').map((w) => {
    const key = w.trim().toLowerCase();
    const day = WEEKDAYS[key.slice(0, 3)];
    if (day === undefined || !day.startsWith(key.slice(0, 3))) throw new InvalidArgumentError(`unknown weekday ${JSON.stringify(w)} (mon,tue,…,sun)`);
    return day;
  });
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
const when = (iso: string | null) => (iso === null ? '-' : formatLocalTime(new Date(iso)));

export function addScheduleCommands(program: Command, io: CliIo): void {
  const schedules = program.command('schedules').description('scheduled messages of the scheduler plugin (kb_schedule), through the admin API');
  const common = (command: Command) =>
    command
      .option('--url <url>', 'admin HTTP server of the running bridge (default http://127.0.0.1:8080, or BOTBRIDGE_ADMIN_URL)')
      .option('--token <token>', 'admin token (default BOTBRIDGE_ADMIN_TOKEN)');

  common(schedules.command('list').description('list schedules').option('--bot <name>', 'only this bot').option('--status <status>', 'active, inactive, completed or error'))
    .action(async (options: Partial<AdminOptions> & { bot?: string; status?: string }) => {
      const query = new URLSearchParams();
      if (options.bot) query.set('bot', options.bot);
      if (options.status) query.set('status', options.status);
      const rows = (await call(resolve(options), 'GET', `/api/schedules${query.size > 0 ? `?${query}` : ''}`)) as ScheduleRow[];
      if (rows.length === 0) {
        io.out('no schedules\n');
        return;
      }
      io.out(formatTable(
        ['ID', 'BOT', 'ROOM', 'TYPE', 'WHEN', 'STATUS', 'NEXT', 'LAST', 'SENT', 'TITLE'],
        rows.map((s) => [
          String(s.id), s.botName, s.roomId, s.type,
          [s.date, s.weekdays.map((w) => w.slice(0, 3)).join(','), s.times.join(',')].filter((x) => x).join(' '),
          s.status, when(s.nextSendAt), when(s.lastSentAt), String(s.sendCount), s.title,
        ]),
      ));
    });

  common(schedules.command('add').description('add a schedule (times in the scheduler\'s time zone)')
    .requiredOption('--bot <name>', 'target bot name')
    .requiredOption('--room <channelId>', 'target room (its channelId, as kb_rooms.room_id)')
    .option('--device <deviceId>', 'the preferred phone (another phone of the bot takes it when this one is away)')
    .requiredOption('--type <type>', 'once, daily or weekly')
    .requiredOption('--time <HH:MM>', 'time of day; repeat or comma-separate for several', collect)
    .option('--date <YYYY-MM-DD>', 'the day of a once schedule')
    .option('--weekdays <days>', 'weekly: mon,tue,…', parseWeekdays)
    .option('--text <text>', 'the message text')
    .option('--image-url <url>', 'an image to send by URL; repeat for several', collect)
    .option('--title <title>', 'a title (default: the first 40 characters of the text)')
    .option('--from <date-time>', 'valid from (ISO 8601; default now)')
    .option('--until <date-time>', 'valid until (ISO 8601; default 2099-12-31)')
    .option('--catch-up <seconds>', 'send late by at most this much after a downtime (default: the plugin\'s; at least 60)', parseCount))
    .action(async (options: Partial<AdminOptions> & {
      bot: string; room: string; device?: string; type: string; time: string[]; date?: string; weekdays?: string[]; text?: string; imageUrl?: string[];
      title?: string; from?: string; until?: string; catchUp?: number;
    }) => {
      const body = {
        title: options.title ?? (options.text ?? 'schedule').slice(0, 40),
        botName: options.bot,
        roomId: options.room,
        ...(options.device !== undefined ? { deviceId: options.device } : {}),
        type: options.type,
        times: options.time,
        ...(options.date !== undefined ? { date: options.date } : {}),
        ...(options.weekdays !== undefined ? { weekdays: options.weekdays } : {}),
        ...(options.text !== undefined ? { text: options.text } : {}),
        ...(options.imageUrl !== undefined ? { images1: options.imageUrl.map((url) => ({ url })) } : {}),
        ...(options.from !== undefined ? { validFrom: options.from } : {}),
        ...(options.until !== undefined ? { validUntil: options.until } : {}),
        ...(options.catchUp !== undefined ? { catchUpSeconds: options.catchUp } : {}),
        createdBy: 'cli',
      };
      const created = (await call(resolve(options), 'POST', '/api/schedules', body)) as ScheduleRow;
      io.out(`added schedule ${created.id}; next send ${when(created.nextSendAt)}\n`);
    });

  for (const action of ['pause', 'resume'] as const) {
    common(schedules.command(action).description(action === 'pause' ? 'stop sending (status inactive)' : 'send again (next_send_at recomputed from now)').argument('<id>', 'schedule id', parseId))
      .action(async (id: string, options: Partial<AdminOptions>) => {
        const changed = (await call(resolve(options), 'POST', `/api/schedules/${id}/${action}`)) as ScheduleRow;
        io.out(`schedule ${id} ${changed.status}; next send ${when(changed.nextSendAt)}\n`);
      });
  }

  common(schedules.command('delete').description('delete a schedule and its log rows').argument('<id>', 'schedule id', parseId))
    .action(async (id: string, options: Partial<AdminOptions>) => {
      await call(resolve(options), 'DELETE', `/api/schedules/${id}`);
      io.out(`deleted schedule ${id}\n`);
    });

  common(schedules.command('logs').description('the latest kb_schedule_logs rows of a schedule').argument('<id>', 'schedule id', parseId))
    .action(async (id: string, options: Partial<AdminOptions>) => {
      const rows = (await call(resolve(options), 'GET', `/api/schedules/${id}/logs`)) as Record<string, unknown>[];
      if (rows.length === 0) {
        io.out('no log rows\n');
        return;
      }
      io.out(formatTable(['ID', 'SCHEDULED', 'STARTED', 'STATUS', 'PARTS', 'NOTE'], rows.map((r) => [
        String(r.id), String(r.scheduled_at), String(r.started_at), String(r.status), String(r.send_components ?? ''), String(r.error_message ?? ''),
      ])));
    });
}
