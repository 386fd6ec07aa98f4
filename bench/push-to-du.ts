// Benchmark: push→DU latency of a trivial app, against the bare push and a raw docker CLI pipeline doing the same build.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { removeAppImages } from '../test/support/docker.js';
import { makeRepo } from '../test/support/git.js';
import { makeSshIdentity, run, startSolum, type RunningSolum, type SshIdentity } from '../test/support/solum.js';
import { LOOPBACK, loadNote, median, mustRun, seconds, stopAllDaemons, stopDaemonsOnInterrupt, table, tempDir, timeCommand } from './lib.js';

const REPS = 5;
const TARGET_S = 0.3;
const PACK_IMAGE = 'solum/lp-shell:latest';
const DEPLOY_BRANCH = 'main';
const STORE_BRANCH = 'stash';

type Via = 'ssh' | 'http';
const VIAS: readonly Via[] = ['ssh', 'http'];

interface BuildJson {
  readonly status: string;
  readonly duImage: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

interface RawSteps {
  readonly create: number;
  readonly cp: number;
  readonly start: number;
  readonly commit: number;
  readonly rm: number;
  readonly total: number;
}

const appFiles = (marker: string): Record<string, string> => ({
  Procfile: 'web: cat greeting.txt\n',
  'greeting.txt': `hello from the push-to-DU benchmark (${marker})\n`,
  'build.sh': 'echo "building the greeting"\n',
});

/** `git archive HEAD | docker cp - <container>:/app`, both of which must succeed. */
function archiveInto(repo: string, container: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = spawn('git', ['archive', '--format=tar', 'HEAD'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const cp = spawn('docker', ['cp', '-', `${container}:/app`], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    archive.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    cp.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    cp.stdin.on('error', () => undefined);
    archive.stdout.pipe(cp.stdin);
    let pending = 2;
    let failed = false;
    const done = (what: string) => (code: number | null): void => {
      if (code !== 0) failed = true;
      if (code !== 0 && what === 'git archive') cp.stdin.destroy();
      if (--pending === 0) {
        if (failed) reject(new Error(`git archive | docker cp failed: ${stderr.trim()}`));
        else resolve();
      }
    };
    archive.on('error', reject);
    cp.on('error', reject);
    archive.on('close', done('git archive'));
    cp.on('close', done('docker cp'));
  });
}

/** The same build with the docker CLI: create (network none) → cp the tree → start -a → commit → rm. */
async function rawPipeline(repo: string, name: string, containers: Set<string>): Promise<RawSteps> {
  const lap = (t: number): number => (performance.now() - t) / 1000;
  const t0 = performance.now();
  let t = t0;
  const id = (
    await mustRun('docker', [
      'create', '--network', 'none', '--label', `io.solum.app=${name}`, '--label', 'io.solum.role=bench-raw-builder',
      PACK_IMAGE, '/bin/sh', '-c', '/solum/bin/build',
    ])
  ).stdout.trim();
  containers.add(id);
  const create = lap(t);
  t = performance.now();
  await archiveInto(repo, id);
  const cp = lap(t);
  t = performance.now();
  await mustRun('docker', ['start', '-a', id]);
  const start = lap(t);
  t = performance.now();
  await mustRun('docker', [
    'commit',
    '--change', 'WORKDIR /app',
    '--change', 'ENTRYPOINT []',
    '--change', `CMD ${JSON.stringify(['/bin/sh', '-c', 'cat greeting.txt'])}`,
    '--change', `LABEL io.solum.app=${name} io.solum.role=bench-raw-du`,
    id, `solum-bench/${name}:1`,
  ]);
  const commit = lap(t);
  t = performance.now();
  await mustRun('docker', ['rm', id]);
  containers.delete(id);
  const rm = lap(t);
  return { create, cp, start, commit, rm, total: lap(t0) };
}

function gitEnv(home: string, identity: SshIdentity): NodeJS.ProcessEnv {
  return { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: identity.sshCommand };
}

function appUrl(solum: RunningSolum, via: Via, app: string): string {
  return via === 'ssh' ? `ssh://git@${LOOPBACK}:${solum.sshPort}/${app}.git` : `http://solum:${solum.token}@${LOOPBACK}:${solum.httpPort}/${app}.git`;
}

/** Creates the app and its empty repo (untimed) through the API, so timed pushes never pay for creation. */
async function createApp(solum: RunningSolum, via: Via, app: string): Promise<string> {
  const created = await solum.api('POST', '/v1/apps', { name: app });
  if (created.status !== 201) throw new Error(`creating ${app}: ${created.text}`);
  return appUrl(solum, via, app);
}

async function onlyBuild(solum: RunningSolum, app: string): Promise<BuildJson> {
  const res = await solum.api('GET', `/v1/apps/${app}/builds`);
  const builds = res.json as BuildJson[] | undefined;
  const b = builds?.[0];
  if (res.status !== 200 || !b || b.status !== 'succeeded') throw new Error(`app ${app} has no succeeded build: ${res.text}`);
  return b;
}

const span = (from: string | null, to: string | null): number => (from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : Number.NaN);

async function main(): Promise<void> {
  const started = Date.now();
  const runId = randomBytes(3).toString('hex');
  const work = await tempDir('solum-bench-du');
  const apps = new Set<string>();
  const containers = new Set<string>();
  const repos: string[] = [];
  let solum: RunningSolum | undefined;
  let identity: SshIdentity | undefined;
  const cleanup = async (): Promise<void> => {
    if (containers.size > 0) await run('docker', ['rm', '-f', ...containers]);
    for (const app of apps) await removeAppImages(app);
  };
  stopDaemonsOnInterrupt(async () => {
    await solum?.stop();
    await cleanup();
  });
  try {
    const home = path.join(work, 'home');
    await fs.mkdir(home);
    identity = await makeSshIdentity();
    const env = gitEnv(home, identity);
    await mustRun('docker', ['image', 'inspect', '-f', '{{.Id}}', PACK_IMAGE]);

    solum = await startSolum();
    const key = await solum.api('POST', '/v1/users/admin/keys', { name: `bench-${runId}`, publicKey: identity.publicKey });
    if (key.status !== 201) throw new Error(`registering the SSH key failed: ${key.text}`);

    const loadBefore = loadNote();
    const pushS: Record<Via, number[]> = { ssh: [], http: [] };
    const duS: Record<Via, number[]> = { ssh: [], http: [] };
    const buildRan: number[] = [];
    const queued: number[] = [];
    const raws: RawSteps[] = [];

    // Warm-up (untimed): the first container of a run and Solum's first build pay one-off costs.
    {
      const repo = await makeRepo(appFiles(`warm-up ${runId}`));
      repos.push(repo);
      const raw = `pd-${runId}-raw0`;
      apps.add(raw);
      await rawPipeline(repo, raw, containers);
      const app = `pd-${runId}-w0`;
      apps.add(app);
      const url = await createApp(solum, 'ssh', app);
      await mustRun('git', ['push', '-q', url, DEPLOY_BRANCH], { cwd: repo, env });
    }

    for (let rep = 1; rep <= REPS; rep++) {
      // A new commit (and new apps) every repetition, so every push to main builds.
      const repo = await makeRepo(appFiles(`${runId} #${rep}`));
      repos.push(repo);

      const raw = `pd-${runId}-raw${rep}`;
      apps.add(raw);
      raws.push(await rawPipeline(repo, raw, containers));

      for (const via of VIAS) {
        // (1) The same commit to a branch that does not build: the transport's cost.
        const storeApp = `pd-${runId}-${via}${rep}-s`;
        apps.add(storeApp);
        const storeUrl = await createApp(solum, via, storeApp);
        pushS[via].push(await timeCommand('git', ['push', '-q', storeUrl, `${DEPLOY_BRANCH}:refs/heads/${STORE_BRANCH}`], { cwd: repo, env }));

        // (2) push→DU: the push to main returns only once the build committed its DU.
        const duApp = `pd-${runId}-${via}${rep}-d`;
        apps.add(duApp);
        const duUrl = await createApp(solum, via, duApp);
        duS[via].push(await timeCommand('git', ['push', '-q', duUrl, DEPLOY_BRANCH], { cwd: repo, env }));
        const b = await onlyBuild(solum, duApp);
        buildRan.push(span(b.startedAt, b.finishedAt));
        queued.push(span(b.createdAt, b.startedAt));
      }
    }

    const rawTotal = median(raws.map((r) => r.total));
    const runs = (xs: readonly number[]): string => xs.map((x) => x.toFixed(3)).join(' ');
    console.log(`push→DU of a trivial app (shell pack, build.sh echoes one line, Procfile web: cat greeting.txt); ${REPS} repetitions, new apps and a new commit each time; medians in seconds.`);
    console.log('');
    console.log(
      table(
        ['via', '(1) push, no build', '(2) push→DU', '(3) raw docker', '(2) − ((1) + (3))', `target ≤ ${TARGET_S.toFixed(3)}`, '(2) runs s'],
        VIAS.map((via) => {
          const push = median(pushS[via]);
          const du = median(duS[via]);
          const overhead = du - (push + rawTotal);
          return [`Solum ${via.toUpperCase()}`, seconds(push), seconds(du), seconds(rawTotal), seconds(overhead), overhead <= TARGET_S ? 'met' : 'MISSED', runs(duS[via])];
        }),
      ),
    );
    console.log('');
    console.log('(3) raw docker pipeline, median per step:');
    console.log(
      table(
        ['docker create', 'git archive | docker cp', 'docker start -a', 'docker commit', 'docker rm', 'total', 'total runs s'],
        [[
          seconds(median(raws.map((r) => r.create))),
          seconds(median(raws.map((r) => r.cp))),
          seconds(median(raws.map((r) => r.start))),
          seconds(median(raws.map((r) => r.commit))),
          seconds(median(raws.map((r) => r.rm))),
          seconds(rawTotal),
          runs(raws.map((r) => r.total)),
        ]],
      ),
    );
    console.log('');
    console.log(`Solum's own build records (all ${buildRan.length} DU builds): queued→started median ${seconds(median(queued))} s, started→finished median ${seconds(median(buildRan))} s.`);
    console.log(`Notes: builders run with network none (the shell pack's setting; the raw pipeline passes --network none); the raw pipeline includes git archive and commits the DU with the same CMD, and pays for five docker CLI start-ups where Solum calls the Docker API directly; apps are created through the API, untimed; total ${((Date.now() - started) / 1000).toFixed(1)} s; ${loadBefore} before the measurements, ${loadNote()} after.`);
  } finally {
    await stopAllDaemons();
    await solum?.stop();
    await cleanup();
    for (const r of repos) await fs.rm(r, { recursive: true, force: true });
    if (identity) await fs.rm(path.dirname(identity.privateKeyPath), { recursive: true, force: true });
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
