import { pino, type Logger as PinoLogger } from 'pino';
import type { BridgeSettings } from '@botbridge/sdk';

export type CoreLogger = PinoLogger;

/**
 * Structured JSON logs (pino). Secrets never reach a log line: auth blocks, signatures, secret
 * keys and salts are redacted wherever they appear in logged objects.
 */
export function createLogger(settings: BridgeSettings['log'], destination?: NodeJS.WritableStream): CoreLogger {
  const options = {
    level: settings.level,
    base: { service: 'botbridge' },
    redact: {
      paths: ['auth', '*.auth', 'signature', '*.signature', 'secretKey', '*.secretKey', 'salt', '*.salt', 'password', '*.password'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
