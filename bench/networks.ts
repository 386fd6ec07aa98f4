// Container network figures (decision 0014), host network beside own networks in the same run:
// what a network costs a build and a deploy, and the router's throughput to an app on its own
// network against the same app on the host network (autocannon).
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createDockerEngine } from '../src/containers/docker-engine.js';
import { isolatedNetworks } from '../src/containers/networks.js';
import { createLogger } from '../src/logger.js';
import { removeAppImages } from '../test/support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../test/support/git.js';
import { randomName, startSolum, type RunningSolum } from '../test/support/solum.js';
import { loadNote, median, seconds, table } from './lib.js';

const server = (text: string): string => `require('http').createServer((q, s) => s.end(${JSON.stringify(text)})).listen(Number(process.env.PORT), '0.0.0.0');\n`;
const pkg = JSON.stringify({ name: 'b', version: '1.0.0', scripts: { start: 'node server.js' } });
const RUNS = 5;

async function load(port: number, host: string): Promise<{ rps: number; p99: number; errors: number }> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 32, duration: 8, headers: { host } });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

interface Pusher {
  first: number;
  /** One more push: the build's seconds (as recorded) and DU committed → new release serving. */
  next(i: number): Promise<{ build: number; deploy: number }>;
}

async function pusher(solum: RunningSolum, app: string): Promise<Pusher> {
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'package.json': pkg, 'server.js': server('v0') });
  const t0 = performance.now();
  const p0 = await client.git(['push', client.url(app), 'main'], repo);
  if (p0.code !== 0) throw new Error(p0.stderr);
  return {
    first: (performance.now() - t0) / 1000,
    async next(i) {
      await writeAndCommit(repo, { 'server.js': server(`v${i}`) }, `v${i}`);
      const push = await client.git(['push', client.url(app), 'main'], repo);
      if (push.code !== 0) throw new Error(push.stderr);
      const [b] = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as Array<{ startedAt: string; finishedAt: string }>;
      const done = Date.parse(b?.finishedAt ?? '');
      while ((await solum.viaRouter(app)).text !== `v${i}`) await new Promise((r) => setTimeout(r, 10));
      return { build: (done - Date.parse(b?.startedAt ?? '')) / 1000, deploy: (Date.now() - done) / 1000 };
    },
  };
}

async function main(): Promise<void> {
  // (1) The network itself: create + remove a build network, create a target network (Docker's part and Solum's).
  const nets = isolatedNetworks({
    engine: createDockerEngine({}),
    installation: `bench${Date.now().toString(16)}`.padEnd(16, '0').slice(0, 16),
    role: 'worker',
    pools: '10.213.0.0/16',
    networkPrefix: 26,
    egress: { caBundle: undefined, httpProxy: undefined, httpsProxy: undefined, noProxy: undefined },
    allow: [],
    appEgress: false,
    proxyPort: 0,
    staleBuildSeconds: 3600,
    logger: createLogger('silent'),
  });
  await nets.start();
  const buildNet: number[] = [];
  const targetNet: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const n = await nets.forBuild({ app: 'bench', buildId: i });
      await n.remove();
      buildNet.push((performance.now() - t0) / 1000);
      const t1 = performance.now();
      await nets.ofTarget({ key: `app-${i}`, app: 'bench' });
      targetNet.push((performance.now() - t1) / 1000);
      await nets.removeTarget(`app-${i}`);
    }
  } finally {
    await nets.stop();
  }

  // (2) The same app pushed RUNS times to a host-network Solum and to an isolated one, one after the other.
  const host = await startSolum({ env: { SOLUM_LOG_LEVEL: 'warn', SOLUM_CONTAINER_NETWORK: 'host' } });
  const own = await startSolum({ env: { SOLUM_LOG_LEVEL: 'warn' } });
  const [appHost, appOwn] = [randomName('bench-host'), randomName('bench-own')];
  try {
    // Interleaved, so a change in the machine's load hits both alike.
    const ph = await pusher(host, appHost);
    const po = await pusher(own, appOwn);
    const h = { first: ph.first, build: [] as number[], deploy: [] as number[] };
    const o = { first: po.first, build: [] as number[], deploy: [] as number[] };
    for (let i = 1; i <= RUNS; i++) {
      for (const [p, into] of [[ph, h], [po, o]] as const) {
        const r = await p.next(i);
        into.build.push(r.build);
        into.deploy.push(r.deploy);
      }
    }
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
    process.stdout.write(`Container networks: host network (reference) beside own networks, same run (${RUNS} interleaved runs, medians)\n${loadNote()}\n\n`);
    process.stdout.write(
      table(['figure', 'host network s', 'own networks s', 'own / host', 'runs (own) s'], [
        ['network create + remove (per build)', '0 (none made)', seconds(median(buildNet)), '', buildNet.map(seconds).join(' ')],
        ['target network create (first deploy only)', '0 (none made)', seconds(median(targetNet)), '', targetNet.map(seconds).join(' ')],
        ['build of a node app (network per build)', seconds(median(h.build)), seconds(median(o.build)), ratio(median(o.build), median(h.build)), o.build.map(seconds).join(' ')],
        ['DU committed → new release serving', seconds(median(h.deploy)), seconds(median(o.deploy)), ratio(median(o.deploy), median(h.deploy)), o.deploy.map(seconds).join(' ')],
        ['first push (build + first deploy)', seconds(h.first), seconds(o.first), ratio(o.first, h.first), ''],
      ]),
    );

    // (3) Router throughput to one web process: on the host's loopback, and on its own network.
    await load(host.routerPort, `${appHost}.localhost`);
    await load(own.routerPort, `${appOwn}.localhost`);
    const viaHost = await load(host.routerPort, `${appHost}.localhost`);
    const viaOwn = await load(own.routerPort, `${appOwn}.localhost`);
    process.stdout.write('\n\nRouter → one web process, autocannon, 32 connections, 8 s each (after a warm-up of each)\n');
    process.stdout.write(
      table(['path', 'requests/s', 'p99 ms', 'errors'], [
        ['app on the host network (reference)', viaHost.rps.toFixed(0), String(viaHost.p99), String(viaHost.errors)],
        ['app on its own network', viaOwn.rps.toFixed(0), String(viaOwn.p99), String(viaOwn.errors)],
        ['own / host', ratio(viaOwn.rps, viaHost.rps), ratio(viaOwn.p99, Math.max(viaHost.p99, 1)), ''],
      ]),
    );
    process.stdout.write(`\n${loadNote()}\n`);
  } finally {
    await host.stop();
    await own.stop();
    await removeAppImages(appHost);
    await removeAppImages(appOwn);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
