import { defineConfig, usePlugin } from '@botbridge/sdk';
import { chatLog } from '@botbridge/plugin-chat-log';
import { commands } from '@botbridge/plugin-commands';

/**
 * The Domaeka profile: the minimal plugin set of a shop bot. Every key left out takes the
 * production default (docs/configuration.md).
 */
export default defineConfig({
  listen: { host: '0.0.0.0', port: 1485 },
  store: { url: 'sqlite:./data/botbridge.db' },
  plugins: [
    usePlugin(commands, {
      // KakaoTalk userHash of each bot's admins (sender names can be spoofed):
      // admins: { 'LOA.i': [{ userHash: 'f3a9…' }] },
      admins: {},
    }),
    chatLog,
  ],
});
