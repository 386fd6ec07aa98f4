// Builds of an app: list and inspect them, build from the app's source or an upload, register an
// image as a DU, cancel, empty the build cache. (The log, which streams, is src/http/build-log.ts.)
import { z } from 'zod';
import type { BuildControl } from '../build/queue/build-control.js';
import type { BuildSources } from '../build/sources/build-sources.js';
import type { PullBuilds } from '../build/sources/pull-builds.js';
import { defineOperation, positiveInt, stream, TAR_TYPES } from './operation.js';
import { table, when } from './text.js';
import { buildView } from './views.js';

interface Deps {
  readonly buildControl: BuildControl;
  readonly buildSources: BuildSources;
  readonly pulls: PullBuilds;
}

const buildNumber = positiveInt('build numbers are positive integers', 9);
const buildId = positiveInt('build IDs are positive integers');

export const listBuilds = defineOperation(
  {
    name: 'builds',
    summary: 'Builds, newest first',
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/builds', list: true },
    ssh: { usage: 'builds APP', help: "list an app's builds, newest first", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.buildControl.list(actor, i.app)).map(buildView),
    text: (list) =>
      list.length === 0 ? 'no builds\n' : table([['#', 'STATUS', 'COMMIT', 'DU', 'CREATED'], ...list.map((b) => [String(b.number), b.status, b.commit.slice(0, 12), b.duImage ?? '-', when(b.createdAt)])]),
  }),
);

export const buildByNumber = defineOperation(
  {
    name: 'builds:info',
    summary: 'A build by its number',
    access: { app: 'read' },
    input: z.object({ app: z.string(), number: buildNumber }),
    http: { method: 'GET', path: '/v1/apps/:app/builds/:number' },
  },
  (d: Deps) => ({ run: async (actor, i) => buildView(await d.buildControl.byNumber(actor, i.app, i.number)) }),
);

export const buildById = defineOperation(
  {
    name: 'builds:get',
    summary: 'A build',
    access: { app: 'read' },
    input: z.object({ id: buildId }),
    http: { method: 'GET', path: '/v1/builds/:id' },
  },
  (d: Deps) => ({ run: async (actor, i) => buildView(await d.buildControl.get(actor, i.id)) }),
);

const canceled = (b: ReturnType<typeof buildView>): string => (b.status === 'canceled' ? `canceled build #${b.number}\n` : `stopping build #${b.number}\n`);

export const cancelBuild = defineOperation(
  {
    name: 'builds:cancel',
    summary: 'Cancel a queued or running build',
    access: { app: 'write' },
    input: z.object({ app: z.string(), number: buildNumber }),
    ssh: { usage: 'builds:cancel APP NUMBER', args: ['app', 'number'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => buildView(await d.buildControl.cancel(actor, (await d.buildControl.byNumber(actor, i.app, i.number)).id)),
    text: canceled,
  }),
);

export const cancelBuildById = defineOperation(
  {
    name: 'builds:cancel-by-id',
    summary: 'Cancel a queued or running build',
    access: { app: 'write' },
    input: z.object({ id: buildId }),
    http: { method: 'POST', path: '/v1/builds/:id/cancel' },
  },
  (d: Deps) => ({ run: async (actor, i) => buildView(await d.buildControl.cancel(actor, i.id)) }),
);

export const pullBuild = defineOperation(
  {
    name: 'builds:create',
    summary: 'Build from the app source (JSON {ref?, commit?, onlyIfChanged?})',
    access: { app: 'write' },
    input: z.object({ app: z.string(), ref: z.string().optional(), commit: z.string().optional(), onlyIfChanged: z.boolean().optional() }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/builds', status: 201, body: 'fields' },
    ssh: { usage: 'builds:create APP [REF]', help: "fetch the app's source (its ref, or REF) and build it", args: ['app'], optional: ['ref'], switches: { '--only-if-changed': 'onlyIfChanged' } },
  },
  (d: Deps) => ({
    async run(actor, i) {
      const r = await d.pulls.pull(actor, i.app, { ref: i.ref, commit: i.commit, onlyIfChanged: i.onlyIfChanged ?? false });
      return 'skipped' in r ? { status: 'skipped' as const, reason: r.skipped, commit: r.commit } : buildView(r.build);
    },
    // Nothing new to build is an answer, not a creation.
    status: (out) => ('reason' in out ? 200 : 201),
    text: (out) => ('reason' in out ? `skipped: ${out.reason}\n` : `queued build #${out.number} of ${out.commit.slice(0, 12)}\n`),
  }),
);

export const uploadBuild = defineOperation(
  {
    name: 'builds:upload',
    summary: 'Build an uploaded tar / tar.gz of the app',
    access: { app: 'write' },
    input: z.object({ app: z.string(), archive: stream() }),
    http: {
      method: 'POST',
      path: '/v1/apps/:app/builds',
      status: 201,
      raw: { into: 'archive', types: TAR_TYPES, refuse: 'send JSON {ref?, commit?, onlyIfChanged?} to build from the app source, or a tar / tar.gz body to build it' },
    },
  },
  (d: Deps) => ({ run: async (actor, i) => buildView(await d.buildSources.upload(actor, i.app, i.archive)) }),
);

export const registerImage = defineOperation(
  {
    name: 'builds:register-image',
    summary: 'Register a local image as a DU',
    access: { app: 'write' },
    input: z.object({ app: z.string(), image: z.string() }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/deployment-units', status: 201, body: 'fields' },
  },
  (d: Deps) => ({
    async run(actor, i) {
      const r = await d.buildSources.registerImage(actor, i.app, i.image);
      return { ...buildView(r.build), releaseError: r.releaseError ?? null };
    },
  }),
);

export const purgeCache = defineOperation(
  {
    name: 'builds:cache:purge',
    summary: "Empty the app's build cache",
    access: { app: 'write' },
    input: z.object({ app: z.string() }),
    http: { method: 'DELETE', path: '/v1/apps/:app/build-cache' },
    ssh: { usage: 'builds:cache:purge APP', help: "empty the app's build cache (the next build downloads everything again)", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => ({ removed: await d.buildControl.purgeCache(actor, i.app) }),
    text: (r) => `purged ${r.removed} cache volume${r.removed === 1 ? '' : 's'}\n`,
  }),
);

export const buildOperations = [listBuilds, buildByNumber, buildById, cancelBuild, cancelBuildById, pullBuild, uploadBuild, registerImage, purgeCache];
