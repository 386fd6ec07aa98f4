// Pull builds: Solum fetches the app's source (https, ssh with a per-app deploy key, or — for
// admins — file) into its own ref namespace `refs/solum/source/*` and builds the named commit.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { AppService } from '../../apps/app-service.js';
import type { App } from '../../db/app-store.js';
import type { Build, BuildStore } from '../../db/build-store.js';
import type { AppSource, SourceStore } from '../../db/source-store.js';
import type { User } from '../../db/user-store.js';
import { AppError, badRequest, conflict, forbidden } from '../../errors.js';
import { gitEnv, runGit } from '../../git/git-process.js';
import { atLeast, type AppRole } from '../../roles.js';
import { maskUrlCredentials } from '../../terminal-text.js';
import { checkOutboundUrl } from '../../outbound-url.js';
import { snapshotCommit } from '../runner/archive.js';
import type { BuildQueue } from '../queue/build-queue.js';

export interface SourceView {
  readonly url: string | null;
  readonly ref: string | null;
  /** The public half of the deploy key Solum fetches ssh:// sources with. */
  readonly deployKey: string | null;
}

export type PullResult = { readonly build: Build } | { readonly skipped: string; readonly commit: string };

export interface PullBuilds {
  source(actor: User | null, app: string): Promise<SourceView>;
  setSource(actor: User | null, app: string, source: { url: string; ref?: string | undefined }): Promise<SourceView>;
  /** Fetches and queues a build. `actor` null means a verified webhook (already authorized). */
  pull(
    actor: User | null,
    app: string,
    request: { ref?: string | undefined; commit?: string | undefined; onlyIfChanged?: boolean; source?: 'api' | 'webhook' | 'pull-request' | 'pull-request-preview' },
    trusted?: App,
  ): Promise<PullResult>;
}

type Scheme = 'https' | 'http' | 'ssh' | 'file';

/** The scheme of a source URL, or why it is refused. Pure. */
export function sourceScheme(url: string): Scheme {
  // eslint-disable-next-line no-control-regex
  if (url.length > 2048 || /[\s\u0000-\u001f]/.test(url)) throw badRequest('source URLs are at most 2048 characters, without spaces');
  if (url.startsWith('-')) throw badRequest('a source URL may not start with "-"');
  const m = /^(https|http|ssh|file):\/\//.exec(url);
  if (m?.[1]) return m[1] as Scheme;
  if (/^[\w.-]+@[\w.-]+:[\w./~-]+$/.test(url)) return 'ssh';
  throw badRequest('source URLs are https://, http://, ssh:// (or user@host:path) or file://');
}

/** The host (as written, brackets kept for IPv6) of an http(s), ssh or user@host:path source URL. Pure. */
export function sourceHost(url: string): string {
  const scp = /^[\w.-]+@([\w.-]+):/.exec(url);
  if (scp?.[1] && !url.includes('://')) return scp[1];
  try {
    return new URL(url).host.replace(/:\d+$/, '');
  } catch {
    throw badRequest('the source URL is not a URL');
  }
}

/** Why a fetch failed, for the caller: git's fsck finding when there is one, else git's last line. Pure. */
export function fetchFailure(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const fsck = lines.map((l) => /^error: object [0-9a-f]+: (\w+: .*)$/.exec(l)?.[1]).find((m) => m !== undefined);
  return fsck ? `an object does not pass git's checks (${fsck.slice(0, 200)})` : (lines.at(-1) ?? '');
}

const REF = /^(?!.*\.\.)(?!.*\/\/)(?!\/)[A-Za-z0-9._/-]{1,200}(?<![./])$/;
/** A branch name (`main`, `refs/heads/main`) or a pull request head (`refs/pull/7/head`), checked. Pure. */
export const sourceRefName = (ref: string): string => {
  const short = ref.replace(/^refs\/heads\//, '');
  if (!REF.test(short) || short.endsWith('.lock')) throw badRequest(`invalid ref ${JSON.stringify(ref.slice(0, 80))}`);
  return short;
};
/** The source's ref for a name, and where Solum keeps it. Pure. */
const refspec = (name: string): { remote: string; local: string } =>
  name.startsWith('refs/pull/') ? { remote: name, local: `refs/solum/source/${name.slice('refs/'.length)}` } : { remote: `refs/heads/${name}`, local: `refs/solum/source/${name}` };

export function createPullBuilds(deps: {
  apps: AppService;
  builds: BuildStore;
  sources: SourceStore;
  queue: BuildQueue;
  repoPath: (app: App) => string;
  knownHostsFile: string;
  fetchTimeoutMs: number;
}): PullBuilds {
  const view = (s: AppSource): SourceView => {
    let deployKey: string | null = null;
    if (s.deployKey) {
      const k = ssh2.utils.parseKey(s.deployKey);
      if (!(k instanceof Error) && !Array.isArray(k)) deployKey = `${k.type} ${k.getPublicSSH().toString('base64')} solum-deploy-key`;
    }
    return { url: s.url, ref: s.ref, deployKey };
  };
  // Readers see where the source is, never the credentials written into its URL.
  const shownTo = (role: AppRole | null, v: SourceView): SourceView => (role && atLeast(role, 'admin') ? v : { ...v, url: v.url === null ? null : maskUrlCredentials(v.url) });

  const fetchSource = async (app: App, source: AppSource, ref: string): Promise<string> => {
    if (!source.url) throw conflict(`'${app.name}' has no source: set one first (PATCH /v1/apps/${app.name}/source)`);
    const scheme = sourceScheme(source.url);
    const { remote, local } = refspec(ref);
    // Only the source's own scheme, and every object checked before it lands next to pushed ones.
    const allow = ['-c', 'protocol.allow=never', '-c', `protocol.${scheme}.allow=always`, '-c', 'fetch.fsckObjects=true'];
    const env: Record<string, string> = { GIT_DIR: deps.repoPath(app) };
    let keyDir: string | undefined;
    if (scheme === 'ssh' && source.deployKey) {
      keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-key-'));
      const keyFile = path.join(keyDir, 'id');
      await fs.writeFile(keyFile, source.deployKey, { mode: 0o600 });
      env.GIT_SSH_COMMAND = `ssh -i ${keyFile} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${deps.knownHostsFile}`;
    }
    try {
      // A fetch past its deadline is killed with its helpers (ssh, git-remote-https, index-pack).
      const r = await runGit([...allow, 'fetch', '--no-tags', '--quiet', '--', source.url, `+${remote}:${local}`], { env: gitEnv(env), timeoutMs: deps.fetchTimeoutMs });
      if (r.timedOut) throw new AppError('bad_request', `fetching ${maskUrlCredentials(source.url)} took longer than ${deps.fetchTimeoutMs / 1000}s`);
      if (r.code !== 0) throw new AppError('bad_request', `fetching ${ref} from the source failed: ${maskUrlCredentials(fetchFailure(r.stderr))}`);
    } finally {
      if (keyDir) await fs.rm(keyDir, { recursive: true, force: true });
    }
    return local;
  };

  return {
    async source(actor, name) {
      const { app, role } = await deps.apps.require(actor, name, 'read');
      return shownTo(actor?.isAdmin ? 'admin' : role, view(await deps.sources.get(app.id)));
    },
    async setSource(actor, name, s) {
      const { app } = await deps.apps.require(actor, name, 'admin');
      const scheme = sourceScheme(s.url);
      // A file:// source reads the server's own disk: an operator's choice, not an app owner's.
      if (scheme === 'file' && !actor?.isAdmin) throw forbidden('file:// sources are for admins');
      // Nor may an app owner point Solum's fetches at this machine's own services (or link-local).
      if (scheme !== 'file') checkOutboundUrl(`http://${sourceHost(s.url)}/`, 'the source URL', actor?.isAdmin ?? false);
      const ref = s.ref === undefined ? 'main' : sourceRefName(s.ref);
      const changes: Parameters<SourceStore['set']>[1] = { url: s.url, ref };
      if (scheme === 'ssh' && !(await deps.sources.get(app.id)).deployKey) changes.deployKey = ssh2.utils.generateKeyPairSync('ed25519').private;
      await deps.sources.set(app.id, changes);
      return view(await deps.sources.get(app.id));
    },
    async pull(actor, name, request, trusted) {
      const app = trusted ?? (await deps.apps.require(actor, name, 'write')).app;
      const source = await deps.sources.get(app.id);
      const ref = sourceRefName(request.ref ?? source.ref ?? 'main');
      const local = await fetchSource(app, source, ref);
      const repo = { env: gitEnv({ GIT_DIR: deps.repoPath(app) }) };
      let commit: string;
      if (request.commit) {
        if (!/^[0-9a-f]{40}$/.test(request.commit)) throw badRequest('commits are 40 hex digits');
        const inHistory = await runGit(['merge-base', '--is-ancestor', request.commit, local], repo);
        if (inHistory.code !== 0) throw badRequest(`commit ${request.commit.slice(0, 12)} is not in ${ref} of the source`);
        commit = request.commit;
      } else {
        commit = (await runGit(['rev-parse', '--verify', `${local}^{commit}`], repo)).stdout.trim();
      }
      if (request.onlyIfChanged) {
        const last = (await deps.builds.listBuilds(app.id)).find((b) => b.ref === local && b.status !== 'canceled');
        if (last?.commit === commit) return { skipped: `${ref} is still at ${commit.slice(0, 12)}, built as #${last.number}`, commit };
      }
      const archivePath = deps.queue.newArchivePath();
      await snapshotCommit({ commit, env: repo.env, dest: archivePath });
      return { build: await deps.queue.enqueue({ app, ref: local, commit, archivePath, source: request.source ?? 'api' }) };
    },
  };
}
