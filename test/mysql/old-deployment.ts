/**
 * A database shaped like an existing deployment of the Python server and its PHP admin: the
 * kb_* tables with the columns the issue lists, in the types those deployments used, with the
 * known quirks and rows in every table.
 * - kb_bot_devices: UNIQUE(device_id) instead of UNIQUE(bot_name, device_id), no
 *   max_message_size, `updated_at DEFAULT NULL` without ON UPDATE (a PHP page that sets only
 *   `status` leaves it alone), one row whose updated_at is still NULL;
 * - kb_rooms: PRIMARY KEY(room_id), no id column, a room keyed `<channelId>_<botName>` (the old
 *   server's key), `updated_at ... ON UPDATE CURRENT_TIMESTAMP`, JSON columns, DEFAULT 1 concurrency;
 * - kb_chat_logs: TEXT message, DATETIME client_timestamp, TIMESTAMP created_at;
 * - kb_ping_monitor: DATETIME client/server timestamps, INT memory, DECIMAL percent;
 * - kb_system_monitor: DECIMAL percents.
 * Server default charset and collation (utf8mb4, case-insensitive), as `CREATE TABLE` left them.
 */
export const OLD_DEPLOYMENT_SQL = `
CREATE TABLE kb_bot_devices (
  id int(11) NOT NULL AUTO_INCREMENT,
  bot_name varchar(30) NOT NULL,
  device_id varchar(100) NOT NULL,
  ip_address varchar(45) DEFAULT NULL,
  client_type varchar(50) DEFAULT NULL,
  client_version varchar(20) DEFAULT NULL,
  status enum('pending','approved','denied','revoked','blocked') NOT NULL DEFAULT 'pending',
  approved_at datetime DEFAULT NULL,
  rejection_reason text,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at datetime DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_device_id (device_id),
  KEY idx_bot_name (bot_name),
  KEY idx_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE kb_rooms (
  room_id varchar(100) NOT NULL,
  room_name varchar(255) NOT NULL,
  bot_name varchar(30) NOT NULL,
  room_concurrency int(11) DEFAULT 1,
  room_owners json DEFAULT NULL,
  status enum('pending','approved','denied','revoked','blocked') NOT NULL DEFAULT 'pending',
  approved_at datetime DEFAULT NULL,
  rejection_reason text,
  description text,
  log_settings json DEFAULT NULL,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at datetime DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (room_id),
  KEY idx_bot_name (bot_name),
  KEY idx_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE kb_chat_logs (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  channel_id varchar(50) DEFAULT '',
  user_hash varchar(100) DEFAULT '',
  room_name varchar(255) DEFAULT '',
  sender varchar(100) DEFAULT '',
  message text,
  directive varchar(30) DEFAULT NULL,
  message_type varchar(20) NOT NULL DEFAULT 'text',
  is_meaningful tinyint(1) NOT NULL DEFAULT 0,
  bot_name varchar(30) DEFAULT '',
  is_mention tinyint(1) NOT NULL DEFAULT 0,
  is_group_chat tinyint(1) NOT NULL DEFAULT 0,
  log_id varchar(50) DEFAULT '',
  client_timestamp datetime DEFAULT NULL,
  server_timestamp datetime DEFAULT CURRENT_TIMESTAMP,
  is_bot tinyint(1) DEFAULT 0,
  is_our_bot_response tinyint(1) NOT NULL DEFAULT 0,
  is_scheduled tinyint(1) NOT NULL DEFAULT 0,
  created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_channel_id (channel_id),
  KEY idx_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE kb_ping_monitor (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  bot_name varchar(30) NOT NULL,
  device_id varchar(100) NOT NULL,
  client_ip varchar(45) DEFAULT NULL,
  ping_time_ms int(11) DEFAULT NULL,
  client_timestamp datetime DEFAULT NULL,
  server_timestamp datetime DEFAULT NULL,
  total_memory int(11) DEFAULT NULL,
  memory_usage int(11) DEFAULT NULL,
  memory_percent decimal(5,2) DEFAULT NULL,
  message_queue_size int(11) DEFAULT NULL,
  active_rooms int(11) DEFAULT NULL,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_bot_device (bot_name, device_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE kb_system_monitor (
  id int(11) NOT NULL AUTO_INCREMENT,
  server_name varchar(100) NOT NULL,
  cpu_percent decimal(5,2) DEFAULT NULL,
  memory_total bigint(20) DEFAULT NULL,
  memory_used bigint(20) DEFAULT NULL,
  memory_percent decimal(5,2) DEFAULT NULL,
  disk_usage_percent decimal(5,2) DEFAULT NULL,
  active_connections int(11) DEFAULT NULL,
  message_queue_size int(11) DEFAULT NULL,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO kb_bot_devices (bot_name, device_id, ip_address, client_type, client_version, status, approved_at, rejection_reason, created_at, updated_at) VALUES
  ('LOA.i', 'phone-approved', '192.168.0.10', 'MessengerBotR', '3.2.1', 'approved', '2025-01-02 10:00:00', NULL, '2025-01-01 09:00:00', '2025-01-02 10:00:00'),
  ('LOA.i', 'phone-pending', '192.168.0.11', 'MessengerBotR', '3.2.1', 'pending', NULL, NULL, '2025-01-03 09:00:00', NULL),
  ('LOA.i', 'phone-revoked', NULL, 'MessengerBotR', '3.1.4', 'revoked', '2024-12-01 10:00:00', '분실', '2024-11-01 09:00:00', '2024-12-24 10:00:00'),
  ('Shop', 'phone-shop', '192.168.0.20', 'MessengerBotR', '3.2.0', 'approved', '2025-01-05 10:00:00', NULL, '2025-01-05 09:00:00', '2025-01-05 10:00:00');

INSERT INTO kb_rooms (room_id, room_name, bot_name, room_concurrency, room_owners, status, approved_at, description, log_settings, created_at, updated_at) VALUES
  ('18445682959392711_LOA.i', '테스트방', 'LOA.i', 1, '["abcd1234"]', 'approved', '2025-01-02 10:00:00', '자동 등록된 방 - 채널ID: 18445682959392711', '{"enabled": true}', '2025-01-02 09:00:00', '2025-01-02 10:00:00'),
  ('222', '둘째방', 'LOA.i', 2, NULL, 'approved', '2025-01-02 10:00:00', NULL, NULL, '2025-01-02 09:00:00', NULL),
  ('333', '대기방', 'LOA.i', 1, NULL, 'pending', NULL, NULL, NULL, '2025-01-02 09:00:00', NULL),
  ('777', '다른봇방', 'Shop', 1, NULL, 'approved', '2025-01-02 10:00:00', NULL, NULL, '2025-01-02 09:00:00', NULL);

INSERT INTO kb_chat_logs (channel_id, user_hash, room_name, sender, message, directive, message_type, is_meaningful, bot_name, is_mention, is_group_chat, log_id, client_timestamp, server_timestamp, is_bot, is_our_bot_response, is_scheduled, created_at) VALUES
  ('18445682959392711', 'abcd1234', '테스트방', '홍길동', '# echo 안녕', '# echo', 'command', 1, 'LOA.i', 0, 1, '3344556677', '2025-01-02 17:00:00', '2025-01-02 08:00:00', 0, 0, 0, '2025-01-02 08:00:00'),
  ('18445682959392711', '', '테스트방', 'LOA.i', '에코: 안녕', NULL, 'text', 0, 'LOA.i', 0, 1, '', NULL, '2025-01-02 08:00:01', 1, 1, 0, '2025-01-02 08:00:01');

INSERT INTO kb_ping_monitor (bot_name, device_id, client_ip, ping_time_ms, client_timestamp, server_timestamp, total_memory, memory_usage, memory_percent, message_queue_size, active_rooms, created_at) VALUES
  ('LOA.i', 'phone-approved', '192.168.0.10', 42, '2025-01-02 08:00:00', '2025-01-02 08:00:00', 512, 97, 19.00, 0, 3, '2025-01-02 08:00:00');

INSERT INTO kb_system_monitor (server_name, cpu_percent, memory_total, memory_used, memory_percent, disk_usage_percent, active_connections, message_queue_size, created_at) VALUES
  ('kkobot-old', 12.50, 8589934592, 4294967296, 50.00, 61.20, 3, 0, '2025-01-02 08:00:00');
`;

export const OLD_TABLES = ['kb_bot_devices', 'kb_rooms', 'kb_chat_logs', 'kb_ping_monitor', 'kb_system_monitor'] as const;
