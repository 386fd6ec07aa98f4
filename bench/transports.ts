// Benchmark: push of all refs + mirror clone through Solum SSH and HTTP beside OpenSSH + git-shell and nginx + git http-backend, small and large repository.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { makeSshIdentity, run, type SshIdentity } from '../test/support/solum.js';
import { ANCHOR_PACKAGES, anchorVersions, ensureAnchorPackages, startNginx, startSshd, type Anchor, type HttpAnchor } from './anchors.js';
import { LOOPBACK, loadNote, median, mustRun, ratio, seconds, stopAllDaemons, stopDaemonsOnInterrupt, table, tempDir } from './lib.js';
import { PAYLOADS, ensurePayload, type Payload } from './payloads.js';
import { sampleRss, solumPids, startSolumServer, type SolumServer } from './solum-server.js';

/** The issue's targets: Solum within 5 % of its anchor, server RSS growth within 50 MiB during a transfer. */
const TARGET = 1.05;
const RSS_LIMIT_MIB = 50;
/** Keys `git init --bare` writes itself; everything else in a Solum repo's config is Solum's choice. */
const INIT_KEYS = new Set(['core.repositoryformatversion', 'core.filemode', 'core.bare']);
const PUSH_REFSPECS = ['refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'];

/** `anchor`: what Solum is held to; `reference`: printed beside it for comparison. */
type Side = 'solum' | 'anchor' | 'reference';
type Wire = 'ssh' | 'http';

interface Target {
  readonly wire: Wire;
  readonly side: Side;
  readonly label: string;
  /** The server's processes, whose RSS is sampled during each transfer (reported for Solum only). */
  readonly pids: readonly number[];
  /** A fresh, empty server-side repository (made untimed); returns its URL. */
  freshRepo(tag: string): Promise<string>;
}

interface Sample {
  readonly push: number[];
  readonly clone: number[];
  /** Largest Solum RSS growth seen during a push / a clone (bytes); anchors are not sampled. */
  pushRss: number;
  cloneRss: number;
}

async function solumRepoConfig(repoDir: string): Promise<Array<readonly [string, string]>> {
  const r = await mustRun('git', ['config', '--file', path.join(repoDir, 'config'), '--list']);
  const entries: Array<readonly [string, string]> = [];
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && !INIT_KEYS.has(line.slice(0, i))) entries.push([line.slice(0, i), line.slice(i + 1)]);
  }
  return entries;
}

async function makeBareRepo(dir: string, config: ReadonlyArray<readonly [string, string]>): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await mustRun('git', ['init', '-q', '--bare', '--initial-branch=main', dir]);
  for (const [k, v] of config) await mustRun('git', ['config', '--replace-all', k, v], { cwd: dir });
}

/** Wall-clock seconds of one git command (which must succeed), with the RSS growth of `pids` meanwhile. */
async function timed(args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }, pids?: readonly number[]): Promise<{ seconds: number; rss: number }> {
  const sampler = pids === undefined ? undefined : sampleRss(pids);
  const t0 = performance.now();
  const r = await run('git', args, opts);
  const s = (performance.now() - t0) / 1000;
  const rss = sampler ? await sampler.stop() : Number.NaN;
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} exited with ${r.code}:\n${r.stderr.trim().slice(-2000)}`);
  return { seconds: s, rss };
}

/** The protocol version and (SSH) cipher a transport negotiates, read untimed from traces. */
async function wireNote(url: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const r = await run('git', ['ls-remote', '--heads', url], { cwd, env: { ...env, GIT_TRACE_PACKET: '1', GIT_SSH_COMMAND: `${env.GIT_SSH_COMMAND ?? 'ssh'} -v` } });
  const version = /packet: +[\w-]+< version 2$/m.test(r.stderr) ? 'v2' : 'v0';
  const cipher = /kex: server->client cipher: (\S+) MAC: (\S+) compression: (\S+)/.exec(r.stderr);
  return cipher ? `${version}, ${cipher[1] ?? '?'} ${cipher[2] === '<implicit>' ? '' : `${cipher[2] ?? ''} `}compression ${cipher[3] ?? '?'}`.replace(/ +/g, ' ') : version;
}

/** Median milliseconds of a `git ls-remote` (connection, authentication, ref advertisement) of a small repo. */
async function lsRemoteMs(url: string, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) times.push((await timed(['ls-remote', url], { cwd, env })).seconds * 1000);
  return median(times);
}

const MiB = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 1024 / 1024).toFixed(1) : '—');

async function benchPayload(payload: Payload, reps: number, targets: readonly Target[], env: NodeJS.ProcessEnv, work: string): Promise<Map<Target, Sample>> {
  const samples = new Map<Target, Sample>(targets.map((t) => [t, { push: [], clone: [], pushRss: 0, cloneRss: 0 }]));
  const clones = path.join(work, `clones-${payload.spec.name}`);
  await fs.mkdir(clones, { recursive: true });
  // Interleaved (rep 1 of every target, then rep 2, ...) so drifting machine load spreads evenly.
  for (let rep = 1; rep <= reps; rep++) {
    for (const t of targets) {
      const s = samples.get(t);
      if (!s) continue;
      const url = await t.freshRepo(`${payload.spec.name}${rep}-${t.wire}-${t.side}`);
      const push = await timed(['push', '-q', url, ...PUSH_REFSPECS], { cwd: payload.dir, env }, t.pids);
      s.push.push(push.seconds);
      s.pushRss = Math.max(s.pushRss, push.rss);
      const dest = path.join(clones, `${t.wire}-${t.side}-${rep}.git`);
      const clone = await timed(['clone', '-q', '--mirror', url, dest], { cwd: clones, env }, t.pids);
      s.clone.push(clone.seconds);
      s.cloneRss = Math.max(s.cloneRss, clone.rss);
      // Untimed: the mirror holds every ref (a broken transport must not look fast).
      const refs = (await mustRun('git', ['for-each-ref', '--format=%(refname)'], { cwd: dest })).stdout.trim().split('\n').length;
      if (refs !== payload.refs) throw new Error(`${t.label}: the mirror clone has ${refs} refs, the payload ${payload.refs}`);
      await fs.rm(dest, { recursive: true, force: true });
    }
  }
  return samples;
}

async function main(): Promise<void> {
  const started = Date.now();
  const runId = randomBytes(3).toString('hex');
  const work = await tempDir('solum-bench-transports');
  const which = (process.env.SOLUM_BENCH_PAYLOADS ?? 'small,large').split(',').filter((p): p is 'small' | 'large' => p === 'small' || p === 'large');
  const repsOf = (p: 'small' | 'large'): number => Number(process.env.SOLUM_BENCH_REPS ?? (p === 'small' ? 5 : 3));
  let solum: SolumServer | undefined;
  let identity: SshIdentity | undefined;
  stopDaemonsOnInterrupt(async () => {
    await solum?.stop();
  });
  try {
    const missing = await ensureAnchorPackages();
    if (missing.length > 0) throw new Error(`the reference servers are missing: apt-get install -y ${ANCHOR_PACKAGES.join(' ')}`);
    const home = path.join(work, 'home');
    await fs.mkdir(home);
    identity = await makeSshIdentity();
    // One client environment for every target: no system or user git config, no prompts.
    const env: NodeJS.ProcessEnv = { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: identity.sshCommand };

    const payloads: Payload[] = [];
    for (const p of which) {
      const { payload, madeInSeconds } = await ensurePayload(PAYLOADS[p]);
      payloads.push(payload);
      console.log(
        `Payload ${p}: ${payload.spec.commits} commits, ${payload.objects} objects, ${payload.refs} refs, pack ${payload.packMiB.toFixed(1)} MiB (${madeInSeconds > 0 ? `generated in ${madeInSeconds.toFixed(1)} s` : 'reused'}: ${payload.dir})`,
      );
    }

    solum = await startSolumServer();
    const server = solum;
    const key = await server.api('POST', '/v1/users/admin/keys', { name: `bench-${runId}`, publicKey: identity.publicKey });
    if (key.status !== 201) throw new Error(`registering the SSH key failed: ${key.text}`);
    let appNo = 0;
    const solumRepo = async (wire: Wire): Promise<string> => {
      const app = `tb-${runId}-${wire}-${++appNo}`;
      const created = await server.api('POST', '/v1/apps', { name: app });
      if (created.status !== 201) throw new Error(`creating ${app}: ${created.text}`);
      return wire === 'ssh' ? `ssh://git@${LOOPBACK}:${server.sshPort}/${app}.git` : `http://solum:${server.token}@${LOOPBACK}:${server.httpPort}/${app}.git`;
    };
    // The server-side settings of a Solum repo, copied onto every reference repo.
    await solumRepo('ssh');
    const config = await solumRepoConfig(path.join(server.dataDir, 'repos', `tb-${runId}-ssh-1.git`));

    const sshRoot = path.join(work, 'sshd-repos');
    const httpRoot = path.join(work, 'http-repos');
    await fs.mkdir(sshRoot);
    await fs.mkdir(httpRoot);
    const sshd: Anchor = await startSshd(work, identity);
    const nginx: HttpAnchor = await startNginx(work, httpRoot);
    const httpRepo = async (tag: string): Promise<string> => {
      const dir = path.join(httpRoot, `${tag}.git`);
      await makeBareRepo(dir, [...config, ['http.receivepack', 'true']]);
      return dir;
    };
    const pidsOf = (anchor: Anchor): number[] => anchor.daemons.map((d) => d.pid);
    const solumSide = await solumPids(server.daemon.pid);
    const targets: Target[] = [
      {
        wire: 'ssh',
        side: 'anchor',
        label: 'OpenSSH + git-shell',
        pids: pidsOf(sshd),
        async freshRepo(tag) {
          const dir = path.join(sshRoot, `${tag}.git`);
          await makeBareRepo(dir, config);
          return sshd.url(dir);
        },
      },
      { wire: 'ssh', side: 'solum', label: 'Solum SSH', pids: solumSide, freshRepo: () => solumRepo('ssh') },
      // Solum authenticates every request, and git asks without credentials first: the anchor
      // does the same behind auth_basic. The one without authentication is printed beside it.
      { wire: 'http', side: 'anchor', label: 'nginx + http-backend, auth', pids: pidsOf(nginx), freshRepo: async (tag) => nginx.authUrl(await httpRepo(tag)) },
      { wire: 'http', side: 'reference', label: 'nginx + http-backend, no auth', pids: pidsOf(nginx), freshRepo: async (tag) => nginx.url(await httpRepo(tag)) },
      { wire: 'http', side: 'solum', label: 'Solum HTTP', pids: solumSide, freshRepo: () => solumRepo('http') },
    ];
    // SOLUM_BENCH_WIRES=ssh or =http measures one transport alone (default: both).
    const wires = new Set((process.env.SOLUM_BENCH_WIRES ?? 'ssh,http').split(','));
    targets.splice(0, targets.length, ...targets.filter((t) => wires.has(t.wire)));
    const notes = new Map<Target, string>();
    const latency = new Map<Target, number>();
    for (const t of targets) {
      const probe = await t.freshRepo(`probe-${t.wire}-${t.side}`);
      notes.set(t, await wireNote(probe, env, work));
      latency.set(t, await lsRemoteMs(probe, env, work));
    }

    const loadBefore = loadNote();
    const rows: string[][] = [];
    const ratios: string[][] = [];
    for (const payload of payloads) {
      const reps = repsOf(payload.spec.name as 'small' | 'large');
      console.log(`Measuring ${payload.spec.name}: ${reps} repetitions of push (all refs into an empty repo) + mirror clone per target...`);
      const samples = await benchPayload(payload, reps, targets, env, work);
      const med = (t: Target, what: 'push' | 'clone'): number => median(samples.get(t)?.[what] ?? []);
      for (const t of targets) {
        const s = samples.get(t);
        if (!s) continue;
        rows.push([
          `${payload.spec.name} ${t.wire}`,
          t.label,
          seconds(med(t, 'push')),
          seconds(med(t, 'clone')),
          seconds(med(t, 'push') + med(t, 'clone')),
          t.side === 'solum' ? `${MiB(s.pushRss)} / ${MiB(s.cloneRss)}` : '—',
          (latency.get(t) ?? Number.NaN).toFixed(0),
          notes.get(t) ?? '',
        ]);
      }
      for (const [wire, side] of [['ssh', 'anchor'], ['http', 'anchor'], ['http', 'reference']] as const) {
        const anchor = targets.find((t) => t.wire === wire && t.side === side);
        const ours = targets.find((t) => t.wire === wire && t.side === 'solum');
        if (!anchor || !ours) continue;
        const p = med(ours, 'push') / med(anchor, 'push');
        const c = med(ours, 'clone') / med(anchor, 'clone');
        const total = (med(ours, 'push') + med(ours, 'clone')) / (med(anchor, 'push') + med(anchor, 'clone'));
        const s = samples.get(ours);
        const rssOk = s ? Math.max(s.pushRss, s.cloneRss) <= RSS_LIMIT_MIB * 1024 * 1024 : false;
        const verdict = side === 'anchor' ? (total <= TARGET ? 'met' : 'MISSED') : '(reference)';
        ratios.push([`${payload.spec.name} ${wire}`, `${ours.label} / ${anchor.label}`, ratio(p), ratio(c), ratio(total), verdict, rssOk ? 'met' : 'MISSED']);
      }
    }

    console.log('');
    console.log(table(['payload', 'server', 'push s', 'clone s', 'push+clone s', 'RSS growth MiB (push / clone)', 'ls-remote ms', 'fetch protocol, SSH cipher'], rows));
    console.log('');
    console.log(table(['payload', 'ratio', 'push', 'clone', 'push+clone', `≤ ${TARGET.toFixed(2)}×`, `RSS ≤ ${RSS_LIMIT_MIB} MiB`], ratios));
    console.log('');
    console.log('Notes:');
    console.log(`- Medians of the repetitions, seconds of wall clock of the git client. ${await anchorVersions()}.`);
    console.log('- Push: every branch and tag into a new empty repository (Solum: a new app made through the API, untimed; its pre-receive hook runs');
    console.log('  and reports each ref "stored without a build"; the reference repos have no hooks). Clone: git clone --mirror of that repository.');
    console.log('- Every reference repo gets the server-side git config Solum gives its repos:');
    console.log(`  ${config.map(([k, v]) => `${k}=${v}`).join(', ')}.`);
    console.log('- Solum runs as its own process (node dist/src/main.js, PGlite, log level info); the RSS of it and of its git helper process is read');
    console.log('  from /proc every 25 ms during each transfer (the reference servers\' daemons are sampled alike). ls-remote ms: median of 7 ls-remotes of an empty repo (connection, authentication,');
    console.log('  ref advertisement; OpenSSH forks and re-executes sshd for every connection).');
    console.log('- nginx: one worker, fcgiwrap with 4 children, request and response bodies streamed (fastcgi_request_buffering off, fastcgi_buffering off), gzip off;');
    console.log('  "auth" is the same location behind auth_basic (git gets a 401 first and repeats with its credentials, as it does with Solum).');
    console.log(`- Total ${((Date.now() - started) / 1000).toFixed(1)} s; ${loadBefore} before the measurements, ${loadNote()} after (other work on the machine makes the figures noisy).`);
  } finally {
    await stopAllDaemons();
    await solum?.stop();
    if (identity) await fs.rm(path.dirname(identity.privateKeyPath), { recursive: true, force: true });
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
