import { createServer, connect } from 'node:net';
const server = createServer((s) => { s.setNoDelay(true); s.on('data', () => s.write('{"event":"handshakeComplete","data":{"success":true}}\n')); s.on('error', () => {}); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as any).port;
const N = Number(process.argv[2] ?? 1000), C = Number(process.argv[3] ?? 100);
let next = 0; const socks: any[] = [];
const t0 = performance.now(); const cpu0 = process.cpuUsage();
await Promise.all(Array.from({ length: C }, async () => {
  while (next < N) { next++; await new Promise<void>((res) => { const s = connect({ port, host: '127.0.0.1' }); s.setNoDelay(true); s.write('{"hello":1}\n'); s.once('data', () => { socks.push(s); res(); }); }); }
}));
const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
console.log(`${N} in ${ms.toFixed(0)} ms = ${(N / ms * 1000).toFixed(0)}/s, cpu ${(cpu.user + cpu.system) / 1000} ms`);
for (const s of socks) s.destroy(); server.close();
