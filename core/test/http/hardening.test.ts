import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BEARER, TOKEN, useAdmin } from './admin-harness.js';
import { DebugWs } from './ws-client.js';
import { runCli } from '../cli/run-cli.js';

/**
 * Issue 13, finding 7 (and the ban routes of finding 5): request and header timeouts, the debug
 * channel's message rate, bans listed and lifted over the admin API and the CLI.
 */

const { start, defer } = useAdmin();

/** Writes `head` on a raw socket and resolves with what the server answered and how long it kept the socket. */
function rawRequest(port: number, head: string, dribbleMs?: number): Promise<{ response: string; openMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let dribble: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      if (dribbleMs !== undefined) dribble = setInterval(() => socket.write('X-Slow: 1\r\n'), dribbleMs);
    });
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(dribble);
      resolve({ response, openMs: performance.now() - started });
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error('socket still open after 15 s'));
    }, 15_000).unref();
  });
}

describe('admin HTTP hardening', () => {
  it('cuts a request whose body never ends at http.requestTimeoutMs', async () => {
    const fixture = await start({ listen: true, http: { requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 } });
    const head = `POST /api/send HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"bot`;
    const { response, openMs } = await rawRequest(fixture.address!.port, head);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(openMs).toBeGreaterThanOrEqual(900);
  });

  it('closes a socket dribbling headers at http.headersTimeoutMs', async () => {
    const fixture = await start({ listen: true, http: { headersTimeoutMs: 1_000, requestTimeoutMs: 5_000 } });
    const { openMs } = await rawRequest(fixture.address!.port, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n', 100);
    expect(openMs).toBeGreaterThanOrEqual(900);
    expect(openMs).toBeLessThan(5_000);
  });

  it('closes a debug-channel client over its message rate', async () => {
    const fixture = await start({ listen: true, http: { wsMaxMessagesPerSecond: 5 } });
    const ws = await DebugWs.open(`${fixture.address!.url.replace('http', 'ws')}/api/debug`, BEARER);
    defer(() => ws.close());
    await ws.next((m) => m.type === 'hello');
    for (let i = 0; i < 30; i++) ws.send({ type: 'subscribe' });
    expect(await ws.closed).toBe(1008);
  });

  it('lists and lifts bans over the admin API and the CLI', async () => {
    const fixture = await start({ listen: true, config: { bans: { deviceThreshold: 1 } } });
    const phone = await fixture.client({ deviceId: 'banned0000000001' });
    expect((await phone.handshake).success).toBe(false);
    const url = fixture.address!.url;
    const listed = await fetch(`${url}/api/bans`, { headers: BEARER }).then((r) => r.json());
    expect(listed).toMatchObject([{ kind: 'device', subject: 'LOA.i/banned0000000001', reason: 'connect' }]);

    const env = { BOTBRIDGE_ADMIN_URL: url, BOTBRIDGE_ADMIN_TOKEN: TOKEN };
    const list = await runCli(['bans', 'list'], { cwd: process.cwd(), env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/device\s+LOA\.i\/banned0000000001\s+connect/);
    expect(list.stdout + list.stderr).not.toContain(TOKEN);
    const lift = await runCli(['bans', 'lift', 'device', 'LOA.i/banned0000000001'], { cwd: process.cwd(), env });
    expect(lift).toMatchObject({ code: 0, stdout: 'lifted device ban LOA.i/banned0000000001\n' });
    expect(await fetch(`${url}/api/bans`, { headers: BEARER }).then((r) => r.json())).toEqual([]);
    const again = await runCli(['bans', 'lift', 'device', 'LOA.i/banned0000000001'], { cwd: process.cwd(), env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/404/);
  });
});
