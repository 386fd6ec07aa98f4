// Router throughput beside nginx in the same run: one deployed node app answering a short string,
// reached directly, through nginx `proxy_pass` (1 worker, keepalive upstream) and through Solum's
// router (Host header), 32 connections, median of 3 interleaved
// rounds; then a load run across a deploy switch (keep-alive connections), which must lose nothing.
import fs from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { containersLabelled, removeAppImages } from '../test/support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../test/support/git.js';
import { randomName, run, startSolum } from '../test/support/solum.js';
import { findBinary, freePort, loadNote, median, mustRun, ratio, startDaemon, stopAllDaemons, stopDaemonsOnInterrupt, table, tempDir, waitForPort } from './lib.js';

const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const server = (text: string): string => `require('http').createServer((q, s) => s.end(${JSON.stringify(text)})).listen(Number(process.env.PORT), '0.0.0.0');\n`;

interface Figures {
  readonly rps: number;
  readonly p99: number;
  readonly errors: number;
}

/** One load run: wrk when installed (a C client takes less of the 2 CPUs), else autocannon. */
async function load(wrk: string | undefined, url: string, host: string | undefined): Promise<Figures> {
  if (wrk) {
    const r = await mustRun(wrk, ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', ...(host ? ['-H', `Host: ${host}`] : []), url]);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? 'NaN');
    const p99raw = /^\s+99%\s+([\d.]+)(us|ms|s)/m.exec(r.stdout);
    const p99 = p99raw ? Number(p99raw[1]) * (p99raw[2] === 'us' ? 0.001 : p99raw[2] === 's' ? 1000 : 1) : Number.NaN;
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.stdout);
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0);
    return { rps, p99, errors: non2xx + (socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0) };
  }
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers: host ? { host } : {} });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** nginx as the reference: one worker, a keepalive upstream to the app's process, no access log. */
async function startNginx(nginx: string, dir: string, port: number, upstream: string): Promise<{ stop(): Promise<void> }> {
  const conf = path.join(dir, 'nginx.conf');
  await fs.mkdir(path.join(dir, 'tmp'), { recursive: true });
  await fs.writeFile(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  upstream app { server ${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }
  }
}
`,
  );
  const d = startDaemon('nginx', nginx, ['-p', dir, '-c', conf]);
  await waitForPort(port, 10_000);
  return { stop: () => d.stop() };
}

/** Load through the router while a new release goes live: every request must be answered. */
async function acrossSwitch(routerPort: number, host: string, push: () => Promise<void>): Promise<{ requests: number; errors: number; non2xx: number }> {
  let stop = (): void => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url: `http://127.0.0.1:${routerPort}/`, connections: CONNECTIONS, duration: 60, headers: { host } }, (err, result) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(result);
    });
    stop = () => { instance.stop(); };
  });
  await new Promise((r) => setTimeout(r, 1000));
  await push();
  // Past the grace period, while the old process is retired.
  await new Promise((r) => setTimeout(r, 4000));
  stop();
  const r = await done;
  return { requests: r.requests.total, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

async function main(): Promise<void> {
  stopDaemonsOnInterrupt();
  const nginx = await findBinary(['nginx', '/usr/sbin/nginx']);
  if (!nginx) throw new Error('the reference needs nginx: apt-get install nginx');
  const wrk = await findBinary(['wrk']);
  const solum = await startSolum({ env: { SOLUM_LOG_LEVEL: 'warn' } });
  const app = randomName('bench-router');
  const dir = await tempDir('solum-bench-nginx');
  try {
    const client = await gitClient(solum, 'http');
    const repo = await makeRepo({ 'package.json': JSON.stringify({ name: 'b', version: '1.0.0', scripts: { start: 'node server.js' } }), 'server.js': server('hello') });
    const first = await client.git(['push', client.url(app), 'main'], repo);
    if (first.code !== 0) throw new Error(first.stderr);
    const [id] = await containersLabelled(`io.solum.app=${app}`, 'io.solum.role=process');
    const ip = id ? (await run('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])).stdout.trim() : '';
    if (!ip) throw new Error('no address for the web process');
    const upstream = `${ip}:5000`;
    const nginxPort = await freePort();
    const ref = await startNginx(nginx, dir, nginxPort, upstream);
    const host = `${app}.localhost`;
    const paths: Array<[string, string, string | undefined]> = [
      ['the app directly (its address on its network)', `http://${upstream}/`, undefined],
      ['nginx proxy_pass (1 worker, keepalive upstream)', `http://127.0.0.1:${nginxPort}/`, undefined],
      ["Solum's router (HAProxy, 1 thread; Host header)", `http://127.0.0.1:${solum.routerPort}/`, host],
    ];
    const runs = new Map<string, Figures[]>(paths.map(([name]) => [name, []]));
    for (const [, url, h] of paths) await load(wrk, url, h); // warm-up
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, url, h] of paths) runs.get(name)?.push(await load(wrk, url, h));
    }
    await ref.stop();
    const med = (name: string): Figures => {
      const r = runs.get(name) ?? [];
      return { rps: median(r.map((x) => x.rps)), p99: median(r.map((x) => x.p99)), errors: r.reduce((a, x) => a + x.errors, 0) };
    };
    const reference = med(paths[1]?.[0] ?? '');
    const rows = paths.map(([name]) => {
      const m = med(name);
      return [name, m.rps.toFixed(0), m.p99.toFixed(2), String(m.errors), ratio(m.rps / reference.rps), ratio(m.p99 / reference.p99)];
    });
    process.stdout.write(`Router throughput: ${wrk ? 'wrk -t2' : 'autocannon'}, ${CONNECTIONS} connections, ${SECONDS} s, median of ${ROUNDS} interleaved rounds; a node app answering "hello"\n`);
    process.stdout.write(`${table(['path', 'req/s', 'p99 ms', 'errors', 'req/s of nginx', 'p99 of nginx'], rows)}\n`);
    const sol = med(paths[2]?.[0] ?? '');
    process.stdout.write(`target: req/s ≥ 0.90× nginx (${ratio(sol.rps / reference.rps)}), p99 ≤ 1.50× nginx (${ratio(sol.p99 / reference.p99)})\n\n`);

    // A deploy switch under load: autocannon's keep-alive connections through the router.
    const sw = await acrossSwitch(solum.routerPort, host, async () => {
      await writeAndCommit(repo, { 'server.js': server('hello again') }, 'v2');
      const p = await client.git(['push', client.url(app), 'main'], repo);
      if (p.code !== 0) throw new Error(p.stderr);
    });
    process.stdout.write(`Across a deploy switch (autocannon, ${CONNECTIONS} keep-alive connections): ${sw.requests} requests, ${sw.errors} failed, ${sw.non2xx} not 2xx\n`);
    process.stdout.write(`${loadNote()}\n`);
  } finally {
    await solum.stop();
    await removeAppImages(app);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAllDaemons());
