// Language packs (stock and registered, built here from a tar) and buildpacks uploaded as archives.
import { z } from 'zod';
import type { BuildpackArchives } from '../build/packs/buildpack-archives.js';
import type { PackRegistry } from '../build/packs/pack-registry.js';
import { defineOperation, signedIn, stream, TAR_TYPES, usage, wordOf } from './operation.js';
import { table } from './text.js';
import { buildpackView } from './views.js';

interface Deps {
  readonly registry: PackRegistry;
  readonly buildpackArchives: BuildpackArchives;
}

const named = z.object({ name: z.string() });

export const listPacks = defineOperation(
  {
    name: 'lp:list',
    summary: 'Language packs, stock and registered; ?q= searches name and version, ?q=NAME@VERSION wants that version or one below it (2 → 2.x)',
    access: 'signed-in',
    input: z.object({ q: z.string().optional() }),
    http: { method: 'GET', path: '/v1/language-packs', list: true, query: ['q'] },
    ssh: { usage: 'lp:list [QUERY]', help: 'language packs (stock and registered), optionally those matching QUERY', optional: ['q'] },
  },
  (d: Deps) => ({
    run: (actor, i) => {
      signedIn(actor);
      return d.registry.list(i.q);
    },
    text: (list) => table([['NAME', 'VERSION', 'ORIGIN', 'STATUS', 'DETECTS'], ...list.map((x) => [x.name, x.version, x.origin, x.status, x.detect.join(', ') || '(fallback)'])]),
  }),
);

export const packInfo = defineOperation(
  {
    name: 'lp:info',
    summary: 'One language pack',
    access: 'signed-in',
    input: named,
    http: { method: 'GET', path: '/v1/language-packs/:name' },
    ssh: { usage: 'lp:info NAME', args: ['name'] },
  },
  (d: Deps) => ({
    run: (actor, i) => {
      signedIn(actor);
      return d.registry.get(i.name);
    },
    text: (x) => table([['name', x.name], ['version', x.version], ['origin', x.origin], ['kind', x.kind], ['image', `${x.image ?? '-'} ${x.imageId ?? ''}`], ['status', x.status], ['network', x.network], ['run', x.run ?? '-']]),
  }),
);

export const registerPack = defineOperation(
  {
    name: 'lp:register',
    summary: 'Register a local image as a language pack with its manifest (admins)',
    access: 'admin',
    input: z.object({ image: z.string(), manifest: z.record(z.string(), z.unknown()) }).strict(),
    http: { method: 'POST', path: '/v1/language-packs', status: 201, body: 'fields' },
    ssh: {
      usage: 'lp:register IMAGE < solum-pack.json',
      help: 'register a local image as a language pack (admins)',
      args: ['image'],
      stdin: { text: 'manifest' },
      map(w) {
        try {
          return { ...w, manifest: JSON.parse(wordOf(w.manifest)) as unknown };
        } catch {
          usage('give the pack manifest (solum-pack.json) on standard input');
        }
      },
    },
  },
  (d: Deps) => ({
    run: (actor, i) => d.registry.register(actor, i),
    text: (x) => `registered language pack ${x.name} ${x.version} (${x.imageId ?? ''})\n`,
  }),
);

export const buildPack = defineOperation(
  {
    name: 'lp:build',
    summary: 'Build a language pack from a tar with a Dockerfile, solum-pack.json and its build script (admins)',
    access: 'admin',
    input: z.object({ tar: stream() }),
    http: { method: 'POST', path: '/v1/language-packs', status: 202, raw: { into: 'tar', types: TAR_TYPES } },
  },
  (d: Deps) => ({ run: (actor, i) => d.registry.create(actor, i.tar) }),
);

export const refreshPack = defineOperation(
  {
    name: 'lp:refresh',
    summary: "Re-read a pack's image ID after its image was rebuilt (admins)",
    access: 'admin',
    input: named,
    http: { method: 'POST', path: '/v1/language-packs/:name/refresh' },
    ssh: { usage: 'lp:refresh NAME', args: ['name'] },
  },
  (d: Deps) => ({
    run: (actor, i) => d.registry.refresh(actor, i.name),
    text: (x) => `${x.name}: ${x.imageId ?? 'missing'}\n`,
  }),
);

export const removePack = defineOperation(
  {
    name: 'lp:remove',
    summary: 'Remove a registered pack no app pins or was last built with (admins)',
    access: 'admin',
    input: named,
    http: { method: 'DELETE', path: '/v1/language-packs/:name', status: 204 },
    ssh: { usage: 'lp:remove NAME', help: 'remove a registered pack no app pins or runs (admins)', args: ['name'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.registry.remove(actor, i.name);
      return { removed: i.name };
    },
    text: (r) => `removed language pack ${r.removed}\n`,
  }),
);

export const listBuildpacks = defineOperation(
  {
    name: 'buildpacks:list',
    summary: 'Buildpacks uploaded as archives (apps name them solum-buildpack:NAME)',
    access: 'signed-in',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/buildpacks' },
  },
  (d: Deps) => ({ run: async (actor) => (await d.buildpackArchives.list(actor)).map(buildpackView) }),
);

export const uploadBuildpack = defineOperation(
  {
    name: 'buildpacks:upload',
    summary: 'Upload a buildpack archive: a tar / tar.gz with bin/detect and bin/compile (admins)',
    access: 'admin',
    input: z.object({ name: z.string(), tar: stream() }),
    http: { method: 'PUT', path: '/v1/buildpacks/:name', status: 201, raw: { into: 'tar', types: TAR_TYPES, refuse: `send the buildpack as a tar or tar.gz (${TAR_TYPES.join(', ')})` } },
  },
  (d: Deps) => ({ run: async (actor, i) => buildpackView(await d.buildpackArchives.upload(actor, i.name, i.tar)) }),
);

export const removeBuildpack = defineOperation(
  {
    name: 'buildpacks:remove',
    summary: 'Remove an uploaded buildpack no app uses (admins)',
    access: 'admin',
    input: named,
    http: { method: 'DELETE', path: '/v1/buildpacks/:name', status: 204 },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.buildpackArchives.remove(actor, i.name);
      return { removed: i.name };
    },
  }),
);

export const packOperations = [listPacks, packInfo, registerPack, buildPack, refreshPack, removePack, listBuildpacks, uploadBuildpack, removeBuildpack];
