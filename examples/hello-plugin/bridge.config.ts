import { defineConfig, usePlugin } from '@botbridge/sdk';
import { chatLog } from '@botbridge/plugin-chat-log';
import { hello } from './src/index.js';

/** Runs the hello plugin (with its own config) next to the chat log. */
export default defineConfig({
  listen: { host: '0.0.0.0', port: 1485 },
  store: { url: 'sqlite:./data/botbridge.db' },
  log: { categories: { 'plugin:hello': 'debug' } },
  plugins: [usePlugin(hello, { triggers: ['안녕', 'hello', 'hi'] }), chatLog],
});
