import { z } from '@botbridge/sdk';
import { assertTimeZone, localTimeZone } from './zoned-time.js';

const timeZone = z.string().min(1).refine((zone) => {
  try {
    assertTimeZone(zone);
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone name such as Asia/Seoul');

export const schedulerConfig = z.strictObject({
  /** How often kb_schedule is read for due rows (the old server: every minute, on the minute). */
  pollIntervalMs: z.number().int().min(100).max(60_000).default(5_000),
  /** The zone of schedule_date / schedule_time (default: the process's, as the old server's `datetime.now()`). */
  timeZone: timeZone.default(localTimeZone()),
  /**
   * How late an occurrence may still be sent (seconds), for rows whose catch_up_seconds is NULL;
   * later it is skipped and logged. At least 60 s always apply. The old server's window: 300 s.
   */
  catchUpSeconds: z.number().int().min(0).max(7 * 24 * 3600).default(300),
  /** The folder image paths of message_images_1/2 are relative to (the PHP admin's `web/data`); null: file images are refused. */
  imageRoot: z.string().min(1).nullable().default(null),
  /** Due rows handled per poll (the old server: 10). */
  batchSize: z.number().int().min(1).max(1_000).default(20),
});

export type SchedulerConfig = z.output<typeof schedulerConfig>;
