import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { signingSecretSchema } from '@botbridge/sdk/internal';
import { BridgeError, reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { Keyring, SecretsOverlay } from './keyring.js';

const overlaySchema = z.strictObject({
  $comment: z.string().optional(),
  secrets: z.array(signingSecretSchema).optional(),
  bots: z.record(z.string(), z.strictObject({ secrets: z.array(signingSecretSchema) })).optional(),
});

/**
 * Reads auth.secretsFile. A bad file throws a coded error naming the path inside the file, never
 * a key (zod's refine messages carry no input value).
 */
export async function readSecretsFile(file: string): Promise<SecretsOverlay> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file, reason: reasonOf(error) });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes part of the text, which may be a key.
    throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file, reason: 'not valid JSON' });
  }
  const parsed = overlaySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', { path: `${file}#${issue.path.join('.')}`, reason: issue.message });
  }
  return parsed.data;
}

/**
 * Re-reads the secrets file when its mtime or size changes (polled: fs.watch misses editors that
 * replace the file). A file that fails validation leaves the keyring as it was and logs why, so a
 * typo during a rotation never locks the fleet out.
 */
export class SecretsFileWatcher {
  private timer: NodeJS.Timeout | undefined;
  private lastStamp = '';

  constructor(
    private readonly file: string,
    private readonly keyring: Keyring,
    private readonly intervalMs: number,
    private readonly log: CoreLogger,
  ) {}

  /** Loads the file once (throws when it is invalid: the bridge refuses to start), then polls. */
  async start(): Promise<void> {
    this.lastStamp = await this.stamp();
    this.keyring.setOverlay(await readSecretsFile(this.file));
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Checks now (also used by tests instead of waiting for the poll). */
  async check(): Promise<boolean> {
    try {
      const stamp = await this.stamp();
      if (stamp === this.lastStamp) return false;
      this.lastStamp = stamp;
      this.keyring.setOverlay(await readSecretsFile(this.file));
      this.log.info({ file: this.file }, 'secrets file reloaded');
      return true;
    } catch (error) {
      this.log.error({ file: this.file, code: error instanceof BridgeError ? error.code : undefined, err: reasonOf(error) }, 'secrets file not reloaded; keeping the previous secrets');
      return false;
    }
  }

  private async stamp(): Promise<string> {
    const info = await stat(this.file);
    return `${info.mtimeMs}:${info.size}`;
  }
}
