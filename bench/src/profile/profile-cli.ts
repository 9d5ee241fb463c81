import { summarizeProfileFile } from './summarize-profile.js';

/** `node --import tsx bench/src/profile/profile-cli.ts FILE.cpuprofile [TOP]`: prints a summary. */
const [file, top] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-cli.ts FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const summary = summarizeProfileFile(file, file, top === undefined ? 40 : Number(top));
process.stdout.write(`busy ${summary.totalMs.toFixed(0)} ms\n\nby category (self):\n`);
for (const c of summary.categories) process.stdout.write(`  ${c.selfPercent.toFixed(1).padStart(5)}%  ${c.selfMs.toFixed(0).padStart(7)} ms  ${c.category}\n`);
process.stdout.write('\ntop functions (self):\n');
for (const e of summary.top) process.stdout.write(`  ${e.selfPercent.toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}  ${e.location}\n`);
process.stdout.write('\ntop project/dependency functions (inclusive):\n');
for (const e of summary.inclusive) process.stdout.write(`  ${e.selfPercent.toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}  ${e.location}\n`);
