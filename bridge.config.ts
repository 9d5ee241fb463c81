import { defineConfig, usePlugin } from '@botbridge/sdk';
import { commands } from '@botbridge/plugin-commands';
import { chatLog } from '@botbridge/plugin-chat-log';

/**
 * The operator's file. Every key is optional; docs/configuration.md lists them with their
 * defaults (the production servers' values). This is the Domaeka profile: commands + chat log.
 */
export default defineConfig({
  listen: { host: '0.0.0.0', port: 1485 },
  store: { url: 'sqlite:./data/botbridge.db' },
  plugins: [
    usePlugin(commands, {
      // Admins are identified by KakaoTalk userHash (sender names can be spoofed). They are the
      // bot's admins for every admin-only command, including those other plugins register here.
      admins: {},
    }),
    chatLog,
  ],
});
