// Deploy figures: time from the new DU to the new release answering through the router, and the
// router's overhead next to hitting the app's process port directly (autocannon, same run).
import autocannon from 'autocannon';
import { containersLabelled, removeAppImages } from '../test/support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../test/support/git.js';
import { randomName, run, startSolum } from '../test/support/solum.js';
import { loadNote, median, seconds, table } from './lib.js';

const server = (text: string): string =>
  `require('http').createServer((q, s) => s.end(${JSON.stringify(text)})).listen(Number(process.env.PORT), '0.0.0.0');\n`;

async function load(url: string, host: string | undefined): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({ url, connections: 32, duration: 8, headers: host ? { host } : {} });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

async function main(): Promise<void> {
  const solum = await startSolum({ env: { SOLUM_LOG_LEVEL: 'warn' } });
  const app = randomName('bench-web');
  try {
    const client = await gitClient(solum, 'http');
    const repo = await makeRepo({ 'package.json': JSON.stringify({ name: 'b', version: '1.0.0', scripts: { start: 'node server.js' } }), 'server.js': server('v0') });
    const first = await client.git(['push', client.url(app), 'main'], repo);
    if (first.code !== 0) throw new Error(first.stderr);

    // (1) DU committed → new content through the router, and the whole push, over 5 releases.
    const duToServing: number[] = [];
    const pushes: number[] = [];
    for (let i = 1; i <= 5; i++) {
      await writeAndCommit(repo, { 'server.js': server(`v${i}`) }, `v${i}`);
      const t0 = Date.now();
      const push = await client.git(['push', client.url(app), 'main'], repo);
      if (push.code !== 0) throw new Error(push.stderr);
      pushes.push((Date.now() - t0) / 1000);
      const builds = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as { finishedAt: string }[];
      const duAt = Date.parse(builds[0]?.finishedAt ?? '');
      let served = Date.now();
      for (;;) {
        if ((await solum.viaRouter(app)).text === `v${i}`) break;
        await new Promise((r) => setTimeout(r, 10));
        served = Date.now();
      }
      duToServing.push((served - duAt) / 1000);
    }
    process.stdout.write(`Deploys of a node app (5 releases, grace period 2 s)\n${loadNote()}\n\n`);
    process.stdout.write(
      table(['figure', 'median s', 'runs s'], [
        ['DU committed → new release answering via router', seconds(median(duToServing)), duToServing.map(seconds).join(' ')],
        ['whole push (build + release)', seconds(median(pushes)), pushes.map(seconds).join(' ')],
      ]),
    );

    // (2) Router overhead: the same process, through the router and directly.
    const ps = (await solum.api('GET', `/v1/apps/${app}/processes`)).json as { port: number; state: string; containerId?: string }[];
    const live = ps.find((p) => p.state === 'up');
    if (!live) throw new Error('no live web process');
    // The process's address on its app's network (decision 0014), where the router reaches it too.
    const [id] = await containersLabelled(`io.solum.app=${app}`, 'io.solum.role=process');
    const address = id ? (await run('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])).stdout.trim() : '';
    const direct0 = `http://${address || '127.0.0.1'}:${live.port}/`;
    await load(direct0, undefined); // warm-up
    const direct = await load(direct0, undefined);
    const routed = await load(`http://127.0.0.1:${solum.routerPort}/`, `${app}.localhost`);
    process.stdout.write(`\n\nautocannon, 32 connections, 8 s each, one web process\n`);
    process.stdout.write(
      table(['path', 'requests/s', 'p99 ms', 'errors'], [
        ['direct to the process', direct.rps.toFixed(0), String(direct.p99), String(direct.errors)],
        ['through the Solum router', routed.rps.toFixed(0), String(routed.p99), String(routed.errors)],
        ['router / direct', `${(routed.rps / direct.rps).toFixed(2)}×`, `${(routed.p99 / Math.max(direct.p99, 1)).toFixed(2)}×`, ''],
      ]),
    );
    process.stdout.write(`\n${loadNote()}\n`);
  } finally {
    await solum.stop();
    await removeAppImages(app);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
