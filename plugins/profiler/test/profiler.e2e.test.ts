import { afterEach, describe, expect, it, vi } from 'vitest';
import { CORE_EVENT_NAMES, definePlugin, usePlugin, type BridgeEventMap, type BridgeEventName } from '@botbridge/sdk';
import { createTestBridge, type FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { chatLog } from '@botbridge/plugin-chat-log';
import { commands } from '@botbridge/plugin-commands';
import { profiler } from '../src/index.js';

const ADMIN = 'admin-hash';
const GAP_MS = 100;
const TIMER_SLACK_MS = 5;
const WAIT_SLACK_MS = 2;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An observer, a handler that replies twice (once through ctx.reply), and a slow rewrite. */
const observer = definePlugin({ name: 'observer', setup: (ctx) => ctx.onReceive(() => sleep(5)) });
const slowpoke = definePlugin({
  name: 'slowpoke',
  setup(ctx) {
    ctx.onMessage(async (m) => {
      if (!m.message.text.startsWith('work')) return undefined;
      await sleep(40);
      await m.reply(`first ${m.message.text}`);
      await sleep(10);
      return `second ${m.message.text}`;
    });
  },
});
const rewrite = definePlugin({
  name: 'rewrite',
  setup(ctx) {
    ctx.beforeReply(async (out) => {
      await sleep(8);
      return out;
    });
  },
});

type Seen = { [K in BridgeEventName]: { name: K; event: BridgeEventMap[K] } }[BridgeEventName];
function recorder(seen: Seen[]) {
  return definePlugin({
    name: 'recorder',
    setup(ctx) {
      for (const name of [...CORE_EVENT_NAMES, 'profile:message'] as const) ctx.events.subscribe(name, (event) => void seen.push({ name, event } as Seen));
    },
  });
}

let t: TestBridge | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function profiled(seen: Seen[], slowMessageMs = 60_000): Promise<{ t: TestBridge; phone: FakeBridgeClient }> {
  t = await createTestBridge({
    // The admins are the commands plugin's (once per bot); `# profile` is registered through it.
    plugins: [
      recorder(seen),
      observer,
      slowpoke,
      rewrite,
      usePlugin(commands, { admins: { 'LOA.i': [{ userHash: ADMIN }] } }),
      usePlugin(profiler, { slowMessageMs }),
    ],
    config: { pipeline: { replyGapMs: GAP_MS, concurrency: { global: 1, perBot: 5, perRoom: 1 } } },
    captureLogs: true,
  });
  return { t, phone: await t.client() };
}

function of<K extends BridgeEventName>(seen: Seen[], name: K, traceId?: string): BridgeEventMap[K][] {
  return seen.filter((s) => s.name === name && (traceId === undefined || (s.event as { traceId?: string }).traceId === traceId)).map((s) => s.event as BridgeEventMap[K]);
}

const stage = (p: BridgeEventMap['profile:message'], name: string, plugin: string | null = null) =>
  p.stages.find((s) => s.stage === name && s.plugin === plugin)?.ms ?? 0;

describe('profiler', () => {
  it('splits each message into stages that add up to its end-to-end time, and puts the waits where they happened', async () => {
    const seen: Seen[] = [];
    const { phone } = await profiled(seen);
    phone.analyze({ text: 'work 1', room: '방A', channelId: '111' });
    phone.analyze({ text: 'work 2', room: '방A', channelId: '111' });
    phone.analyze({ text: 'work 3', room: '방B', channelId: '222' });
    await phone.waitForReplies(6, 10_000);
    await vi.waitFor(() => expect(of(seen, 'profile:message')).toHaveLength(3), { timeout: 5_000 });

    const trace = (text: string) => of(seen, 'message:admitted').find((e) => e.text === text)!.traceId;
    const [t1, t2, t3] = ['work 1', 'work 2', 'work 3'].map(trace) as [string, string, string];
    const profile = (id: string) => of(seen, 'profile:message', id)[0]!;
    const at = <K extends BridgeEventName>(name: K, id: string) => (of(seen, name, id)[0] as { at: number }).at;

    for (const id of [t1, t2, t3]) {
      const p = profile(id);
      // End to end, measured from the core's own events: admission to the later of the job end and the last reply.
      const sent = of(seen, 'reply:sent', id).map((e) => e.at);
      const e2e = Math.max(at('message:finished', id), ...sent) - at('message:admitted', id);
      expect(p.totalMs).toBeCloseTo(e2e, 6);
      expect(p.stages.reduce((sum, s) => sum + s.ms, 0)).toBeCloseTo(p.totalMs, 6);
      expect(p).toMatchObject({ botName: 'LOA.i', outcome: 'replied', command: null, slow: false });
      expect(stage(p, 'onMessage', 'slowpoke')).toBeGreaterThanOrEqual(40);
      expect(stage(p, 'beforeReply', 'rewrite')).toBeGreaterThanOrEqual(2 * 7);
      expect(stage(p, 'onReceive')).toBeGreaterThanOrEqual(4);
      // The second reply is held until GAP_MS after the first one went out. Node's timers count
      // from the event loop's cached clock, which can lag performance.now() by a few ms on a busy
      // machine, so a timer may fire that much early: TIMER_SLACK_MS allows for it.
      const [first, second] = of(seen, 'reply:sent', id);
      const queuedSecond = of(seen, 'reply:queued', id)[1]!.at;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(GAP_MS - TIMER_SLACK_MS);
      expect(stage(p, 'hold')).toBeGreaterThanOrEqual(first!.at + GAP_MS - queuedSecond - TIMER_SLACK_MS);
      expect(stage(p, 'other')).toBeLessThan(0.5);
    }
    // The waits: admission to the job's start, split at the moment the room let the message run.
    // Only that split depends on when the dispatcher reacted to another job's end (microseconds on
    // a quiet machine, several ms on a starved one), so the bounds below are on the sum, on event
    // order, and on the side of the split that a late reaction can only lengthen.
    const startedAt = (id: string) => at('message:started', id);
    for (const id of [t2, t3]) {
      const waited = stage(profile(id), 'queue') + stage(profile(id), 'concurrency');
      expect(Math.abs(waited - (startedAt(id) - at('message:admitted', id)))).toBeLessThan(WAIT_SLACK_MS);
    }
    // One global slot: work 3 (another room) started once work 1 had finished, work 2 after work 3.
    expect(startedAt(t3)).toBeGreaterThanOrEqual(at('message:finished', t1));
    expect(startedAt(t2)).toBeGreaterThanOrEqual(at('message:finished', t3));
    // work 3's room had nothing before it: nearly all its wait was for the slot.
    expect(stage(profile(t3), 'queue')).toBeLessThan(stage(profile(t3), 'concurrency'));
    expect(stage(profile(t3), 'queue')).toBeLessThan(WAIT_SLACK_MS);
    // work 2 waited behind work 1 in its room (perRoom 1) at least until work 1 finished, then for
    // the slot work 3 had taken.
    expect(stage(profile(t2), 'queue')).toBeGreaterThanOrEqual(at('message:finished', t1) - at('message:admitted', t2) - WAIT_SLACK_MS);
    expect(stage(profile(t2), 'concurrency')).toBeGreaterThan(0);
  });

  it('logs a slow message with its whole trace', async () => {
    const seen: Seen[] = [];
    const { t, phone } = await profiled(seen, 30);
    await phone.shouldReply('work slow', ['first work slow', 'second work slow'], { timeoutMs: 5_000 });
    const line = await t.waitForLog(/^slow message: \d+ ms from admission to its last reply$/);
    const traceId = of(seen, 'message:admitted').find((e) => e.text === 'work slow')!.traceId;
    expect(line).toMatchObject({ category: 'plugin:profiler', level: 40, traceId, botName: 'LOA.i', outcome: 'replied' });
    expect(line.totalMs as number).toBeGreaterThanOrEqual(30);
    const steps = (line.trace as { event: string; atMs: number }[]).map((s) => s.event);
    expect(steps[0]).toBe('message:admitted');
    expect(steps).toContain('message:started');
    expect(steps.filter((s) => s === 'reply:sent')).toHaveLength(2);
    expect(steps).toContain('message:finished');
    expect(Object.keys(line.stages as object)).toEqual(expect.arrayContaining(['onMessage:slowpoke', 'beforeReply:rewrite', 'hold']));
  });

  it('answers # profile with a Korean summary for an admin only, and # profile reset clears it', async () => {
    const seen: Seen[] = [];
    const { phone } = await profiled(seen);
    await phone.shouldReply('work a', ['first work a', 'second work a'], { timeoutMs: 5_000 });
    await phone.shouldReply('# profile', '[ERROR] 관리자 전용 명령입니다.');
    phone.analyze({ text: '# profile', userHash: ADMIN });
    const summary = (await phone.nextReply()).text;
    expect(summary).toMatch(/^📈 처리 시간 프로파일 \(LOA\.i, 최근 2개 메시지\)\n전체: 평균 [\d.]+ms · 중앙값 [\d.]+ms · p95 [\d.]+ms · 최대 [\d.]+ms\n느린 메시지 \(60000ms 이상\): 0개\n/);
    expect(summary).toContain('• 플러그인 slowpoke: ');
    expect(summary).toContain('• 답장 변환 rewrite: ');
    expect(summary).toContain('• 일반 메시지: ');
    expect(summary).toContain('• # profile: ');
    await phone.shouldReply({ text: '# profile reset', userHash: ADMIN }, '🧹 프로파일 기록을 비웠습니다.');
    await phone.shouldReply({ text: '# profile', userHash: ADMIN }, /^📈 처리 시간 프로파일 \(LOA\.i, 최근 1개 메시지\)/);
  });

  it('exposes histograms on the bridge registry and removes them when it stops', async () => {
    const seen: Seen[] = [];
    const { t, phone } = await profiled(seen);
    await phone.shouldReply('work m', ['first work m', 'second work m'], { timeoutMs: 5_000 });
    await vi.waitFor(() => expect(of(seen, 'profile:message')).toHaveLength(1));
    const text = await t.bridge.metricsRegistry.metrics();
    expect(text).toMatch(/botbridge_profile_message_seconds_count\{command="\(none\)",outcome="replied"\} 1/);
    expect(text).toMatch(/botbridge_profile_stage_seconds_count\{stage="onMessage",plugin="slowpoke"\} 1/);
    expect(text).toMatch(/botbridge_profile_handler_seconds_count\{plugin="rewrite",hook="beforeReply",command="\(none\)"\} 2/);
    await t.close();
    expect(t.bridge.metricsRegistry.getSingleMetric('botbridge_profile_message_seconds')).toBeUndefined();
  });
});

describe('zero cost without the profiler', () => {
  it('leaves every event channel but the chat log\'s without subscribers, so the core builds no costly event', async () => {
    t = await createTestBridge({ plugins: [usePlugin(commands, {}), chatLog] });
    const phone = await t.client();
    await phone.shouldReply('# echo 안녕', '에코: 안녕');
    // The chat log records our replies from the reply:sent fact (it was the onReplySent hook).
    expect(CORE_EVENT_NAMES.filter((name) => t!.bridge.events.active(name))).toEqual(['reply:sent']);
  });

  it('listens only while it runs', async () => {
    t = await createTestBridge({ plugins: [commands, usePlugin(profiler, { metrics: false })] });
    expect(CORE_EVENT_NAMES.filter((name) => t!.bridge.events.active(name))).toEqual([
      'message:admitted',
      'message:started',
      'message:finished',
      'reply:queued',
      'reply:sent',
      'plugin:handler',
    ]);
    await t.close();
    expect(CORE_EVENT_NAMES.filter((name) => t!.bridge.events.active(name))).toEqual([]);
  });
});
