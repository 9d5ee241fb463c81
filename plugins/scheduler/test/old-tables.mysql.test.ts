import { afterEach, describe, expect, it } from 'vitest';
import { createConnection, type Connection } from 'mysql2/promise';
import { createTestDatabase, supportsTestDatabase } from '@botbridge/core/test-support';
import { ManualClock, ROOM_ID, ROOM_NAME, logRows, registerRoom, startBridge, type SchedBridge } from './harness.js';

const SERVER = process.env.BOTBRIDGE_TEST_STORE;
const MYSQL = SERVER !== undefined && supportsTestDatabase(SERVER);

// The PHP admin's DDL (web/dmk/sql/007_create_kb_tables.sql in the old server's repository), verbatim.
const OLD_SCHEDULE = `CREATE TABLE kb_schedule (
  id int(11) NOT NULL AUTO_INCREMENT,
  title varchar(255) NOT NULL, description text,
  created_by_type enum('distributor','agency','branch') NOT NULL, created_by_id varchar(50) NOT NULL, created_by_mb_id varchar(50) NOT NULL,
  target_bot_name varchar(30) NOT NULL, target_room_id varchar(100) NOT NULL,
  message_text text, message_images_1 json, message_images_2 json,
  send_interval_seconds int(5) DEFAULT 1, media_wait_time_1 int(5) DEFAULT 0, media_wait_time_2 int(5) DEFAULT 0,
  schedule_type enum('once','weekly','daily') NOT NULL, schedule_date date DEFAULT NULL, schedule_time time NOT NULL,
  schedule_times json DEFAULT NULL,
  schedule_weekdays set('monday','tuesday','wednesday','thursday','friday','saturday','sunday') DEFAULT NULL,
  valid_from datetime NOT NULL, valid_until datetime NOT NULL,
  status enum('active','inactive','completed','error') DEFAULT 'active',
  last_sent_at datetime DEFAULT NULL, next_send_at datetime DEFAULT NULL, send_count int(11) DEFAULT 0,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_schedule_polling (status,next_send_at,valid_from,valid_until),
  KEY idx_created_by (created_by_type,created_by_id),
  KEY idx_target_room (target_room_id,target_bot_name),
  KEY idx_target_bot (target_bot_name,target_room_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
const OLD_LOGS = `CREATE TABLE kb_schedule_logs (
  id int(11) NOT NULL AUTO_INCREMENT, schedule_id int(11) NOT NULL, target_room_id varchar(100) NOT NULL,
  sent_message_text text, sent_images_1 json, sent_images_2 json, send_components varchar(50),
  status enum('success','failed','partial') NOT NULL, error_message text, api_response json,
  scheduled_at datetime NOT NULL, started_at datetime NOT NULL, completed_at datetime DEFAULT NULL, duration_ms int(11),
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id), KEY fk_schedule_logs_schedule (schedule_id), KEY idx_target_room_logs (target_room_id), KEY idx_status_time (status,scheduled_at),
  CONSTRAINT fk_schedule_logs_schedule FOREIGN KEY (schedule_id) REFERENCES kb_schedule (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

async function connect(url: string): Promise<Connection> {
  const u = new URL(url);
  const c = await createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1), dateStrings: true });
  cleanups.push(() => c.end());
  return c;
}

describe.skipIf(!MYSQL)('the PHP admin\'s existing kb_schedule tables (MariaDB)', () => {
  it('are used as they are: one nullable column added, rows written by SQL are planned and sent', async () => {
    const db = await createTestDatabase(SERVER!);
    cleanups.push(() => db.drop());
    const sql = await connect(db.url);
    await sql.query(OLD_SCHEDULE);
    await sql.query(OLD_LOGS);
    const columnsBefore = (await sql.query('SHOW COLUMNS FROM kb_schedule'))[0] as { Field: string; Type: string }[];
    // As the PHP admin writes them: one due half a minute ago (server clock), one without next_send_at.
    const insert = `INSERT INTO kb_schedule (title, created_by_type, created_by_id, created_by_mb_id, target_bot_name, target_room_id, message_text,
      schedule_type, schedule_time, valid_from, valid_until, next_send_at) VALUES (?, 'branch', 'b1', 'admin', 'LOA.i', ?, ?, 'daily', '09:00:00',
      NOW() - INTERVAL 1 DAY, NOW() + INTERVAL 30 DAY, ?)`;
    await sql.query(insert, ['due', ROOM_ID, 'PHP에서 등록한 공지', null]);
    await sql.execute(`UPDATE kb_schedule SET next_send_at = NOW() - INTERVAL 30 SECOND WHERE title = 'due'`);
    await sql.query(insert, ['unplanned', ROOM_ID, '나중에', null]);

    // The real clock: the due row is 30 s late, well inside the default catch-up window.
    const b: SchedBridge = await startBridge(db.url, new ManualClock(Date.now()));
    cleanups.push(() => b.t.close());
    await registerRoom(b.database, 'LOA.i');
    const phone = await b.t.client();
    await b.schedules.runDue();
    const [reply] = await phone.waitForReplies(1);
    expect(reply).toMatchObject({ text: 'PHP에서 등록한 공지', room: ROOM_NAME });

    const columnsAfter = (await sql.query('SHOW COLUMNS FROM kb_schedule'))[0] as { Field: string; Type: string }[];
    expect(columnsAfter.filter((c) => c.Field !== 'catch_up_seconds')).toEqual(columnsBefore);
    expect(columnsAfter.find((c) => c.Field === 'catch_up_seconds')).toMatchObject({ Type: 'int(11)' });
    const [rows] = await sql.query('SELECT title, status, send_count, next_send_at IS NOT NULL AS planned, last_sent_at IS NOT NULL AS sent FROM kb_schedule ORDER BY id') as unknown as [Record<string, unknown>[]];
    expect(rows).toEqual([
      { title: 'due', status: 'active', send_count: 1, planned: 1, sent: 1 },
      { title: 'unplanned', status: 'active', send_count: 0, planned: 1, sent: 0 },
    ]);
    const logs = await logRows(b.database, 1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ status: 'success', send_components: 'text', sent_message_text: 'PHP에서 등록한 공지' });
    // Deleting a schedule goes through the old foreign key too.
    expect(await b.schedules.remove(1)).toBe(true);
    expect(await logRows(b.database, 1)).toHaveLength(0);
  });
});
