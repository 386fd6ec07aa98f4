// Preview apps of an app (decision 0020): list them, destroy one, read and change the app's preview
// settings. Collaborators list; those who may push (write) destroy, as they made them by pushing;
// the settings are the app admins'.
import { z } from 'zod';
import type { PreviewSettings } from '../db/preview-store.js';
import type { PreviewInfo, PreviewService } from '../previews/preview-service.js';
import { parseAssignment, parseWholeNumber } from '../parse.js';
import { configChanges, splitConfigChanges } from './config-vars.js';
import { defineOperation, usage, wordOf, wordsOf } from './operation.js';
import { table, when } from './text.js';
import { configChangeView } from './views.js';

interface Deps {
  readonly previews: PreviewService;
}

/** A preview as the API answers it (and the dashboard draws it). */
export interface PreviewJson {
  readonly name: string;
  readonly branch: string;
  readonly url: string;
  readonly state: string;
  readonly createdAt: string;
  readonly lastPushAt: string;
  readonly expiresAt: string;
  /** The live release's version, if any. */
  readonly release: number | null;
}

export interface PreviewSettingsJson {
  readonly pattern: string | null;
  readonly pullRequests: boolean;
  readonly ttlSeconds: number;
  readonly maxPreviews: number;
}

const previewView = (p: PreviewInfo): PreviewJson => ({
  name: p.preview.name,
  branch: p.preview.branch,
  url: p.url,
  state: p.preview.state,
  createdAt: p.preview.createdAt.toISOString(),
  lastPushAt: p.preview.lastPushAt.toISOString(),
  expiresAt: p.expiresAt.toISOString(),
  release: p.release,
});

const settingsView = (s: PreviewSettings): PreviewSettingsJson => ({ pattern: s.pattern, pullRequests: s.pullRequests, ttlSeconds: s.ttlSeconds, maxPreviews: s.maxPreviews });

const duration = (seconds: number): string =>
  seconds % 86_400 === 0 ? `${seconds / 86_400}d` : seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;

const settingsText = (s: PreviewSettingsJson): string =>
  `pattern: ${s.pattern ?? 'off (only git push -o solum.preview makes a preview)'}\npull requests: ${s.pullRequests ? 'previews (by webhook; without the app\'s config)' : 'no previews'}\nidle TTL: ${duration(s.ttlSeconds)}\nmax previews: ${s.maxPreviews}\n`;

export const listPreviews = defineOperation(
  {
    name: 'previews',
    summary: "An app's preview apps: name, branch, URL, state and when each expires idle",
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/previews' },
    ssh: { usage: 'previews APP', help: "list an app's previews", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.previews.list(actor, i.app)).map(previewView),
    text: (list) => (list.length === 0 ? 'no previews\n' : table([['NAME', 'BRANCH', 'URL', 'STATE', 'RELEASE', 'EXPIRES'], ...list.map((p) => [p.name, p.branch, p.url, p.state, p.release === null ? '-' : `v${p.release}`, when(p.expiresAt)])])),
  }),
);

export const destroyPreview = defineOperation(
  {
    name: 'previews:destroy',
    summary: 'Tear a preview down completely: processes, router entry, service instances, network, its releases',
    access: { app: 'write' },
    input: z.object({ app: z.string(), name: z.string().max(64) }),
    http: { method: 'DELETE', path: '/v1/apps/:app/previews/:name', status: 204 },
    ssh: { usage: 'previews:destroy APP NAME', help: 'tear a preview down (everything it holds goes)', args: ['app', 'name'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => {
      const p = await d.previews.destroy(actor, i.app, i.name);
      return { name: p.name, state: p.state };
    },
    text: (p, i) => `destroyed preview ${p.name} of ${i.app}\n`,
  }),
);

export const showPreviewSettings = defineOperation(
  {
    name: 'previews:settings',
    summary: "An app's preview settings: branch pattern, pull requests, idle TTL, maximum",
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/preview-settings' },
    ssh: { usage: 'previews:settings APP', help: "show an app's preview settings", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => settingsView(await d.previews.settings(actor, i.app)),
    text: settingsText,
  }),
);

export const changePreviewSettings = defineOperation(
  {
    name: 'previews:settings:set',
    summary: "Change an app's preview settings (pattern `off` turns branch previews off; TTL like 3d, 12h, 30m)",
    access: { app: 'admin' },
    input: z
      .object({
        app: z.string(),
        pattern: z.string().max(200).optional(),
        pullRequests: z.boolean().optional(),
        ttl: z.string().max(40).optional(),
        maxPreviews: z.number().int().min(0, 'max previews is from 0 to 100').max(100, 'max previews is from 0 to 100').optional(),
      })
      .strict(),
    http: { method: 'PATCH', path: '/v1/apps/:app/preview-settings', body: 'fields' },
    ssh: {
      usage: 'previews:settings:set APP [--pattern GLOB|off] [--pull-requests on|off] [--ttl 7d] [--max N]',
      help: "change an app's preview settings",
      args: ['app'],
      options: { '--pattern': 'pattern', '--ttl': 'ttl', '--max': 'max', '--pull-requests': 'pullRequests' },
      map({ max, pullRequests, ...words }) {
        const pr = pullRequests === undefined ? undefined : wordOf(pullRequests);
        if (pr !== undefined && pr !== 'on' && pr !== 'off') usage('--pull-requests takes on or off');
        return {
          ...words,
          ...(max === undefined ? {} : { maxPreviews: parseWholeNumber(wordOf(max), 100) ?? usage('--max takes a whole number from 0 to 100') }),
          ...(pr === undefined ? {} : { pullRequests: pr === 'on' }),
        };
      },
    },
  },
  (d: Deps) => ({
    run: async (actor, i) => settingsView(await d.previews.configure(actor, i.app, i)),
    text: settingsText,
  }),
);

export const previewConfig = defineOperation(
  {
    name: 'previews:config',
    summary: "A preview's own config vars (set over its copy of the app's config at each release of it)",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), name: z.string().max(64) }),
    http: { method: 'GET', path: '/v1/apps/:app/previews/:name/config' },
    ssh: { usage: 'previews:config APP NAME', help: "show a preview's own config vars", args: ['app', 'name'] },
  },
  (d: Deps) => ({
    run: (actor, i) => d.previews.config(actor, i.app, i.name),
    text: (c) => (Object.keys(c).length === 0 ? 'no config vars of its own\n' : table(Object.entries(c).map(([k, v]) => [`${k}:`, v]))),
  }),
);

const previewConfigChange = z.object({ app: z.string(), name: z.string().max(64), changes: configChanges });

const changePreview = (d: Deps) => async (actor: Parameters<PreviewService['changeConfig']>[0], i: z.output<typeof previewConfigChange>) => {
  const { set, unset } = splitConfigChanges(i.changes);
  const { config, release } = configChangeView(await d.previews.changeConfig(actor, i.app, i.name, set, unset));
  // The answer names the vars; their values stay with previews:config.
  return { config: Object.keys(config), release };
};

export const setPreviewConfig = defineOperation(
  {
    name: 'previews:config:set',
    summary: "Set (string) or unset (null) a preview's own config vars: a new release of it when it runs one",
    access: { app: 'admin' },
    input: previewConfigChange,
    http: { method: 'PATCH', path: '/v1/apps/:app/previews/:name/config', body: { into: 'changes' } },
    ssh: {
      usage: 'previews:config:set APP NAME KEY=VALUE ...',
      help: "set a preview's own config vars (over the app's)",
      args: ['app', 'name'],
      rest: { into: 'assignments', max: 99 },
      map: ({ assignments, ...w }) => ({ ...w, changes: Object.fromEntries(wordsOf(assignments).map((a) => parseAssignment(a) ?? usage(`expected KEY=VALUE, got ${JSON.stringify(a.slice(0, 40))}`))) }),
    },
  },
  (d: Deps) => ({
    run: changePreview(d),
    text: (r, i) => `set ${Object.keys(i.changes).join(', ')} on preview ${i.name}${r.release ? `: released v${r.release.version}` : ''}\n`,
  }),
);

export const unsetPreviewConfig = defineOperation(
  {
    name: 'previews:config:unset',
    summary: "Unset a preview's own config vars (the app's values apply again): a new release of it",
    access: { app: 'admin' },
    input: previewConfigChange,
    ssh: {
      usage: 'previews:config:unset APP NAME KEY ...',
      args: ['app', 'name'],
      rest: { into: 'keys', max: 99 },
      map: ({ keys, ...w }) => ({ ...w, changes: Object.fromEntries(wordsOf(keys).map((k) => [k, null])) }),
    },
  },
  (d: Deps) => ({
    run: changePreview(d),
    text: (r, i) => `unset ${Object.keys(i.changes).join(', ')} on preview ${i.name}${r.release ? `: released v${r.release.version}` : ''}\n`,
  }),
);

export const previewOperations = [listPreviews, destroyPreview, showPreviewSettings, changePreviewSettings, previewConfig, setPreviewConfig, unsetPreviewConfig];
