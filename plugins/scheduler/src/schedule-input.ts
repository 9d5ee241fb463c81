import { z } from '@botbridge/sdk';
import { WEEKDAY_NAMES, parseDate, parseTime } from './schedule.js';

const time = z.string().refine((t) => parseTime(t) !== null, 'expected HH:MM or HH:MM:SS');
const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected a date-time (ISO 8601, e.g. 2026-12-24T09:00:00+09:00)');
const image = z.strictObject({ path: z.string().min(1).optional(), name: z.string().optional(), base64: z.string().min(1).optional(), url: z.string().url().optional() })
  .refine((i) => i.path !== undefined || i.base64 !== undefined || i.url !== undefined, 'an image needs path, base64 or url');

const fields = {
  title: z.string().min(1).max(255),
  description: z.string().nullable().optional(),
  botName: z.string().min(1).max(30),
  roomId: z.string().min(1).max(100),
  /** The preferred phone (kb_schedule.target_device_id: tables of the old server's later head and botbridge's own). */
  deviceId: z.string().min(1).max(100).nullable().optional(),
  type: z.enum(['once', 'daily', 'weekly']),
  date: z.string().refine((d) => parseDate(d) !== null, 'expected YYYY-MM-DD').nullable().optional(),
  times: z.array(time).min(1).max(48),
  weekdays: z.array(z.enum(WEEKDAY_NAMES)).optional(),
  validFrom: instant.optional(),
  validUntil: instant.optional(),
  text: z.string().max(65_000).nullable().optional(),
  images1: z.array(image).max(30).optional(),
  images2: z.array(image).max(30).optional(),
  sendIntervalSeconds: z.number().int().min(0).max(3_600).optional(),
  mediaWaitMs1: z.number().int().min(0).max(600_000).optional(),
  mediaWaitMs2: z.number().int().min(0).max(600_000).optional(),
  catchUpSeconds: z.number().int().min(0).max(7 * 24 * 3600).nullable().optional(),
  createdBy: z.string().min(1).max(50).optional(),
};

/** A new schedule from the admin API or the CLI. */
export const scheduleInput = z.strictObject(fields).superRefine((s, ctx) => {
  if (s.type === 'once' && (s.date === undefined || s.date === null)) ctx.addIssue({ code: 'custom', path: ['date'], message: 'a once schedule needs a date' });
  if (s.type === 'weekly' && (s.weekdays?.length ?? 0) === 0) ctx.addIssue({ code: 'custom', path: ['weekdays'], message: 'a weekly schedule needs weekdays' });
  if (!s.text && (s.images1?.length ?? 0) === 0 && (s.images2?.length ?? 0) === 0) ctx.addIssue({ code: 'custom', path: ['text'], message: 'nothing to send: give text or images' });
});

/** Changes to an existing schedule (any subset of the fields). */
export const schedulePatch = z.strictObject(fields).partial();

export type ScheduleInput = z.output<typeof scheduleInput>;
export type SchedulePatch = z.output<typeof schedulePatch>;

/** A refused input: the admin API answers 400 with these issues. */
export class ScheduleInputError extends Error {
  readonly code = 'SCHEDULE_INVALID';
  readonly statusCode = 400;
  constructor(readonly issues: readonly string[]) {
    super(`invalid schedule: ${issues.join('; ')}`);
  }
}

export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ScheduleInputError(parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`));
}
