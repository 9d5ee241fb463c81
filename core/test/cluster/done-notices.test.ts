import { spawn } from 'node:child_process';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterNames } from '../../src/cluster/cluster-keys.js';
import { AdmittedMemory } from '../../src/cluster/admitted-memory.js';
import { DoneNotices } from '../../src/cluster/done-notices.js';
import type { JournalEntry } from '../../src/store/types.js';
import { NATS_URL, natsUp, testPrefix, until } from './cluster-env.js';

/**
 * Done and admission notices against the real NATS server: a node's done keys reach the other
 * nodes (not itself) as one message per turn, are forgotten after their window or past the cap,
 * and leave the process in the turn they were made: a process SIGKILLed in its very next
 * macrotask has already sent them. Its admissions are held by the others, whole, until its done
 * key for them, and forgotten past their window or the per-node cap.
 */
describe.skipIf(!natsUp)('done notices (real NATS)', () => {
  const connections: NatsConnection[] = [];
  const notices: DoneNotices[] = [];
  afterEach(async () => {
    for (const n of notices.splice(0)) n.close();
    for (const nc of connections.splice(0)) await nc.close().catch(() => undefined);
  });

  async function node(prefix: string, nodeId: string, extra: { windowMs?: number; maxEntries?: number; now?: () => number; admissions?: AdmittedMemory; peers?: () => boolean } = {}): Promise<DoneNotices> {
    const nc = await connect({ servers: NATS_URL, timeout: 3_000 });
    connections.push(nc);
    const names = clusterNames(prefix);
    const n = new DoneNotices({ nc, nodeId, subject: names.doneNotices(nodeId), wildcard: names.allDoneNotices, querySubject: names.doneQuery, connected: () => !nc.isClosed(), ...extra });
    notices.push(n);
    // The subscription is registered at the server before anyone publishes.
    await nc.flush();
    return n;
  }

  const key = (logId: string) => ({ botName: '봇 이름', channelId: '18445682959392711', logId });

  it('tells the other nodes, in one message per turn, which messages and outbox rows this node finished', async () => {
    const prefix = testPrefix();
    const a = await node(prefix, 'a');
    const b = await node(prefix, 'b');
    const watcher = await connect({ servers: NATS_URL, timeout: 3_000 });
    connections.push(watcher);
    const seen: string[] = [];
    watcher.subscribe(clusterNames(prefix).allDoneNotices, { callback: (_error, msg) => void seen.push(msg.subject) });
    await watcher.flush();

    a.messageDone(key('1'));
    a.messageDone(key('2'));
    a.rowDelivered(7);
    await until(() => b.size === 3, 3_000, 'b remembers a\'s notices');
    expect([b.answeredElsewhere(key('1')), b.answeredElsewhere(key('2')), b.deliveredElsewhere(7)]).toEqual([true, true, true]);
    // Another message, another row, another bot's key: not announced.
    expect([b.answeredElsewhere(key('3')), b.deliveredElsewhere(8), b.answeredElsewhere({ ...key('1'), botName: 'other' })]).toEqual([false, false, false]);
    // A row id never passes for a journal key, nor the reverse.
    expect(b.answeredElsewhere({ botName: '', channelId: '', logId: '7' })).toBe(false);
    // Its own notices: a node never adopts its own rows, so it keeps none of them.
    expect([a.size, a.answeredElsewhere(key('1'))]).toEqual([0, false]);
    expect(seen).toEqual([`${prefix}.journal.done.a`]);
  });

  it('announces nothing while no other node is alive (nobody could adopt), and again as soon as one is', async () => {
    const prefix = testPrefix();
    let peers = false;
    const memB = new AdmittedMemory();
    const a = await node(prefix, 'a', { peers: () => peers });
    const b = await node(prefix, 'b', { admissions: memB });
    const watcher = await connect({ servers: NATS_URL, timeout: 3_000 });
    connections.push(watcher);
    let published = 0;
    watcher.subscribe(clusterNames(prefix).allDoneNotices, { callback: () => void (published += 1) });
    await watcher.flush();

    a.messageAdmitted(entry('1'));
    a.messageDone(key('1'));
    a.rowDelivered(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([published, b.size, memB.entriesOf('a').length]).toEqual([0, 0, 0]);

    peers = true;
    a.messageAdmitted(entry('2'));
    a.messageDone(key('3'));
    await until(() => published === 1 && b.size === 1, 3_000, 'the notice once a peer is alive');
    expect(memB.entriesOf('a').map((e) => e.logId)).toEqual(['2']);
    expect(b.answeredElsewhere(key('3'))).toBe(true);
  });

  const entry = (logId: string, deviceId = 'dev-1'): JournalEntry => ({
    ...key(logId), deviceId, roomKey: '18445682959392711', room: '방 이름', sender: '보낸이', text: `안녕 ${logId}`, userHash: null,
    isGroupChat: true, isMention: false, clientTimestamp: '1700000000000', traceId: `trace-${logId}`, admittedAt: new Date(1_700_000_000_123 + Number(logId)), doneAt: null,
  });

  it('holds each other node\'s admissions, whole and in order, until their done notices (one message per turn for both)', async () => {
    const prefix = testPrefix();
    const memA = new AdmittedMemory();
    const memB = new AdmittedMemory();
    const memC = new AdmittedMemory();
    const a = await node(prefix, 'a', { admissions: memA });
    const b = await node(prefix, 'b', { admissions: memB });
    await node(prefix, 'c', { admissions: memC });
    const watcher = await connect({ servers: NATS_URL, timeout: 3_000 });
    connections.push(watcher);
    const seen: string[] = [];
    watcher.subscribe(clusterNames(prefix).allDoneNotices, { callback: (_error, msg) => void seen.push(msg.subject) });
    await watcher.flush();

    for (const id of ['1', '2', '3']) a.messageAdmitted(entry(id));
    a.messageAdmitted(entry('4', 'dev-2'));
    // Admitted and answered in one turn: forgotten at once.
    a.messageDone(key('2'));
    b.messageAdmitted(entry('9'));
    await until(() => memB.size === 3 && memC.size === 4, 3_000, 'b and c hold a\'s admissions, c also b\'s');
    expect(memB.entriesOf('a')).toEqual([entry('1'), entry('3'), entry('4', 'dev-2')]);
    expect(memB.entriesOf('a', { botName: '봇 이름', deviceId: 'dev-2' }).map((e) => e.logId)).toEqual(['4']);
    expect(memC.entriesOf('b')).toEqual([entry('9')]);
    // Its own admissions: a node never restores its own rows.
    expect([memA.entriesOf('a'), memA.size]).toEqual([[], 1]);
    // One message per node per turn, admissions and done keys together.
    await until(() => seen.length >= 2, 3_000, 'the watcher saw both');
    expect(seen.sort()).toEqual([`${prefix}.journal.done.a`, `${prefix}.journal.done.b`]);

    a.messageDone(key('1'));
    await until(() => memB.size === 2, 3_000, 'b forgets a\'s answered message');
    expect(memB.entriesOf('a').map((e) => e.logId)).toEqual(['3', '4']);
    // Another node's done key for the same message does not touch a's admissions.
    memB.done('c', '봇 이름', key('3').channelId, '3');
    // Restored: the rows decide from then.
    memB.forget('a', [key('3')]);
    expect(memB.entriesOf('a').map((e) => e.logId)).toEqual(['4']);
  });

  it('forgets admissions past their window and the oldest past the per-node cap, and counts them', async () => {
    const prefix = testPrefix();
    let now = 1_000;
    const forgotten: Record<string, number> = {};
    const memory = new AdmittedMemory({ windowMs: 1_000, maxPerNode: 3, now: () => now, onForgotten: (reason, n) => void (forgotten[reason] = (forgotten[reason] ?? 0) + n) });
    const a = await node(prefix, 'a');
    const z = await node(prefix, 'z');
    await node(prefix, 'b', { admissions: memory });
    a.messageAdmitted(entry('1'));
    await until(() => memory.size === 1, 3_000, 'first admission');
    now += 600;
    a.messageAdmitted(entry('2'));
    z.messageAdmitted(entry('7'));
    await until(() => memory.size === 3, 3_000, 'second admission, and z\'s');
    now += 500;
    expect(memory.entriesOf('a').map((e) => e.logId)).toEqual(['2']);
    expect(forgotten).toEqual({ expired: 1 });
    for (const id of ['3', '4', '5']) a.messageAdmitted(entry(id));
    await until(() => memory.entriesOf('a').some((e) => e.logId === '5'), 3_000, 'three more admissions');
    // The cap is per node: z's admission stays.
    expect([memory.entriesOf('a').map((e) => e.logId), memory.entriesOf('z').map((e) => e.logId)]).toEqual([['3', '4', '5'], ['7']]);
    expect(forgotten).toEqual({ expired: 1, evicted: 1 });
    now += 1_000;
    expect([memory.entriesOf('a'), memory.size, forgotten]).toEqual([[], 0, { expired: 5, evicted: 1 }]);
  });

  it('forgets a notice after its window, and the oldest first past the cap', async () => {
    const prefix = testPrefix();
    let now = 1_000;
    const a = await node(prefix, 'a');
    const b = await node(prefix, 'b', { windowMs: 1_000, maxEntries: 3, now: () => now });
    a.messageDone(key('1'));
    await until(() => b.size === 1, 3_000, 'first notice');
    now += 600;
    a.messageDone(key('2'));
    await until(() => b.size === 2, 3_000, 'second notice');
    now += 500;
    expect([b.answeredElsewhere(key('1')), b.answeredElsewhere(key('2'))]).toEqual([false, true]);
    for (const id of ['3', '4', '5']) a.messageDone(key(id));
    await until(() => b.answeredElsewhere(key('5')), 3_000, 'three more notices');
    expect(b.size).toBe(3);
    expect(['2', '3', '4', '5'].map((id) => b.answeredElsewhere(key(id)))).toEqual([false, true, true, true]);
  });

  it('tells a run restarted under a dead run\'s id which of its rows that run had announced done', async () => {
    const prefix = testPrefix();
    const before = await node(prefix, 'a');
    const b = await node(prefix, 'b');
    before.messageDone(key('1'));
    before.messageDone(key('2'));
    await until(() => b.size === 2, 3_000, 'b remembers the first run\'s notices');
    notices.splice(notices.indexOf(before), 1);
    before.close();
    const restarted = await node(prefix, 'a');
    const known = await restarted.askAnswered([key('1'), key('3'), key('2'), { ...key('1'), channelId: '0' }], 1, 2_000);
    expect([...known].sort()).toEqual([0, 2]);
    // No other node alive: nothing to ask.
    expect(await restarted.askAnswered([key('1')], 0, 2_000)).toEqual(new Set());
  });

  it('has sent a notice when the process is SIGKILLed in its next macrotask (no timer between the write and NATS)', async () => {
    const prefix = testPrefix();
    const b = await node(prefix, 'b');
    const source = new URL('../../src/cluster/done-notices.ts', import.meta.url).href;
    const script = `
      import { connect } from '@nats-io/transport-node';
      import { DoneNotices } from ${JSON.stringify(source)};
      const nc = await connect({ servers: ${JSON.stringify(NATS_URL)} });
      const notices = new DoneNotices({ nc, nodeId: 'a', subject: '${prefix}.journal.done.a', wildcard: '${prefix}.journal.done.*', querySubject: '${prefix}.journal.done-query', connected: () => true });
      await nc.flush();
      // As Journal.markDone runs right after a reply's socket write: then the process dies.
      for (let i = 0; i < 50; i += 1) notices.messageDone({ botName: 'bot', channelId: '1', logId: String(i) });
      notices.rowDelivered(99);
      setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../../', import.meta.url).pathname, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, s) => resolve(s)));
    expect({ signal, stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    await until(() => b.size === 51, 3_000, 'the killed process\'s notices');
    expect(b.answeredElsewhere({ botName: 'bot', channelId: '1', logId: '49' })).toBe(true);
    expect(b.deliveredElsewhere(99)).toBe(true);
  });
});
