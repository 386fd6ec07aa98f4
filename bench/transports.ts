// Benchmark: push and clone of a 3000-commit repo through Solum SSH/HTTP against OpenSSH+git-shell, git http-backend and file://.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeSshIdentity, run, startSolum, type RunningSolum, type SshIdentity } from '../test/support/solum.js';
import {
  LOOPBACK,
  findBinary,
  loadNote,
  freePort,
  median,
  mustRun,
  ratio,
  seconds,
  startDaemon,
  stopAllDaemons,
  stopDaemonsOnInterrupt,
  table,
  tempDir,
  timeCommand,
  waitForPort,
  type Daemon,
} from './lib.js';

const COMMITS = 3000;
const FILES = 6;
const LINES = 200;
const REPS = 5;
const BRANCH = 'bench';
const TARGET = 1.1;
/** Keys `git init --bare` writes itself; everything else in a Solum repo's config is Solum's choice. */
const INIT_KEYS = new Set(['core.repositoryformatversion', 'core.filemode', 'core.bare']);

type TransportId = 'a' | 'b' | 'c' | 'd' | 'e';

interface Transport {
  readonly id: TransportId;
  readonly label: string;
  /** Creates a fresh, empty server-side repository (untimed) and returns its URL. */
  freshRepo(rep: number): Promise<string>;
}

interface Result {
  readonly push: number[];
  readonly clone: number[];
}

/** A fast-import stream: one first commit adding FILES files, then commits each rewriting a few lines of one file. */
function fastImportStream(): string {
  const files = Array.from({ length: FILES }, (_, f) =>
    Array.from({ length: LINES }, (_, l) => `file ${f} line ${String(l).padStart(3, '0')}: the quick brown fox jumps over the lazy dog`),
  );
  const out: string[] = [];
  const t0 = 1_700_000_000;
  for (let i = 0; i < COMMITS; i++) {
    const touched = i === 0 ? files.map((_, f) => f) : [i % FILES];
    for (const f of touched) {
      const lines = files[f]!;
      if (i > 0) for (let k = 0; k < 3; k++) lines[(i * 7 + k * 61) % LINES] = `file ${f} line changed by commit ${i}.${k}: ${((i * 2654435761) >>> 0).toString(16)}`;
    }
    const msg = `commit ${i}: ${i === 0 ? 'add the files' : `edit file-${touched[0] ?? 0}.txt`}\n`;
    out.push(`commit refs/heads/${BRANCH}\ncommitter Bench <bench@example.invalid> ${t0 + i * 60} +0000\ndata ${msg.length}\n${msg}`);
    for (const f of touched) {
      const content = `${files[f]!.join('\n')}\n`;
      out.push(`M 100644 inline src/file-${f}.txt\ndata ${content.length}\n${content}\n`);
    }
    out.push('\n');
  }
  out.push('done\n');
  return out.join('');
}

async function makeSourceRepo(dir: string): Promise<{ objects: number; packKiB: number; tip: string }> {
  await mustRun('git', ['init', '-q', '-b', BRANCH, dir]);
  await mustRun('git', ['fast-import', '--quiet', '--done'], { cwd: dir, input: fastImportStream() });
  await mustRun('git', ['repack', '-a', '-d', '-q'], { cwd: dir });
  await mustRun('git', ['checkout', '-q', BRANCH], { cwd: dir });
  const counts = new Map<string, string>();
  for (const line of (await mustRun('git', ['count-objects', '-v'], { cwd: dir })).stdout.split('\n')) {
    const [k, v] = line.split(': ');
    if (k && v) counts.set(k, v);
  }
  const tip = (await mustRun('git', ['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
  return { objects: Number(counts.get('in-pack') ?? 0), packKiB: Number(counts.get('size-pack') ?? 0), tip };
}

/** Solum's server-side settings, read from a repository Solum created (so the references get exactly the same). */
async function solumRepoConfig(repoDir: string): Promise<Array<readonly [string, string]>> {
  const r = await mustRun('git', ['config', '--file', path.join(repoDir, 'config'), '--list']);
  const entries: Array<readonly [string, string]> = [];
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const key = line.slice(0, i);
    if (!INIT_KEYS.has(key)) entries.push([key, line.slice(i + 1)]);
  }
  return entries;
}

async function makeBareRepo(dir: string, config: ReadonlyArray<readonly [string, string]>): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await mustRun('git', ['init', '-q', '--bare', '--initial-branch=main', dir]);
  for (const [k, v] of config) await mustRun('git', ['config', '--replace-all', k, v], { cwd: dir });
}

const solumApp = (runId: string, id: 'a' | 'b', rep: number): string => `tb-${runId}-${id}${rep}`;

/** (a)/(b): a new Solum app per repetition, created through the API (untimed) so the timed push finds an empty repo. */
function solumTransport(id: 'a' | 'b', solum: RunningSolum, env: NodeJS.ProcessEnv, src: string, runId: string): Transport {
  const ssh = id === 'a';
  return {
    id,
    label: ssh ? '(a) Solum SSH' : '(b) Solum HTTP',
    async freshRepo(rep) {
      const app = solumApp(runId, id, rep);
      const url = ssh ? `ssh://git@${LOOPBACK}:${solum.sshPort}/${app}.git` : `http://solum:${solum.token}@${LOOPBACK}:${solum.httpPort}/${app}.git`;
      const created = await solum.api('POST', '/v1/apps', { name: app });
      if (created.status !== 201) throw new Error(`creating ${app}: ${created.text}`);
      await fs.access(path.join(solum.dataDir, 'repos', `${app}.git`, 'HEAD'));
      return url;
    },
  };
}

async function startSshd(work: string, identity: SshIdentity): Promise<{ daemon: Daemon; port: number }> {
  const dir = path.join(work, 'sshd');
  await fs.mkdir(dir, { recursive: true });
  await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  await mustRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-host', '-f', hostKey]);
  const authorized = path.join(dir, 'authorized_keys');
  await fs.writeFile(authorized, `${identity.publicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await fs.writeFile(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${LOOPBACK}`,
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'PrintLastLog no',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'PermitTTY no',
      // Lets git speak protocol v2 over this SSH, as it does with Solum (which accepts GIT_PROTOCOL).
      'AcceptEnv GIT_PROTOCOL',
      // The key exchange Solum's ssh2 negotiates with this client (OpenSSH would otherwise pick the slower
      // sntrup761x25519): both sides then use curve25519-sha256 + chacha20-poly1305.
      'KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org',
      'ForceCommand git-shell -c "$SSH_ORIGINAL_COMMAND"',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const daemon = startDaemon('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', config]);
  try {
    await waitForPort(port);
  } catch (err) {
    await daemon.stop();
    throw new Error(`sshd did not start: ${daemon.output().trim()}`, { cause: err });
  }
  return { daemon, port };
}

async function startLighttpd(bin: string, work: string, projectRoot: string): Promise<{ daemon: Daemon; port: number }> {
  const dir = path.join(work, 'lighttpd');
  const docroot = path.join(dir, 'www');
  await fs.mkdir(docroot, { recursive: true });
  const backend = (await mustRun('git', ['--exec-path'])).stdout.trim();
  const port = await freePort();
  const config = path.join(dir, 'lighttpd.conf');
  const q = (s: string): string => JSON.stringify(s);
  await fs.writeFile(
    config,
    [
      'server.modules = ( "mod_alias", "mod_setenv", "mod_cgi" )',
      `server.document-root = ${q(docroot)}`,
      `server.bind = ${q(LOOPBACK)}`,
      `server.port = ${port}`,
      `server.pid-file = ${q(path.join(dir, 'lighttpd.pid'))}`,
      `server.errorlog = ${q(path.join(dir, 'error.log'))}`,
      `server.upload-dirs = ( ${q(dir)} )`,
      // Responses stream from the CGI as they come, like Solum's. Request bodies are buffered: git sends
      // large pushes chunked, and lighttpd's mod_cgi answers a streamed chunked body with 411.
      'server.stream-request-body = 0',
      'server.stream-response-body = 2',
      `alias.url = ( "/git/" => ${q(`${path.join(backend, 'git-http-backend')}/`)} )`,
      '$HTTP["url"] =~ "^/git/" {',
      '  cgi.assign = ( "" => "" )',
      `  setenv.set-environment = ( "GIT_PROJECT_ROOT" => ${q(projectRoot)}, "GIT_HTTP_EXPORT_ALL" => "1" )`,
      '}',
      '',
    ].join('\n'),
  );
  const check = await run(bin, ['-tt', '-f', config]);
  if (check.code !== 0) throw new Error(`lighttpd rejects its config: ${check.stderr.trim()} ${check.stdout.trim()}`);
  const daemon = startDaemon('lighttpd', bin, ['-D', '-f', config]);
  try {
    await waitForPort(port);
  } catch (err) {
    await daemon.stop();
    const log = await fs.readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    throw new Error(`lighttpd did not start: ${daemon.output().trim()} ${log.trim()}`, { cause: err });
  }
  return { daemon, port };
}

/** The git protocol version a fetch through `url` speaks (untimed, via GIT_TRACE_PACKET). */
async function protocolOf(url: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const r = await run('git', ['ls-remote', '--heads', url], { cwd, env: { ...env, GIT_TRACE_PACKET: '1' } });
  if (r.code !== 0) return '?';
  return /packet: +[\w-]+< version 2$/m.test(r.stderr) ? 'v2' : 'v0';
}

async function versionOf(cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args).catch(() => ({ code: 1, stdout: '', stderr: '' }));
  return `${r.stdout}${r.stderr}`.split('\n')[0]?.trim() ?? '';
}

async function main(): Promise<void> {
  const started = Date.now();
  const runId = randomBytes(3).toString('hex');
  const work = await tempDir('solum-bench-transports');
  let solum: RunningSolum | undefined;
  let identity: SshIdentity | undefined;
  stopDaemonsOnInterrupt(async () => {
    await solum?.stop();
  });
  try {
    const home = path.join(work, 'home');
    await fs.mkdir(home);
    identity = await makeSshIdentity();
    // The same client environment for every transport: no system or user git config, no prompts.
    const env: NodeJS.ProcessEnv = { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: identity.sshCommand };

    const src = path.join(work, 'src');
    const t0 = Date.now();
    const repo = await makeSourceRepo(src);
    console.log(`Source repo: ${COMMITS} commits touching ${FILES} files, ${repo.objects} objects, pack ${repo.packKiB} KiB (made in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const loadBefore = loadNote();
    console.log(`Pushed to refs/heads/${BRANCH} (not the deploy branch: no build); ${REPS} repetitions each, fresh bare repo / fresh clone dir each time; medians in seconds.`);

    solum = await startSolum();
    const key = await solum.api('POST', '/v1/users/admin/keys', { name: `bench-${runId}`, publicKey: identity.publicKey });
    if (key.status !== 201) throw new Error(`registering the SSH key failed: ${key.text}`);

    // The server-side settings of a Solum repo, copied onto every reference repo.
    const transports: Transport[] = [solumTransport('a', solum, env, src, runId), solumTransport('b', solum, env, src, runId)];
    await transports[0]!.freshRepo(0);
    const config = await solumRepoConfig(path.join(solum.dataDir, 'repos', `${solumApp(runId, 'a', 0)}.git`));
    const notes: string[] = [];

    const sshd = await startSshd(work, identity);
    const sshRoot = path.join(work, 'sshd-repos');
    transports.push({
      id: 'c',
      label: '(c) OpenSSH + git-shell',
      async freshRepo(rep) {
        const dir = path.join(sshRoot, `r${rep}.git`);
        await makeBareRepo(dir, config);
        return `ssh://root@${LOOPBACK}:${sshd.port}${dir}`;
      },
    });

    const lighttpdBin = await findBinary(['lighttpd']);
    if (lighttpdBin) {
      const projectRoot = path.join(work, 'http-repos');
      await fs.mkdir(projectRoot);
      const lighttpd = await startLighttpd(lighttpdBin, work, projectRoot);
      transports.push({
        id: 'd',
        label: '(d) git http-backend',
        async freshRepo(rep) {
          await makeBareRepo(path.join(projectRoot, `r${rep}.git`), [...config, ['http.receivepack', 'true']]);
          return `http://${LOOPBACK}:${lighttpd.port}/git/r${rep}.git`;
        },
      });
      notes.push(`(d) is git http-backend as a CGI of ${(await versionOf(lighttpdBin, ['-v'])).split(' ')[0] ?? 'lighttpd'} (request bodies buffered, responses streamed) on ${LOOPBACK}:${lighttpd.port}, without authentication (Solum HTTP authenticates every request).`);
    } else {
      console.log('!! lighttpd is not installed: skipping (d) git http-backend. Install it with `apt-get install -y lighttpd` to get the Solum HTTP reference.');
      notes.push('(d) skipped: lighttpd is not installed (apt-get install -y lighttpd).');
    }

    const fileRoot = path.join(work, 'file-repos');
    transports.push({
      id: 'e',
      label: '(e) file://',
      async freshRepo(rep) {
        const dir = path.join(fileRoot, `r${rep}.git`);
        await makeBareRepo(dir, config);
        return `file://${dir}`;
      },
    });

    const results = new Map<TransportId, Result>(transports.map((t) => [t.id, { push: [], clone: [] }]));
    const cloneUrls = new Map<TransportId, string>();
    // Interleaved (rep 1 of every transport, then rep 2, ...) so drifting machine load spreads evenly.
    for (let rep = 1; rep <= REPS; rep++) {
      for (const t of transports) {
        const url = await t.freshRepo(rep);
        results.get(t.id)!.push.push(await timeCommand('git', ['push', '-q', url, `refs/heads/${BRANCH}:refs/heads/${BRANCH}`], { cwd: src, env }));
        cloneUrls.set(t.id, url);
      }
    }
    const clones = path.join(work, 'clones');
    await fs.mkdir(clones);
    for (let rep = 1; rep <= REPS; rep++) {
      for (const t of transports) {
        const dest = path.join(clones, `${t.id}${rep}`);
        results.get(t.id)!.clone.push(await timeCommand('git', ['clone', '-q', '-b', BRANCH, cloneUrls.get(t.id)!, dest], { cwd: clones, env }));
        await fs.rm(dest, { recursive: true, force: true });
      }
    }

    const protocols = new Map<TransportId, string>();
    for (const t of transports) protocols.set(t.id, await protocolOf(cloneUrls.get(t.id)!, env, src));

    const med = (id: TransportId, what: keyof Result): number => median(results.get(id)?.[what] ?? []);
    const runs = (xs: readonly number[]): string => xs.map((x) => x.toFixed(3)).join(' ');
    console.log('');
    console.log(
      table(
        ['transport', 'push median s', 'clone median s', 'fetch protocol', 'push runs s', 'clone runs s'],
        transports.map((t) => {
          const r = results.get(t.id)!;
          return [t.label, seconds(med(t.id, 'push')), seconds(med(t.id, 'clone')), protocols.get(t.id) ?? '?', runs(r.push), runs(r.clone)];
        }),
      ),
    );

    const verdict = (r: number): string => (Number.isFinite(r) ? (r <= TARGET ? 'met' : 'MISSED') : 'n/a');
    const pairs: Array<readonly [string, TransportId, TransportId]> = [
      ['Solum SSH / (c) OpenSSH + git-shell', 'a', 'c'],
      ['Solum HTTP / (d) git http-backend', 'b', 'd'],
    ];
    console.log('');
    console.log(
      table(
        ['ratio', 'push', 'clone', 'target', 'push target', 'clone target'],
        pairs.map(([label, x, y]) => {
          const p = med(x, 'push') / med(y, 'push');
          const c = med(x, 'clone') / med(y, 'clone');
          return [label, ratio(p), ratio(c), `≤ ${TARGET.toFixed(2)}×`, verdict(p), verdict(c)];
        }),
      ),
    );
    console.log('');
    console.log('Notes:');
    console.log(`- ${await versionOf('git', ['--version'])}; ${await versionOf('ssh', ['-V'])}; Solum started in this process (PGlite).`);
    console.log('- Solum apps are created before the timed push (through the API, untimed); every reference repo gets the same server-side git config Solum gives its repos:');
    console.log(`  ${config.map(([k, v]) => `${k}=${v}`).join(', ')}.`);
    console.log('- (c) is OpenSSH sshd restricted to the key exchange Solum negotiates (curve25519-sha256, chacha20-poly1305); ForceCommand git-shell; repos addressed by absolute path.');
    console.log('- Solum pushes run its pre-receive hook (reports "stored without a build"); the reference repos have no hooks.');
    for (const n of notes) console.log(`- ${n}`);
    console.log(`- Total ${((Date.now() - started) / 1000).toFixed(1)} s; ${loadBefore} before the measurements, ${loadNote()} after (other work on the machine makes the figures noisy).`);
  } finally {
    await stopAllDaemons();
    await solum?.stop();
    if (identity) await fs.rm(path.dirname(identity.privateKeyPath), { recursive: true, force: true });
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
