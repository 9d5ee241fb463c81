import { defineConfig, usePlugin } from '@botbridge/sdk';
import { autoConfig } from '@botbridge/plugin-auto-config';
import { chatLog } from '@botbridge/plugin-chat-log';
import { commands } from '@botbridge/plugin-commands';
import { profiler } from '@botbridge/plugin-profiler';

/**
 * The Kkobot profile: the same core and commands as Domaeka, plus per-bot config files
 * (auto-config) and per-message profiling (profiler). Admins and enabled commands are per bot:
 * edit `config/bots/<botName>.json`, written the first time a bot connects; saved edits apply
 * live. The admins below are only the defaults written into a new bot's file. They are
 * configured once, in the commands plugin, and hold for every admin-only command (`# profile` too).
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
    // Registers `# profile` with the commands plugin (listed before it): the bot's admins get a
    // summary; slow messages are logged with their trace.
    usePlugin(profiler, { slowMessageMs: 3_000 }),
    usePlugin(autoConfig, { dir: process.env.BOTBRIDGE_BOT_CONFIG_DIR ?? 'config/bots' }),
  ],
});
