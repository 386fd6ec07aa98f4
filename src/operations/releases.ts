// Releases and config vars of an app: list, inspect, roll back; read and change config (each change a release).
import { z } from 'zod';
import type { User } from '../db/user-store.js';
import type { CanaryService, CanaryView } from '../deploy/canary-service.js';
import type { Release } from '../db/release-store.js';
import type { ReleaseService } from '../deploy/release-service.js';
import { parseAssignment, parseVersion } from '../parse.js';
import { configChanges, splitConfigChanges } from './config-vars.js';
import { defineOperation, releaseVersion, usage, wordOf, wordsOf } from './operation.js';
import { table, when } from './text.js';
import { canaryView, configChangeView, releaseView } from './views.js';

interface Deps {
  readonly releases: ReleaseService;
  readonly canaries: CanaryService;
}

/** A release with the running canary's share and start when it is that canary (decision 0019). */
const withCanary = (r: Release, c: CanaryView | null) => ({ ...releaseView(r), canary: c && c.version === r.version ? canaryView(c) : null });

export const listReleases = defineOperation(
  {
    name: 'releases',
    summary: 'Releases, newest first',
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/releases', list: true },
    ssh: { usage: 'releases APP', help: "list an app's releases, newest first", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => {
      const list = await d.releases.list(actor, i.app);
      const c = await d.canaries.running(actor, i.app);
      return list.map((r) => withCanary(r, c));
    },
    text: (list) =>
      list.length === 0 ? 'no releases\n' : table([['VERSION', 'STATUS', 'DESCRIPTION', 'DU', 'CREATED'], ...list.map((r) => [`v${r.version}`, r.canary ? `canary ${r.canary.percent}%` : r.status, r.description, r.duImage, when(r.createdAt)])]),
  }),
);

export const releaseInfo = defineOperation(
  {
    name: 'releases:info',
    summary: 'One release',
    access: { app: 'read' },
    input: z.object({ app: z.string(), version: releaseVersion('release versions look like v3 or 3') }),
    http: { method: 'GET', path: '/v1/apps/:app/releases/:version' },
    ssh: { usage: 'releases:info APP vN', help: 'show one release', args: ['app', 'version'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => withCanary(await d.releases.get(actor, i.app, i.version), await d.canaries.running(actor, i.app)),
    text: (r) =>
      table([['version', `v${r.version}`], ['status', r.status], ['canary', r.canary ? `${r.canary.percent}% of new sessions since ${when(r.canary.since)}` : '-'], ['description', r.description], ['deployment unit', `${r.duImage} ${r.duId}`], ['config', r.configKeys.join(', ') || '-'], ['error', r.error ?? '-'], ['created', when(r.createdAt)]]),
  }),
);

export const rollback = defineOperation(
  {
    name: 'releases:rollback',
    summary: 'Roll back: a new release from an earlier one',
    access: { app: 'write' },
    input: z.object({ app: z.string(), rollback: z.number().int().min(1) }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/releases', status: 201, body: 'fields' },
    ssh: {
      usage: 'releases:rollback APP vN',
      help: 'make a new release from release vN (its DU and its config)',
      args: ['app', 'rollback'],
      map: (w) => ({ ...w, rollback: parseVersion(wordOf(w.rollback)) ?? usage('release versions look like v3') }),
    },
  },
  (d: Deps) => ({
    run: async (actor, i) => releaseView(await d.releases.rollback(actor, i.app, i.rollback)),
    text: (r, i) => `rolled back to v${i.rollback}: now v${r.version}\n`,
  }),
);

export const showConfig = defineOperation(
  {
    name: 'config',
    summary: 'Config vars (app admins)',
    access: { app: 'admin' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/config' },
    ssh: { usage: 'config APP', help: "show an app's config vars (app admins)", args: ['app'] },
  },
  (d: Deps) => ({
    run: (actor, i) => d.releases.config(actor, i.app),
    text: (c) => (Object.keys(c).length === 0 ? 'no config vars\n' : table(Object.entries(c).map(([k, v]) => [`${k}:`, v]))),
  }),
);

const configChange = z.object({ app: z.string(), changes: configChanges });

const change = (d: Deps) => (actor: User | null, { app, changes }: z.output<typeof configChange>) => {
  const { set, unset } = splitConfigChanges(changes);
  return d.releases.changeConfig(actor, app, set, unset);
};

/** Over SSH the answer names the vars; their values stay with `config`. */
const changedNames = async (r: ReturnType<ReturnType<typeof change>>) => {
  const { config, release } = configChangeView(await r);
  return { config: Object.keys(config), release };
};

export const updateConfig = defineOperation(
  {
    name: 'config:update',
    summary: 'Set (string) or unset (null) config vars: a new release',
    access: { app: 'admin' },
    input: configChange,
    http: { method: 'PATCH', path: '/v1/apps/:app/config', body: { into: 'changes' } },
  },
  (d: Deps) => ({ run: async (actor, i) => configChangeView(await change(d)(actor, i)) }),
);

export const setConfig = defineOperation(
  {
    name: 'config:set',
    summary: 'Set config vars: a new release, no build',
    access: { app: 'admin' },
    input: configChange,
    ssh: {
      usage: 'config:set APP KEY=VALUE ...',
      args: ['app'],
      rest: { into: 'assignments', max: 99 },
      map: ({ assignments, ...w }) => ({
        ...w,
        changes: Object.fromEntries(wordsOf(assignments).map((a) => parseAssignment(a) ?? usage(`expected KEY=VALUE, got ${JSON.stringify(a.slice(0, 40))}`))),
      }),
    },
  },
  (d: Deps) => ({
    run: (actor, i) => changedNames(change(d)(actor, i)),
    text: (r, i) => `set ${Object.keys(i.changes).join(', ')}${r.release ? `: released v${r.release.version}` : ''}\n`,
  }),
);

export const unsetConfig = defineOperation(
  {
    name: 'config:unset',
    summary: 'Unset config vars: a new release, no build',
    access: { app: 'admin' },
    input: configChange,
    ssh: {
      usage: 'config:unset APP KEY ...',
      args: ['app'],
      rest: { into: 'keys', max: 99 },
      map: ({ keys, ...w }) => ({ ...w, changes: Object.fromEntries(wordsOf(keys).map((k) => [k, null])) }),
    },
  },
  (d: Deps) => ({
    run: (actor, i) => changedNames(change(d)(actor, i)),
    text: (r, i) => `unset ${Object.keys(i.changes).join(', ')}${r.release ? `: released v${r.release.version}` : ''}\n`,
  }),
);

export const releaseOperations = [listReleases, releaseInfo, rollback, showConfig, updateConfig, setConfig, unsetConfig];
