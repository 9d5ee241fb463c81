import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { definePlugin } from '@botbridge/sdk';
import { BotConfigLoader } from './bot-config-loader.js';
import { BotFiles } from './bot-files.js';
import { autoConfigSchema } from './config.js';
import { FolderWatcher } from './folder-watcher.js';

/**
 * The file-backed per-bot config source (the Kkobot server's auto-generated bot configs): a
 * bot that connects without a file gets `<dir>/<botName>.json` with the defaults of the core
 * section and of every enabled plugin's per-bot schema; edits to it are validated and applied
 * live; an invalid edit is refused whole, logged issue by issue, and the previous settings stay.
 * Plugins read their settings with `ctx.botConfig(botName)` and never touch the files.
 */
export const autoConfig = definePlugin({
  name: 'auto-config',
  version: '0.1.0',
  config: autoConfigSchema,
  async setup(ctx, config) {
    const provider = ctx.provideBotConfig();
    const dir = resolve(config.dir);
    await mkdir(dir, { recursive: true });
    const files = new BotFiles(dir, config.maxFileBytes);
    const loader = new BotConfigLoader({ provider, files, log: ctx.log, generate: config.generate, maxBots: config.maxBots });
    await loader.loadAll();

    // Awaited by the handshake, so a new bot's first message already sees its file's settings.
    ctx.onHandshake(async (client) => {
      await loader.ensure(client.botName);
    });

    if (config.watch) {
      const watcher = new FolderWatcher({
        dir,
        debounceMs: config.debounceMs,
        onChange: (botName) => void loader.reload(botName),
        onUnknownChange: () => void loader.scan().catch((error: unknown) => ctx.log.warn({ dir, err: String(error) }, 'bot config scan failed')),
        log: ctx.log,
      });
      ctx.effect(() => watcher.close());
    }
    let scanning = false;
    ctx.setInterval(() => {
      if (scanning) return;
      scanning = true;
      loader
        .scan()
        .catch((error: unknown) => ctx.log.warn({ dir, err: String(error) }, 'bot config scan failed'))
        .finally(() => (scanning = false));
    }, config.pollIntervalMs);
    ctx.log.info({ dir, bots: provider.bots().length }, 'per-bot config files loaded');
  },
});
