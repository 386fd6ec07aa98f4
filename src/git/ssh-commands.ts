// SSH commands in the style of Dokku and Soft Serve (`ssh git@host keys:list`): parsed strictly,
// run through the same services as the API; human text by default, JSON with --json.
import type { Readable } from 'node:stream';
import type { AccountService } from '../access/account-service.js';
import type { AppService } from '../apps/app-service.js';
import type { BuildStore } from '../db/build-store.js';
import type { User } from '../db/user-store.js';
import type { ReleaseService } from '../deploy/release-service.js';
import type { Release } from '../db/release-store.js';
import type { BuildControl } from '../build/queue/build-control.js';
import type { SecurityRebuilds } from '../build/upkeep/security-rebuilds.js';
import type { PullBuilds } from '../build/sources/pull-builds.js';
import type { Retention } from '../build/upkeep/retention.js';
import type { PackRegistry } from '../build/packs/pack-registry.js';
import type { ServiceManager } from '../backing-services/service-manager.js';
import { AppError, publicError } from '../errors.js';
import { parseRunId, type PipelineService } from '../pipelines/pipeline-service.js';
import type { PipelineRun } from '../db/pipeline-store.js';
import { parseAppRole } from '../roles.js';
import { appView, buildView, collaboratorView, keyView, pipelineRunView, processView, releaseView, serviceView, tokenView, userView } from '../views.js';

export interface SshCommandDeps {
  readonly accounts: AccountService;
  readonly apps: AppService;
  readonly builds: BuildStore;
  readonly releases: ReleaseService;
  readonly buildControl: BuildControl;
  readonly securityRebuilds: SecurityRebuilds;
  readonly pulls: PullBuilds;
  readonly retention: Retention;
  readonly registry: PackRegistry;
  readonly services: ServiceManager;
  readonly pipelines: PipelineService;
}

export interface SshCommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Output that keeps coming (logs -f): piped to the client until it ends or the client leaves. */
  readonly stream?: Readable;
}

const usage = (message: string): AppError => new AppError('invalid_command', message);

/** Splits a command line into words: whitespace-separated, '…' and "…" quoting, no expansion of any kind. */
export function splitCommand(line: string): string[] {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(line)) throw usage('control characters are not allowed in commands');
  if (line.length > 1024) throw usage('command too long');
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw usage('unterminated quote');
  if (inWord) words.push(cur);
  return words;
}

interface Parsed {
  readonly args: string[];
  readonly flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--role', '--expires-in-days', '--tail', '--pack', '--confirm']);

function parseArgs(words: readonly string[]): Parsed {
  const args: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    if (w === '-f') flags.set('-f', true);
    else if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      if (eq > 0) flags.set(w.slice(0, eq), w.slice(eq + 1));
      else if (VALUE_FLAGS.has(w)) {
        const v = words[++i];
        if (v === undefined) throw usage(`${w} needs a value`);
        flags.set(w, v);
      } else flags.set(w, true);
    } else args.push(w);
  }
  return { args, flags };
}

function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

/** How a config change's release went, for the line that reports it. */
const releaseNote = (r: Release | null): string =>
  !r ? '' : r.status === 'failed' ? ` (release v${r.version} failed: ${r.error ?? 'unknown error'}; the previous release keeps serving)` : ` (v${r.version})`;

const when = (d: string | null): string => (d ? d.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

interface Command {
  readonly usage: string;
  readonly help: string;
  /** Exactly this many arguments, or at least the first and at most the second. */
  readonly args: number | readonly [number, number];
  readonly stdin?: boolean;
  /** Reads standard input as a stream (binary, any size) instead of as text. */
  readonly stdinStream?: boolean;
  run(actor: User, p: Parsed, stdin: string, input?: Readable): Promise<{ json: unknown; text: string } | { stream: Readable }>;
}

const parseVersion = (raw: string | undefined): number => {
  const m = /^v?([1-9][0-9]{0,8})$/.exec(raw ?? '');
  if (!m) throw usage('release versions look like v3');
  return Number(m[1]);
};

/** KEY=VALUE words (the value may contain '='). */
function parseAssignments(words: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw usage(`expected KEY=VALUE, got ${JSON.stringify(w.slice(0, 40))}`);
    out[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return out;
}

export function createSshCommands(deps: SshCommandDeps) {
  const { accounts, apps } = deps;
  const self = (actor: User): string => actor.name;
  const decideGate = (approve: boolean): Command => ({
    usage: `pipelines:${approve ? 'approve' : 'reject'} RUN`,
    help: approve ? 'approve the approval gate a pipeline run waits at (the run goes on)' : 'reject the approval gate a pipeline run waits at (the run stops)',
    args: 1,
    async run(actor, p) {
      const r = await deps.pipelines.decide(actor, parseRunId(p.args[0] ?? ''), approve);
      return { json: pipelineRunView(r, deps.pipelines.runUrl(r.id)), text: `run #${r.id} ${approve ? 'approved' : 'rejected'}: now ${r.status}${r.error ? ` (${r.error})` : ''}\n` };
    },
  });
  const commands: Record<string, Command> = {
    whoami: {
      usage: 'whoami',
      help: 'show who you are signed in as',
      args: 0,
      run: (actor) => Promise.resolve({ json: userView(actor), text: `${actor.name}${actor.isAdmin ? ' (admin)' : ''}\n` }),
    },
    'keys:list': {
      usage: 'keys:list',
      help: 'list your SSH keys',
      args: 0,
      async run(actor) {
        const keys = (await accounts.listKeys(actor, self(actor))).map(keyView);
        return { json: keys, text: keys.length === 0 ? 'no keys\n' : table([['NAME', 'TYPE', 'FINGERPRINT', 'ADDED', 'LAST USED'], ...keys.map((k) => [k.name, k.type, k.fingerprint, when(k.createdAt), when(k.lastUsedAt)])]) };
      },
    },
    'keys:add': {
      usage: 'keys:add NAME < key.pub',
      help: 'add the public key given on standard input',
      args: 1,
      stdin: true,
      async run(actor, p, stdin) {
        const key = keyView(await accounts.addKey(actor, self(actor), p.args[0] ?? '', stdin));
        return { json: key, text: `added key ${key.name} (${key.type} ${key.fingerprint})\n` };
      },
    },
    'keys:remove': {
      usage: 'keys:remove NAME',
      help: 'remove one of your keys (access with it ends at once)',
      args: 1,
      async run(actor, p) {
        await accounts.removeKey(actor, self(actor), p.args[0] ?? '');
        return { json: { removed: p.args[0] }, text: `removed key ${p.args[0] ?? ''}\n` };
      },
    },
    'tokens:list': {
      usage: 'tokens:list',
      help: 'list your API tokens',
      args: 0,
      async run(actor) {
        const tokens = (await accounts.listTokens(actor, self(actor))).map(tokenView);
        return { json: tokens, text: table([['ID', 'NAME', 'CREATED', 'EXPIRES', 'REVOKED'], ...tokens.map((t) => [String(t.id), t.name, when(t.createdAt), when(t.expiresAt), when(t.revokedAt)])]) };
      },
    },
    'tokens:create': {
      usage: 'tokens:create NAME [--expires-in-days N]',
      help: 'create an API token (shown once)',
      args: 1,
      async run(actor, p) {
        const days = p.flags.get('--expires-in-days');
        let expires: Date | null = null;
        if (typeof days === 'string') {
          if (!/^[1-9][0-9]{0,4}$/.test(days)) throw usage('--expires-in-days takes a whole number of days');
          expires = new Date(Date.now() + Number(days) * 86_400_000);
        }
        const created = await accounts.createToken(actor, self(actor), p.args[0] ?? '', expires);
        return { json: { ...tokenView(created.info), token: created.token }, text: `${created.token}\n(shown once: store it now)\n` };
      },
    },
    'tokens:revoke': {
      usage: 'tokens:revoke ID',
      help: 'revoke one of your API tokens',
      args: 1,
      async run(actor, p) {
        const id = p.args[0] ?? '';
        if (!/^[1-9][0-9]{0,9}$/.test(id)) throw usage('token IDs are positive integers');
        await accounts.revokeToken(actor, self(actor), Number(id));
        return { json: { revoked: Number(id) }, text: `revoked token ${id}\n` };
      },
    },
    'apps:list': {
      usage: 'apps:list',
      help: 'list the apps you can see',
      args: 0,
      async run(actor) {
        const list = (await apps.list(actor)).map(appView);
        return { json: list, text: list.length === 0 ? 'no apps\n' : table([['NAME', 'PUBLIC', 'CREATED'], ...list.map((a) => [a.name, a.public ? 'yes' : 'no', when(a.createdAt)])]) };
      },
    },
    'apps:create': {
      usage: 'apps:create NAME',
      help: 'create an app (pushing to a new name does too)',
      args: 1,
      async run(actor, p) {
        const app = appView(await apps.create(actor, p.args[0] ?? ''));
        return { json: app, text: `created app ${app.name}\n` };
      },
    },
    'apps:info': {
      usage: 'apps:info NAME',
      help: 'show an app',
      args: 1,
      async run(actor, p) {
        const { app, role } = await apps.require(actor, p.args[0] ?? '', 'read');
        const v = { ...appView(app), role };
        return { json: v, text: table([['name', v.name], ['deploy branch', v.deployBranch], ['public', v.public ? 'yes' : 'no'], ['your role', role ?? '-'], ['created', when(v.createdAt)]]) };
      },
    },
    'apps:destroy': {
      usage: 'apps:destroy NAME --force',
      help: 'destroy an app: its repository, builds and deployment units',
      args: 1,
      async run(actor, p) {
        const name = p.args[0] ?? '';
        if (p.flags.get('--force') !== true) throw usage(`this destroys ${name} and everything in it: repeat with --force`);
        await apps.destroy(actor, name);
        return { json: { destroyed: name }, text: `destroyed app ${name}\n` };
      },
    },
    'apps:collaborators': {
      usage: 'apps:collaborators APP',
      help: "list an app's collaborators",
      args: 1,
      async run(actor, p) {
        const list = (await apps.collaborators(actor, p.args[0] ?? '')).map(collaboratorView);
        return { json: list, text: list.length === 0 ? 'no collaborators\n' : table([['USER', 'ROLE'], ...list.map((c) => [c.user, c.role])]) };
      },
    },
    'apps:collaborators:add': {
      usage: 'apps:collaborators:add APP USER --role read|write|admin',
      help: 'give a user a role on an app',
      args: 2,
      async run(actor, p) {
        const raw = p.flags.get('--role');
        const role = typeof raw === 'string' ? parseAppRole(raw) : undefined;
        if (!role) throw usage('--role must be read, write or admin');
        await apps.addCollaborator(actor, p.args[0] ?? '', p.args[1] ?? '', role);
        return { json: { app: p.args[0], user: p.args[1], role }, text: `${p.args[1] ?? ''} has ${role} access to ${p.args[0] ?? ''}\n` };
      },
    },
    'apps:collaborators:remove': {
      usage: 'apps:collaborators:remove APP USER',
      help: "remove a user's role on an app",
      args: 2,
      async run(actor, p) {
        await apps.removeCollaborator(actor, p.args[0] ?? '', p.args[1] ?? '');
        return { json: { app: p.args[0], removed: p.args[1] }, text: `removed ${p.args[1] ?? ''} from ${p.args[0] ?? ''}\n` };
      },
    },
    'apps:public': {
      usage: 'apps:public APP on|off',
      help: 'allow or stop anonymous clones over HTTP',
      args: 2,
      async run(actor, p) {
        const v = p.args[1];
        if (v !== 'on' && v !== 'off') throw usage('say on or off');
        const app = appView(await apps.setPublic(actor, p.args[0] ?? '', v === 'on'));
        return { json: app, text: `${app.name} is ${app.public ? 'public' : 'private'}\n` };
      },
    },
    'apps:set': {
      usage: 'apps:set APP language-pack=NAME|- build-timeout=SECONDS|- build-memory=MB|-',
      help: "pin a language pack or set the app's build limits ('-' resets to the default)",
      args: [2, 4],
      async run(actor, p) {
        const [app = '', ...rest] = p.args;
        const changes: { languagePack?: string | null; buildTimeoutSeconds?: number | null; buildMemoryMb?: number | null } = {};
        const num = (k: string, v: string): number | null => {
          if (v === '-') return null;
          if (!/^\d{1,6}$/.test(v)) throw usage(`${k} takes a whole number or -`);
          return Number(v);
        };
        for (const [k, v] of Object.entries(parseAssignments(rest))) {
          if (k === 'language-pack') changes.languagePack = v === '-' ? null : v;
          else if (k === 'build-timeout') changes.buildTimeoutSeconds = num(k, v);
          else if (k === 'build-memory') changes.buildMemoryMb = num(k, v);
          else throw usage(`unknown setting ${k}: use language-pack, build-timeout or build-memory`);
        }
        const a = appView(await apps.update(actor, app, changes));
        return { json: a, text: `${a.name}: language pack ${a.languagePack ?? '(detected)'}, build timeout ${a.buildTimeoutSeconds ?? 'default'}, build memory ${a.buildMemoryMb ?? 'default'}\n` };
      },
    },
    builds: {
      usage: 'builds APP',
      help: "list an app's builds, newest first",
      args: 1,
      async run(actor, p) {
        const { app } = await apps.require(actor, p.args[0] ?? '', 'read');
        const list = (await deps.builds.listBuilds(app.id)).map(buildView);
        return { json: list, text: list.length === 0 ? 'no builds\n' : table([['#', 'STATUS', 'COMMIT', 'DU', 'CREATED'], ...list.map((b) => [String(b.number), b.status, b.commit.slice(0, 12), b.duImage ?? '-', when(b.createdAt)])]) };
      },
    },
    releases: {
      usage: 'releases APP',
      help: "list an app's releases, newest first",
      args: 1,
      async run(actor, p) {
        const list = (await deps.releases.list(actor, p.args[0] ?? '')).map(releaseView);
        return { json: list, text: list.length === 0 ? 'no releases\n' : table([['VERSION', 'STATUS', 'DESCRIPTION', 'DU', 'CREATED'], ...list.map((r) => [`v${r.version}`, r.status, r.description, r.duImage, when(r.createdAt)])]) };
      },
    },
    'releases:info': {
      usage: 'releases:info APP vN',
      help: 'show one release',
      args: 2,
      async run(actor, p) {
        const r = releaseView(await deps.releases.get(actor, p.args[0] ?? '', parseVersion(p.args[1])));
        return { json: r, text: table([['version', `v${r.version}`], ['status', r.status], ['description', r.description], ['deployment unit', `${r.duImage} ${r.duId}`], ['config', r.configKeys.join(', ') || '-'], ['error', r.error ?? '-'], ['created', when(r.createdAt)]]) };
      },
    },
    'releases:rollback': {
      usage: 'releases:rollback APP vN',
      help: 'make a new release from release vN (its DU and its config)',
      args: 2,
      async run(actor, p) {
        const r = releaseView(await deps.releases.rollback(actor, p.args[0] ?? '', parseVersion(p.args[1])));
        return { json: r, text: `rolled back to ${p.args[1] ?? ''}: now v${r.version}\n` };
      },
    },
    config: {
      usage: 'config APP',
      help: "show an app's config vars (app admins)",
      args: 1,
      async run(actor, p) {
        const c = await deps.releases.config(actor, p.args[0] ?? '');
        return { json: c, text: Object.keys(c).length === 0 ? 'no config vars\n' : table(Object.entries(c).map(([k, v]) => [`${k}:`, v])) };
      },
    },
    'config:set': {
      usage: 'config:set APP KEY=VALUE ...',
      help: 'set config vars: a new release, no build',
      args: [2, 100],
      async run(actor, p) {
        const [app = '', ...rest] = p.args;
        const r = await deps.releases.changeConfig(actor, app, parseAssignments(rest), []);
        const keys = Object.keys(parseAssignments(rest)).join(', ');
        return { json: { config: Object.keys(r.config), release: r.release ? releaseView(r.release) : null }, text: `set ${keys}${r.release ? `: released v${r.release.version}` : ''}\n` };
      },
    },
    'config:unset': {
      usage: 'config:unset APP KEY ...',
      help: 'unset config vars: a new release, no build',
      args: [2, 100],
      async run(actor, p) {
        const [app = '', ...keys] = p.args;
        const r = await deps.releases.changeConfig(actor, app, {}, keys);
        return { json: { config: Object.keys(r.config), release: r.release ? releaseView(r.release) : null }, text: `unset ${keys.join(', ')}${r.release ? `: released v${r.release.version}` : ''}\n` };
      },
    },
    ps: {
      usage: 'ps APP',
      help: "list an app's processes",
      args: 1,
      async run(actor, p) {
        const list = (await deps.releases.processes(actor, p.args[0] ?? '')).map(processView);
        return { json: list, text: list.length === 0 ? 'no processes\n' : table([['PROCESS', 'RELEASE', 'STATE', 'PORT'], ...list.map((x) => [x.name, `v${x.release}`, x.state, x.port === null ? '-' : String(x.port)])]) };
      },
    },
    'ps:scale': {
      usage: 'ps:scale APP TYPE=N ...',
      help: 'run N processes of each type',
      args: [2, 20],
      async run(actor, p) {
        const [app = '', ...rest] = p.args;
        const changes: Record<string, number> = {};
        for (const [k, v] of Object.entries(parseAssignments(rest))) {
          if (!/^\d{1,3}$/.test(v)) throw usage(`${k}: give a whole number`);
          changes[k] = Number(v);
        }
        const f = await deps.releases.scale(actor, app, changes);
        return { json: f, text: `${Object.entries(f).map(([k, n]) => `${k}=${n}`).join(' ')}\n` };
      },
    },
    'ps:restart': {
      usage: 'ps:restart APP',
      help: 'replace every process of the live release (zero downtime for web)',
      args: 1,
      async run(actor, p) {
        const r = await deps.releases.restart(actor, p.args[0] ?? '');
        return { json: { restarted: `v${r.version}` }, text: `restarted v${r.version}\n` };
      },
    },
    'ps:stop': {
      usage: 'ps:stop APP',
      help: 'stop every process (stays stopped across restarts)',
      args: 1,
      async run(actor, p) {
        await deps.releases.stop(actor, p.args[0] ?? '');
        return { json: { stopped: p.args[0] }, text: `stopped ${p.args[0] ?? ''}\n` };
      },
    },
    'ps:start': {
      usage: 'ps:start APP',
      help: 'start a stopped app again',
      args: 1,
      async run(actor, p) {
        const r = await deps.releases.start(actor, p.args[0] ?? '');
        return { json: { started: `v${r.version}` }, text: `started v${r.version}\n` };
      },
    },
    logs: {
      usage: 'logs APP [-f|--follow] [--tail N]',
      help: "an app's process output; -f keeps following it",
      args: 1,
      async run(actor, p) {
        const tailRaw = p.flags.get('--tail');
        const tail = typeof tailRaw === 'string' ? Number(tailRaw) : 100;
        if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) throw usage('--tail takes a whole number up to 10000');
        const follow = p.flags.get('--follow') === true || p.flags.get('-f') === true;
        return { stream: await deps.releases.logs(actor, p.args[0] ?? '', { follow, tail }) };
      },
    },
    'builds:cancel': {
      usage: 'builds:cancel APP NUMBER',
      help: 'cancel a queued or running build',
      args: 2,
      async run(actor, p) {
        const { app } = await apps.require(actor, p.args[0] ?? '', 'read');
        const n = p.args[1] ?? '';
        if (!/^[1-9][0-9]{0,8}$/.test(n)) throw usage('build numbers are positive integers');
        const build = await deps.builds.findBuildByNumber(app.id, Number(n));
        if (!build) throw new AppError('not_found', `${app.name} has no build #${n}`);
        const b = buildView(await deps.buildControl.cancel(actor, build.id));
        return { json: b, text: b.status === 'canceled' ? `canceled build #${b.number}\n` : `stopping build #${b.number}\n` };
      },
    },
    'builds:create': {
      usage: 'builds:create APP [REF]',
      help: "fetch the app's source (its ref, or REF) and build it",
      args: [1, 2],
      async run(actor, p) {
        const r = await deps.pulls.pull(actor, p.args[0] ?? '', { ref: p.args[1], onlyIfChanged: p.flags.get('--only-if-changed') === true });
        if ('skipped' in r) return { json: { status: 'skipped', reason: r.skipped }, text: `skipped: ${r.skipped}\n` };
        const b = buildView(r.build);
        return { json: b, text: `queued build #${b.number} of ${b.commit.slice(0, 12)}\n` };
      },
    },
    'builds:cache:purge': {
      usage: 'builds:cache:purge APP',
      help: "empty the app's build cache (the next build downloads everything again)",
      args: 1,
      async run(actor, p) {
        const n = await deps.buildControl.purgeCache(actor, p.args[0] ?? '');
        return { json: { removed: n }, text: `purged ${n} cache volume${n === 1 ? '' : 's'}\n` };
      },
    },
    'security:rebuilds': {
      usage: 'security:rebuilds [--pack NAME] [--rebuild]',
      help: 'apps whose live DU was built from an older pack image; --rebuild queues their rebuilds (admins)',
      args: 0,
      async run(actor, p) {
        const pack = p.flags.get('--pack');
        const list = await deps.securityRebuilds.run(actor, { pack: typeof pack === 'string' ? pack : undefined, rebuild: p.flags.get('--rebuild') === true });
        return {
          json: list,
          text: list.length === 0 ? 'no live releases\n' : table([['APP', 'RELEASE', 'PACK', 'STATE', 'QUEUED', 'WHY'], ...list.map((c) => [c.app, `v${c.release}`, c.languagePack ?? '-', c.state, c.queued === null ? '-' : `#${c.queued}`, c.reason])]),
        };
      },
    },
    'lp:list': {
      usage: 'lp:list [QUERY]',
      help: 'language packs (stock and registered), optionally those matching QUERY',
      args: [0, 1],
      async run(_actor, p) {
        const list = await deps.registry.list(p.args[0]);
        return { json: list, text: table([['NAME', 'VERSION', 'ORIGIN', 'STATUS', 'DETECTS'], ...list.map((x) => [x.name, x.version, x.origin, x.status, x.detect.join(', ') || '(fallback)'])]) };
      },
    },
    'lp:info': {
      usage: 'lp:info NAME',
      help: 'one language pack',
      args: 1,
      async run(_actor, p) {
        const x = await deps.registry.get(p.args[0] ?? '');
        return { json: x, text: table([['name', x.name], ['version', x.version], ['origin', x.origin], ['kind', x.kind], ['image', `${x.image ?? '-'} ${x.imageId ?? ''}`], ['status', x.status], ['network', x.network], ['run', x.run ?? '-']]) };
      },
    },
    'lp:register': {
      usage: 'lp:register IMAGE < solum-pack.json',
      help: 'register a local image as a language pack (admins)',
      args: 1,
      stdin: true,
      async run(actor, p, stdin) {
        let manifest: unknown;
        try {
          manifest = JSON.parse(stdin);
        } catch {
          throw usage('give the pack manifest (solum-pack.json) on standard input');
        }
        const x = await deps.registry.register(actor, { image: p.args[0] ?? '', manifest });
        return { json: x, text: `registered language pack ${x.name} ${x.version} (${x.imageId ?? ''})\n` };
      },
    },
    'lp:refresh': {
      usage: 'lp:refresh NAME',
      help: "re-read a pack's image ID after its image was rebuilt (admins)",
      args: 1,
      async run(actor, p) {
        const x = await deps.registry.refresh(actor, p.args[0] ?? '');
        return { json: x, text: `${x.name}: ${x.imageId ?? 'missing'}\n` };
      },
    },
    'buildpacks:set': {
      usage: 'buildpacks:set APP URL... | buildpacks:set APP -',
      help: "set the app's Heroku buildpacks (git URLs, run in order) or clear them with -",
      args: [2, 9],
      async run(actor, p) {
        const [app = '', ...urls] = p.args;
        const a = appView(await apps.update(actor, app, { buildpacks: urls.length === 1 && urls[0] === '-' ? [] : urls }));
        return { json: a, text: a.buildpacks.length === 0 ? `${a.name}: no buildpacks\n` : `${a.name} buildpacks:\n${a.buildpacks.map((u, i) => `  ${i + 1}. ${u}\n`).join('')}` };
      },
    },
    'lp:set': {
      usage: 'lp:set APP PACK... | lp:set APP -',
      help: 'build the app with these language packs in order (their dependencies first), or clear the list with -',
      args: [2, 9],
      async run(actor, p) {
        const [app = '', ...names] = p.args;
        const a = appView(await apps.update(actor, app, { languagePacks: names.length === 1 && names[0] === '-' ? [] : names }));
        return { json: a, text: `${a.name}: language packs ${a.languagePacks.join(', ') || '(pinned or detected)'}\n` };
      },
    },
    'lp:remove': {
      usage: 'lp:remove NAME',
      help: 'remove a registered pack no app pins or runs (admins)',
      args: 1,
      async run(actor, p) {
        await deps.registry.remove(actor, p.args[0] ?? '');
        return { json: { removed: p.args[0] }, text: `removed language pack ${p.args[0] ?? ''}\n` };
      },
    },
    prune: {
      usage: 'prune',
      help: 'remove old DUs, leftover builders and orphaned build caches (admins)',
      args: 0,
      async run(actor) {
        const r = await deps.retention.prune(actor);
        return { json: r, text: `removed ${r.images.length} DU image(s), ${r.containers} container(s), ${r.volumes.length} cache volume(s)\n` };
      },
    },
    'services:create': {
      usage: 'services:create KIND NAME',
      help: 'create a backing service instance (postgres or redis)',
      args: 2,
      async run(actor, p) {
        const s = serviceView(await deps.services.create(actor, p.args[0] ?? '', p.args[1] ?? ''), []);
        return { json: s, text: `created ${s.kind} service ${s.name}\n` };
      },
    },
    'services:list': {
      usage: 'services:list',
      help: 'your backing service instances (admins: all)',
      args: 0,
      async run(actor) {
        const list = (await deps.services.list(actor)).map((i) => serviceView(i));
        return { json: list, text: list.length === 0 ? 'no services\n' : table([['NAME', 'KIND', 'OWNER', 'PORT', 'CREATED'], ...list.map((s) => [s.name, s.kind, s.owner ?? '-', String(s.port), when(s.createdAt)])]) };
      },
    },
    'services:info': {
      usage: 'services:info NAME',
      help: 'one service instance: state, links and URL',
      args: 1,
      async run(actor, p) {
        const info = await deps.services.info(actor, p.args[0] ?? '');
        const s = { ...serviceView(info.instance, info.links), state: info.state, url: info.url };
        return {
          json: s,
          text: table([['name', s.name], ['kind', s.kind], ['owner', s.owner ?? '-'], ['state', s.state], ['url', s.url], ['links', info.links.map((l) => `${l.app} (${l.envVar})`).join(', ') || '-']]),
        };
      },
    },
    'services:link': {
      usage: 'services:link NAME APP',
      help: "link an instance to an app: sets DATABASE_URL / REDIS_URL (or an alias) and makes a release",
      args: 2,
      async run(actor, p) {
        const r = await deps.services.link(actor, p.args[0] ?? '', p.args[1] ?? '');
        return { json: { service: r.link.service, app: r.link.app, envVar: r.link.envVar, release: r.release ? releaseView(r.release) : null }, text: `linked ${r.link.service} to ${r.link.app} as ${r.link.envVar}${releaseNote(r.release)}\n` };
      },
    },
    'services:unlink': {
      usage: 'services:unlink NAME APP',
      help: 'unlink an instance from an app: unsets its config var and makes a release',
      args: 2,
      async run(actor, p) {
        const r = await deps.services.unlink(actor, p.args[0] ?? '', p.args[1] ?? '');
        return { json: { service: r.link.service, app: r.link.app, envVar: r.link.envVar, release: r.release ? releaseView(r.release) : null }, text: `unlinked ${r.link.service} from ${r.link.app} (${r.link.envVar} unset)${releaseNote(r.release)}\n` };
      },
    },
    'services:destroy': {
      usage: 'services:destroy NAME --confirm NAME [--force]',
      help: 'destroy an instance and its data (--force when still linked)',
      args: 1,
      async run(actor, p) {
        const confirm = p.flags.get('--confirm');
        await deps.services.destroy(actor, p.args[0] ?? '', { confirm: typeof confirm === 'string' ? confirm : undefined, force: p.flags.get('--force') === true });
        return { json: { destroyed: p.args[0] }, text: `destroyed service ${p.args[0] ?? ''}\n` };
      },
    },
    'services:backup': {
      usage: 'services:backup NAME > dump',
      help: 'a pg_dump -Fc of a postgres instance on standard output',
      args: 1,
      async run(actor, p) {
        return { stream: await deps.services.backup(actor, p.args[0] ?? '') };
      },
    },
    'services:restore': {
      usage: 'services:restore NAME < dump',
      help: "replace a postgres instance's database with a pg_dump -Fc archive from standard input",
      args: 1,
      stdinStream: true,
      async run(actor, p, _stdin, input) {
        if (!input) throw usage('give the dump on standard input');
        await deps.services.restore(actor, p.args[0] ?? '', input);
        return { json: { restored: p.args[0] }, text: `restored service ${p.args[0] ?? ''}\n` };
      },
    },
    'users:list': {
      usage: 'users:list',
      help: 'list users (admins)',
      args: 0,
      async run(actor) {
        const list = (await accounts.listUsers(actor)).map(userView);
        return { json: list, text: table([['NAME', 'ADMIN', 'CREATED'], ...list.map((u) => [u.name, u.admin ? 'yes' : 'no', when(u.createdAt)])]) };
      },
    },
    'users:create': {
      usage: 'users:create NAME [--admin]',
      help: 'create a user (admins)',
      args: 1,
      async run(actor, p) {
        const u = userView(await accounts.createUser(actor, p.args[0] ?? '', { admin: p.flags.get('--admin') === true }));
        return { json: u, text: `created user ${u.name}\n` };
      },
    },
    'users:remove': {
      usage: 'users:remove NAME',
      help: 'remove a user with their keys and tokens (admins)',
      args: 1,
      async run(actor, p) {
        await accounts.removeUser(actor, p.args[0] ?? '');
        return { json: { removed: p.args[0] }, text: `removed user ${p.args[0] ?? ''}\n` };
      },
    },
    'pipelines:runs': {
      usage: 'pipelines:runs APP',
      help: "list an app's pipeline runs and their stages",
      args: 1,
      async run(actor, p) {
        const runs = await deps.pipelines.runs(actor, p.args[0] ?? '');
        const stages = (r: PipelineRun): string => r.stages.map((s) => `${s.name}:${s.status}`).join(' ');
        return {
          json: runs.map((r) => pipelineRunView(r, deps.pipelines.runUrl(r.id))),
          text: runs.length === 0 ? 'no pipeline runs\n' : table([['RUN', 'STATUS', 'COMMIT', 'CREATED', 'STAGES'], ...runs.map((r) => [String(r.id), r.status, r.commit.slice(0, 12), when(r.createdAt.toISOString()), stages(r)])]),
        };
      },
    },
    'pipelines:approve': decideGate(true),
    'pipelines:reject': decideGate(false),
  };

  const helpText = (): string =>
    'Solum over SSH. git remote: ssh://git@HOST:PORT/<app>.git\n\nCommands (add --json for JSON):\n' +
    table(Object.values(commands).map((c) => [`  ${c.usage}`, c.help])) +
    '  help                                 this text\n';

  return {
    async run(actor: User, words: readonly string[], readStdin: () => Promise<string>, openStdin?: () => Readable): Promise<SshCommandResult> {
      const [name = 'help', ...rest] = words;
      if (name === 'help' || name === '--help') return { code: 0, stdout: helpText(), stderr: '' };
      const cmd = commands[name];
      if (!cmd) return { code: 2, stdout: '', stderr: `solum: unknown command ${JSON.stringify(name.slice(0, 60))}; try: help\n` };
      try {
        const p = parseArgs(rest);
        const [min, max] = typeof cmd.args === 'number' ? [cmd.args, cmd.args] : cmd.args;
        if (p.args.length < min || p.args.length > max) throw usage(`usage: ${cmd.usage}`);
        const out = await cmd.run(actor, p, cmd.stdin ? await readStdin() : '', cmd.stdinStream ? openStdin?.() : undefined);
        if ('stream' in out) return { code: 0, stdout: '', stderr: '', stream: out.stream };
        return { code: 0, stdout: p.flags.get('--json') === true ? `${JSON.stringify(out.json, null, 2)}\n` : out.text, stderr: '' };
      } catch (err) {
        const pub = publicError(err);
        return { code: pub.code === 'invalid_command' ? 2 : 1, stdout: '', stderr: `solum: ${pub.message}\n` };
      }
    },
  };
}

export type SshCommands = ReturnType<typeof createSshCommands>;
