import { buildAnalyzeData, encodeLine } from '@botbridge/testing/wire';
import { JsonBytePrescan } from '../../core/src/protocol/byte-prescan.js';
import { splitFrame } from '../../core/src/protocol/codec-select.js';
import { LineSplitter } from '../../core/src/protocol/line-splitter.js';
import { parseJsonLine, type JsonLimits } from '../../core/src/protocol/safe-json.js';

/**
 * Issue 13: the framer with the byte prescan (limits checked on the chunks as they arrive) against
 * the string path (join, decode, then the string prescan), in one process, alternating.
 *   node --import tsx bench/micro/byte-prescan.ts
 * Prints the median (and p90) time per line for a hostile 1 MiB nested-array line in 64 KiB
 * chunks and for a valid 554-byte analyze packet, and the byte scan's speed over junk outside
 * strings and over Korean text inside one.
 */

const limits: JsonLimits = { maxDepth: 16, maxKeys: 2_000 };
const unit = '[[[[[[[[[[[[[[]]]]]]]]]]]]]]';
const hostile = Buffer.from(`[${Array(36_000).fill(unit).join(',')}]\n`);
const hostileChunks: Buffer[] = [];
for (let i = 0; i < hostile.length; i += 65_536) hostileChunks.push(Buffer.from(hostile.subarray(i, i + 65_536)));

const data = buildAnalyzeData({ text: '안녕하세요 오늘 점심 뭐 먹을까요? 김치찌개 어때요', room: '개발팀 단톡방' }, { botName: 'LOA.i', clientType: 'MessengerBotR', logId: '1234567890123456789', now: new Date() });
const packet = encodeLine({ event: 'analyze', data: { ...data, auth: { clientType: 'MessengerBotR', botName: 'LOA.i', deviceUUID: 'abcdef0123456789', timestamp: Date.now(), signature: 'a'.repeat(64) } } });
const packets = Buffer.from(packet.repeat(200));

function splitter(bytes: boolean): LineSplitter {
  return new LineSplitter({
    limit: 1 << 21,
    onLine: (line, prescanned) => void parseJsonLine(splitFrame(line).json, limits, bytes && prescanned),
    onError: () => {},
    ...(bytes ? { prescan: new JsonBytePrescan(limits), onRejected: () => {} } : {}),
  });
}

function time(run: () => void, perUnit: number): number {
  const t0 = performance.now();
  run();
  return (performance.now() - t0) / perUnit;
}

function quantiles(values: number[]): { median: number; p90: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p90: sorted[Math.floor(sorted.length * 0.9)]! };
}

const hostileMs = { string: [] as number[], bytes: [] as number[] };
const packetUs = { string: [] as number[], bytes: [] as number[] };
for (let round = 0; round < 80; round++) {
  for (const mode of ['string', 'bytes'] as const) {
    const s = splitter(mode === 'bytes');
    hostileMs[mode].push(time(() => hostileChunks.forEach((c) => s.push(c)), 1));
    const p = splitter(mode === 'bytes');
    packetUs[mode].push(time(() => { for (let i = 0; i < 5; i++) p.push(packets); }, 5 * 200 / 1000));
  }
}
const warm = (values: number[]) => values.slice(20);

const scan = new JsonBytePrescan(limits);
function msPerMiB(buf: Buffer): number {
  const runs: number[] = [];
  for (let k = 0; k < 40; k++) {
    scan.reset();
    runs.push(time(() => { for (let i = 0; i < buf.length; i += 65_536) scan.feed(buf.subarray(i, i + 65_536)); }, buf.length / (1 << 20)));
  }
  return quantiles(runs.slice(10)).median;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const q = (values: number[]) => { const { median, p90 } = quantiles(warm(values)); return { median: round3(median), p90: round3(p90) }; };
console.log(JSON.stringify({
  hostileLineMs: { bytes: hostile.length, stringPath: q(hostileMs.string), bytePrescan: q(hostileMs.bytes) },
  validPacketUs: { bytes: Buffer.byteLength(packet), stringPath: q(packetUs.string), bytePrescan: q(packetUs.bytes) },
  scanMsPerMiB: { junkOutsideStrings: round3(msPerMiB(Buffer.alloc(1 << 20, 0x61))), koreanInsideAString: round3(msPerMiB(Buffer.from(`{"text":"${'가나다라마바사'.repeat(50_000)}"}`))) },
}, null, 2));
