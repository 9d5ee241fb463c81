import { defineConfig, usePlugin } from '@botbridge/sdk';
import { profiler } from '@botbridge/plugin-profiler';
import domaeka from './domaeka.config.js';

/**
 * The bench's Domaeka config (./domaeka.config.ts: commands + chat log, same caps, store, logs)
 * plus the profiler plugin as an operator would enable it: the Kkobot profile's settings (3 s
 * slow-message threshold; `# profile` has the commands plugin's admins, none here), histograms on the bridge's Prometheus registry. The
 * `profiler` bench scenario alternates this config with the plain one to measure what enabling
 * the profiler costs. The admin HTTP server and its /metrics are on in both, as in the Domaeka
 * config, and scraped during the run.
 */
export default defineConfig({
  ...domaeka,
  plugins: [...(domaeka.plugins ?? []), usePlugin(profiler, { slowMessageMs: 3_000, metrics: true })],
});
