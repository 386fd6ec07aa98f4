// Apps: list, create, inspect, change settings (HTTP at once; SSH one kind of setting per command), destroy.
import { z } from 'zod';
import type { AppService } from '../apps/app-service.js';
import type { AppChanges } from '../db/app-store.js';
import type { User } from '../db/user-store.js';
import type { ReleaseService } from '../deploy/release-service.js';
import type { CanaryService } from '../deploy/canary-service.js';
import { parseAssignment, parseWholeNumber } from '../parse.js';
import { defineOperation, usage, wordOf, wordsOf, type SshWords } from './operation.js';
import { table, when, yesNo } from './text.js';
import { appInfoView, appView, canaryView } from './views.js';

interface Deps {
  readonly apps: AppService;
  readonly releases: ReleaseService;
  readonly canaries: CanaryService;
}

const changes = z
  .object({
    app: z.string(),
    public: z.boolean().optional(),
    languagePack: z.string().nullable().optional(),
    buildTimeoutSeconds: z.number().int().nullable().optional(),
    buildMemoryMb: z.number().int().nullable().optional(),
    /** Heroku buildpack git URLs, in order ([] clears). */
    buildpacks: z.array(z.string()).optional(),
    /** Language packs to build with, in order ([] clears: pinned or detected). */
    languagePacks: z.array(z.string()).optional(),
    /** Whether pull-request webhooks build the app (off unless an app admin turns it on). */
    pullRequestBuilds: z.boolean().optional(),
    /** Monorepos: the directory the app is built from (null: the whole tree). */
    baseDir: z.string().nullable().optional(),
    /** Monorepos: paths a push must change to build ([]: every push builds). */
    watchPaths: z.array(z.string()).max(20).optional(),
  })
  .strict();

/** Every way of changing an app's settings ends here. */
const update =
  (d: Deps) =>
  async (actor: User | null, { app, ...given }: z.output<typeof changes>) => {
    const set: AppChanges = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    return appView(await d.apps.update(actor, app, set));
  };

/** `NAME... | -`: the words as a list, `-` alone for none. */
const listOrNone = (w: SshWords[string]): readonly string[] => {
  const words = wordsOf(w);
  return words.length === 1 && words[0] === '-' ? [] : words;
};

export const listApps = defineOperation(
  {
    name: 'apps:list',
    summary: 'Apps the caller can see',
    access: 'signed-in',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/apps', list: true },
    ssh: { usage: 'apps:list', help: 'list the apps you can see' },
  },
  (d: Deps) => ({
    run: async (actor) => (await d.apps.list(actor)).map(appView),
    text: (list) => (list.length === 0 ? 'no apps\n' : table([['NAME', 'PUBLIC', 'CREATED'], ...list.map((a) => [a.name, yesNo(a.public), when(a.createdAt)])])),
  }),
);

export const createApp = defineOperation(
  {
    name: 'apps:create',
    summary: 'Create an app',
    access: 'signed-in',
    input: z.object({ name: z.string() }).strict(),
    http: { method: 'POST', path: '/v1/apps', status: 201, body: 'fields' },
    ssh: { usage: 'apps:create NAME', help: 'create an app (pushing to a new name does too)', args: ['name'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => appView(await d.apps.create(actor, i.name)),
    text: (a) => `created app ${a.name}\n`,
  }),
);

export const appInfo = defineOperation(
  {
    name: 'apps:info',
    summary: 'An app, its URL and live release',
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app' },
    ssh: { usage: 'apps:info NAME', help: 'show an app', args: ['app'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      const { app, role, owner } = await d.apps.info(actor, i.app);
      const live = await d.releases.live(actor, app.name);
      const canary = await d.canaries.runningOf(app);
      return appInfoView(app, { owner, role, url: d.releases.url(app.name), release: live ? `v${live.version}` : null, canary: canary && canaryView(canary) });
    },
    text: (a) => table([['name', a.name], ['deploy branch', a.deployBranch], ['public', yesNo(a.public)], ['your role', a.role ?? '-'], ['canary', a.canary ? `v${a.canary.version} ${a.canary.percent}% since ${when(a.canary.since)}` : '-'], ['created', when(a.createdAt)]]),
  }),
);

export const updateApp = defineOperation(
  {
    name: 'apps:update',
    summary: 'App settings: public, pinned language pack or ordered languagePacks, buildpacks (git URLs), build limits, baseDir and watchPaths (monorepos)',
    access: { app: 'admin' },
    input: changes,
    http: { method: 'PATCH', path: '/v1/apps/:app', body: 'fields' },
  },
  (d: Deps) => ({ run: update(d) }),
);

export const publishApp = defineOperation(
  {
    name: 'apps:public',
    summary: 'Allow or stop anonymous clones over HTTP',
    access: { app: 'admin' },
    input: changes,
    ssh: {
      usage: 'apps:public APP on|off',
      args: ['app', 'public'],
      map(w) {
        if (w.public !== 'on' && w.public !== 'off') usage('say on or off');
        return { ...w, public: w.public === 'on' };
      },
    },
  },
  (d: Deps) => ({
    run: update(d),
    text: (a) => `${a.name} is ${a.public ? 'public' : 'private'}\n`,
  }),
);

const SETTINGS = { 'language-pack': 'languagePack', 'build-timeout': 'buildTimeoutSeconds', 'build-memory': 'buildMemoryMb', 'base-dir': 'baseDir', 'watch-paths': 'watchPaths' } as const;

export const setApp = defineOperation(
  {
    name: 'apps:set',
    summary: "Pin a language pack, set the app's build limits or its base directory and watch paths ('-' resets to the default)",
    access: { app: 'admin' },
    input: changes,
    ssh: {
      usage: 'apps:set APP language-pack=NAME|- build-timeout=SECONDS|- build-memory=MB|- base-dir=DIR|- watch-paths=PATH,PATH|-',
      args: ['app'],
      rest: { into: 'settings', max: 5 },
      map({ settings, ...w }) {
        const out: Record<string, unknown> = { ...w };
        for (const word of wordsOf(settings)) {
          const [k, v] = parseAssignment(word) ?? usage(`expected KEY=VALUE, got ${JSON.stringify(word.slice(0, 40))}`);
          if (!(k in SETTINGS)) usage(`unknown setting ${k}: use language-pack, build-timeout, build-memory, base-dir or watch-paths`);
          const key = SETTINGS[k as keyof typeof SETTINGS];
          if (key === 'watchPaths') out[key] = v === '-' ? [] : v.split(',').filter((p) => p !== '');
          else if (v === '-') out[key] = null;
          else if (key === 'languagePack' || key === 'baseDir') out[key] = v;
          else out[key] = parseWholeNumber(v, 999_999) ?? usage(`${k} takes a whole number or -`);
        }
        return out;
      },
    },
  },
  (d: Deps) => ({
    run: update(d),
    text: (a) =>
      `${a.name}: language pack ${a.languagePack ?? '(detected)'}, build timeout ${a.buildTimeoutSeconds ?? 'default'}, build memory ${a.buildMemoryMb ?? 'default'}, base directory ${a.baseDir ?? '(the whole tree)'}, watch paths ${a.watchPaths.join(',') || '(every push builds)'}\n`,
  }),
);

export const setBuildpacks = defineOperation(
  {
    name: 'buildpacks:set',
    summary: "Set the app's Heroku buildpacks (git URLs, run in order) or clear them with -",
    access: { app: 'admin' },
    input: changes,
    ssh: {
      usage: 'buildpacks:set APP URL... | buildpacks:set APP -',
      args: ['app'],
      rest: { into: 'buildpacks', max: 8 },
      map: (w) => ({ ...w, buildpacks: listOrNone(w.buildpacks) }),
    },
  },
  (d: Deps) => ({
    run: update(d),
    text: (a) => (a.buildpacks.length === 0 ? `${a.name}: no buildpacks\n` : `${a.name} buildpacks:\n${a.buildpacks.map((u, i) => `  ${i + 1}. ${u}\n`).join('')}`),
  }),
);

export const setLanguagePacks = defineOperation(
  {
    name: 'lp:set',
    summary: 'Build the app with these language packs in order (their dependencies first), or clear the list with -',
    access: { app: 'admin' },
    input: changes,
    ssh: {
      usage: 'lp:set APP PACK... | lp:set APP -',
      args: ['app'],
      rest: { into: 'languagePacks', max: 8 },
      map: (w) => ({ ...w, languagePacks: listOrNone(w.languagePacks) }),
    },
  },
  (d: Deps) => ({
    run: update(d),
    text: (a) => `${a.name}: language packs ${a.languagePacks.join(', ') || '(pinned or detected)'}\n`,
  }),
);

export const destroyApp = defineOperation(
  {
    name: 'apps:destroy',
    summary: 'Destroy an app: repository, builds, DUs, processes',
    access: { app: 'admin' },
    input: z.object({ app: z.string() }),
    http: { method: 'DELETE', path: '/v1/apps/:app', status: 204 },
    ssh: {
      usage: 'apps:destroy NAME --force',
      help: 'destroy an app: its repository, builds and deployment units',
      args: ['app'],
      switches: { '--force': 'force' },
      map(w) {
        if (w.force !== true) usage(`this destroys ${wordOf(w.app)} and everything in it: repeat with --force`);
        return w;
      },
    },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.apps.destroy(actor, i.app);
      return { destroyed: i.app };
    },
    text: (r) => `destroyed app ${r.destroyed}\n`,
  }),
);

export const appOperations = [listApps, createApp, appInfo, updateApp, publishApp, setApp, setBuildpacks, setLanguagePacks, destroyApp];
