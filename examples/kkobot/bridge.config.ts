import { defineConfig, usePlugin } from '@botbridge/sdk';
import { autoConfig } from '@botbridge/plugin-auto-config';
import { chatLog } from '@botbridge/plugin-chat-log';
import { commands } from '@botbridge/plugin-commands';
import { profiler } from '@botbridge/plugin-profiler';

/**
 * The Kkobot profile: the same core and commands as Domaeka, plus per-bot config files
 * (auto-config) and per-message profiling (profiler). Admins and enabled commands are per bot:
 * edit `config/bots/<botName>.json`, written the first time a bot connects; saved edits apply
 * live. The admins below are only the defaults written into a new bot's file.
 */
const admins = {
  // 'LOA.i': [{ userHash: 'f3a9…' }],
};

export default defineConfig({
  listen: { host: '0.0.0.0', port: 1485 },
  store: { url: 'sqlite:./data/botbridge.db' },
  log: {
    // Per-category levels, as the Kkobot server had them.
    categories: { ping: 'warn', 'plugin:profiler': 'info' },
  },
  plugins: [
    usePlugin(commands, { admins }),
    chatLog,
    // `# profile` (admins of the bot's file) answers a summary; slow messages are logged with their trace.
    usePlugin(profiler, { admins, slowMessageMs: 3_000 }),
    usePlugin(autoConfig, { dir: process.env.BOTBRIDGE_BOT_CONFIG_DIR ?? 'config/bots' }),
  ],
});
