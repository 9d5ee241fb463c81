import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { BridgeSettings } from '@botbridge/sdk';

export type CoreLogger = PinoLogger;

/**
 * Structured JSON logs (pino). Secrets never reach a log line: auth blocks, signatures, secret
 * keys and salts are redacted wherever they appear in logged objects.
 */
export function createLogger(settings: Pick<BridgeSettings['log'], 'level' | 'pretty'>, destination?: NodeJS.WritableStream): CoreLogger {
  const options = {
    level: settings.level,
    base: { service: 'botbridge' },
    redact: {
      paths: ['auth', '*.auth', 'signature', '*.signature', 'secretKey', '*.secretKey', 'salt', '*.salt', 'password', '*.password'],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(options, destination as pino.DestinationStream);
  // Human-readable lines on a terminal, JSON lines everywhere else (files, log shippers).
  if (settings.pretty ?? process.stdout.isTTY === true) {
    return pino(options, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  return pino(options);
}
