import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderSummary, spliceDocs, type FaultResults } from './report.js';
import type { RunOptions, ScenarioResult } from './scenario.js';
import { lostScenario } from './scenarios/lost.js';
import { OUTBOX_PENDING, outboxScenario } from './scenarios/outbox.js';
import { overloadScenario } from './scenarios/overload.js';
import { sigkillScenario } from './scenarios/sigkill.js';
import { clusterFailoverScenario } from './scenarios/cluster-failover.js';
import { sigtermScenario } from './scenarios/sigterm.js';

/**
 * `npm run fault` — issue 11's fault suite against real `botbridge start` processes
 * (docs/fault-tests.md).
 *   --only a,b     scenarios: overload, sigterm, sigkill, outbox, lost, cluster-failover (default: all;
 *                  cluster-failover needs NATS and MariaDB)
 *   --quick        short durations (CI-sized); the default is the full length the judge uses
 *   --docs         also write the figures into docs/fault-tests.md (a full run of every scenario always does)
 *   --keep         keep the scratch directory (server logs, SQLite files) even when all pass
 *   --outbox-pending  a base without the outbox: its scenario is expected to fail
 *   --render FILE  re-render the summary (and docs/fault-tests.md) from a results JSON, run nothing
 * Exit code 1 when a scenario failed (an expected failure does not count), 0 otherwise.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS_DIR = join(ROOT, 'bench/results');
const DOCS_FILE = join(ROOT, 'docs/fault-tests.md');
const SCENARIOS = {
  overload: (o: RunOptions) => overloadScenario(o),
  sigterm: (o: RunOptions) => sigtermScenario(o),
  sigkill: (o: RunOptions) => sigkillScenario(o),
  outbox: (o: RunOptions) => outboxScenario(o, undefined, values['outbox-pending'] ? OUTBOX_PENDING : null),
  lost: (o: RunOptions) => lostScenario(o),
  'cluster-failover': (o: RunOptions) => clusterFailoverScenario(o),
} as const;
type Name = keyof typeof SCENARIOS;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    docs: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'outbox-pending': { type: 'boolean', default: false },
    render: { type: 'string' },
  },
});

if (values.render) {
  const file = resolve(values.render);
  const summary = renderSummary(JSON.parse(readFileSync(file, 'utf8')) as FaultResults, relative(ROOT, file));
  writeFileSync(file.replace(/\.json$/, '.md'), `${summary}\n`);
  writeFileSync(DOCS_FILE, spliceDocs(readFileSync(DOCS_FILE, 'utf8'), summary));
  process.stderr.write(`${summary}\n`);
  process.exit(0);
}

function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'core', 'sdk', 'plugins'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return `${head} (${branch})${dirty === '' ? '' : ' + uncommitted changes'}`;
  } catch {
    return 'unknown';
  }
}

const names = (values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS)) as Name[];
for (const name of names) if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name} (known: ${Object.keys(SCENARIOS).join(', ')})`);
const mode = values.quick ? 'quick' : 'full';
const workDir = mkdtempSync(join(tmpdir(), 'botbridge-fault-'));
const log = (line: string) => process.stderr.write(`[fault ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const options: RunOptions = { quick: values.quick, workDir, log };
const started = Date.now();
const results: ScenarioResult[] = [];
log(`${mode} run of ${names.join(', ')}; scratch ${workDir}`);
for (const name of names) results.push(await SCENARIOS[name](options));

const date = new Date(started).toISOString();
const out: FaultResults = {
  schema: 1,
  mode,
  date,
  revision: revision(),
  machine: { cores: cpus().length, loadAverage: loadavg() },
  scenarios: results,
  elapsedMs: Date.now() - started,
};
mkdirSync(RESULTS_DIR, { recursive: true });
// A partial run (--only) never overwrites the day's complete results, nor the docs' figures.
const stem = `fault-${date.slice(0, 16).replace(":", "")}-${mode}${values.only ? `-${names.join('-')}` : ''}`;
const jsonFile = join(RESULTS_DIR, `${stem}.json`);
writeFileSync(jsonFile, `${JSON.stringify(out, null, 1)}\n`);
const summary = renderSummary(out, relative(ROOT, jsonFile));
writeFileSync(join(RESULTS_DIR, `${stem}.md`), `${summary}\n`);
if (((mode === 'full' && !values.only) || values.docs) && existsSync(DOCS_FILE)) writeFileSync(DOCS_FILE, spliceDocs(readFileSync(DOCS_FILE, 'utf8'), summary));
process.stderr.write(`\n${summary}\nresults: ${relative(ROOT, jsonFile)}\n`);

const failed = results.filter((r) => r.verdict === 'fail' || r.verdict === 'error' || r.verdict === 'unexpected-pass');
if (failed.length === 0 && !values.keep) rmSync(workDir, { recursive: true, force: true });
else log(`kept ${workDir} (server logs and stores: the evidence)`);
process.exitCode = failed.length === 0 ? 0 : 1;
