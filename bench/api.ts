// API throughput: Solum as its own process (`node dist/src/main.js`) on the embedded database and on
// PostgreSQL, loaded with autocannon (32 connections) on authenticated reads, next to /healthz of
// the same process (no database, no token) as the ceiling of the HTTP stack itself. Then the time a
// revoked token takes to stop working under that load.
import fs from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { createTestDatabase, type DatabaseKind } from '../test/support/database.js';
import { freePort, loadNote, median, ratio, startDaemon, stopAllDaemons, stopDaemonsOnInterrupt, table, tempDir, waitForPort } from './lib.js';

const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function load(url: string, token: string | undefined): Promise<{ rps: number; p99: number; errors: number }> {
  const runs: Array<{ rps: number; p99: number; errors: number }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers: token ? { authorization: `Bearer ${token}` } : {} });
    runs.push({ rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx });
  }
  return { rps: median(runs.map((r) => r.rps)), p99: median(runs.map((r) => r.p99)), errors: runs.reduce((a, r) => a + r.errors, 0) };
}

async function api(base: string, method: string, url: string, token: string, body?: unknown, type = 'application/json'): Promise<unknown> {
  const res = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) }, ...(body !== undefined ? { body: body instanceof Uint8Array ? body : JSON.stringify(body) } : {}) });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

async function measure(kind: DatabaseKind): Promise<string[][]> {
  const db = await createTestDatabase(kind);
  const dataDir = await tempDir('solum-bench-api-');
  const [http, ssh, router] = [await freePort(), await freePort(), await freePort()];
  const solum = startDaemon(`solum (${kind})`, process.execPath, [path.resolve('dist/src/main.js')], {
    ...process.env,
    SOLUM_DATA_DIR: dataDir,
    SOLUM_HTTP_PORT: String(http),
    SOLUM_SSH_PORT: String(ssh),
    SOLUM_ROUTER_PORT: String(router),
    SOLUM_LOG_LEVEL: 'warn',
    ...(db.url ? { DATABASE_URL: db.url } : {}),
  });
  try {
    await waitForPort(http, 60_000);
    const base = `http://127.0.0.1:${http}`;
    const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
    // A user who is not an admin, with an app of her own and one build of it (queued: no builder runs).
    await api(base, 'POST', '/v1/users', token, { name: 'alice' });
    const alice = ((await api(base, 'POST', '/v1/users/alice/tokens', token, { name: 'bench' })) as { token: string }).token;
    await api(base, 'POST', '/v1/apps', alice, { name: 'bench' });
    // A build that has finished (what most reads of a build are).
    const build = (await api(base, 'POST', '/v1/apps/bench/builds', alice, new Uint8Array(await tarOf()), 'application/x-tar')) as { id: number };
    for (let i = 0; i < 600; i++) {
      const b = (await api(base, 'GET', `/v1/builds/${build.id}`, alice)) as { status: string };
      if (b.status !== 'queued' && b.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rows: string[][] = [];
    const ceiling = await load(`${base}/healthz`, undefined);
    rows.push([kind, 'GET /healthz (no token, no database)', ceiling.rps.toFixed(0), ceiling.p99.toFixed(1), String(ceiling.errors), '1.00×']);
    for (const url of ['/v1/user', `/v1/builds/${build.id}`, '/v1/apps/bench']) {
      const r = await load(`${base}${url}`, alice);
      rows.push([kind, `GET ${url.replace(/\/\d+$/, '/:id')}`, r.rps.toFixed(0), r.p99.toFixed(1), String(r.errors), ratio(r.rps / ceiling.rps)]);
    }
    // A build still running changes under the server's feet (on PostgreSQL a worker elsewhere may
    // be running it): it is read from the database every time.
    const slow = (await api(base, 'POST', '/v1/apps/bench/builds', alice, new Uint8Array(await tarOf('sleep 60\n')), 'application/x-tar')) as { id: number };
    for (let i = 0; i < 600; i++) {
      const b = (await api(base, 'GET', `/v1/builds/${slow.id}`, alice)) as { status: string };
      if (b.status === 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const running = await load(`${base}/v1/builds/${slow.id}`, alice);
    rows.push([kind, 'GET /v1/builds/:id (running)', running.rps.toFixed(0), running.p99.toFixed(1), String(running.errors), ratio(running.rps / ceiling.rps)]);
    await api(base, 'POST', `/v1/builds/${slow.id}/cancel`, alice);
    // Revocation under load: how long a revoked token keeps answering 200.
    const tokens = (await api(base, 'GET', '/v1/users/alice/tokens', alice)) as Array<{ id: number }>;
    const loadRun = autocannon({ url: `${base}/v1/builds/${build.id}`, connections: 8, duration: 4, headers: { authorization: `Bearer ${alice}` } });
    await new Promise((r) => setTimeout(r, 1000));
    await api(base, 'DELETE', `/v1/users/alice/tokens/${tokens[0]!.id}`, token);
    const revokedAt = Date.now();
    let lastOk = revokedAt;
    for (;;) {
      const res = await fetch(`${base}/v1/builds/${build.id}`, { headers: { authorization: `Bearer ${alice}` } });
      await res.arrayBuffer();
      if (res.status === 200) lastOk = Date.now();
      else break;
      if (Date.now() - revokedAt > 10_000) break;
    }
    await loadRun;
    rows.push([kind, 'a revoked token stops working after', `${lastOk - revokedAt} ms`, '', '', '']);
    return rows;
  } finally {
    await solum.stop();
    await db.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** A one-file tar (build.sh), enough for an upload to become a queued build. */
async function tarOf(script = 'echo hi\n'): Promise<Buffer> {
  const { default: tarStream } = await import('tar-stream');
  const pack = tarStream.pack();
  pack.entry({ name: 'build.sh' }, script);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function main(): Promise<void> {
  stopDaemonsOnInterrupt();
  const rows = [...(await measure('pglite')), ...(await measure('postgres'))];
  process.stdout.write(`API throughput: autocannon, ${CONNECTIONS} connections, ${SECONDS} s, median of ${ROUNDS}; Solum alone in its process\n`);
  process.stdout.write(table(['database', 'request', 'req/s', 'p99 ms', 'errors', 'of /healthz'], rows));
  process.stdout.write(`${loadNote()}\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAllDaemons());
