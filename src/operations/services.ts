// Backing services (postgres, redis): create, list, inspect, link to apps and unlink, destroy, back up and restore.
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { ServiceManager } from '../backing-services/service-manager.js';
import { defineOperation, flag, stream } from './operation.js';
import { releaseNote, table, when } from './text.js';
import { linkChangeView, serviceInfoView, serviceView } from './views.js';

interface Deps {
  readonly services: ServiceManager;
}

const named = z.object({ name: z.string() });
const link = z.object({ name: z.string(), app: z.string() });

export const listServices = defineOperation(
  {
    name: 'services:list',
    summary: 'Backing service instances the caller owns (admins: all)',
    access: 'signed-in',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/services', list: true },
    ssh: { usage: 'services:list', help: 'your backing service instances (admins: all)' },
  },
  (d: Deps) => ({
    run: async (actor) => (await d.services.list(actor)).map((i) => serviceView(i)),
    text: (list) =>
      list.length === 0 ? 'no services\n' : table([['NAME', 'KIND', 'OWNER', 'PORT', 'CREATED'], ...list.map((s) => [s.name, s.kind, s.owner ?? '-', String(s.port), when(s.createdAt)])]),
  }),
);

export const createService = defineOperation(
  {
    name: 'services:create',
    summary: 'Create a backing service instance (kind postgres or redis)',
    access: 'signed-in',
    input: z.object({ kind: z.string(), name: z.string() }).strict(),
    http: { method: 'POST', path: '/v1/services', status: 201, body: 'fields' },
    ssh: { usage: 'services:create KIND NAME', help: 'create a backing service instance (postgres or redis)', args: ['kind', 'name'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => serviceView(await d.services.create(actor, i.kind, i.name), []),
    text: (s) => `created ${s.kind} service ${s.name}\n`,
  }),
);

export const serviceInfo = defineOperation(
  {
    name: 'services:info',
    summary: 'A service instance: links, state and its URL (owner or admins)',
    access: 'owner',
    input: named,
    http: { method: 'GET', path: '/v1/services/:name' },
    ssh: { usage: 'services:info NAME', help: 'one service instance: state, links and URL', args: ['name'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => serviceInfoView(await d.services.info(actor, i.name)),
    text: (s) =>
      table([['name', s.name], ['kind', s.kind], ['owner', s.owner ?? '-'], ['state', s.state], ['url', s.url], ['links', (s.links ?? []).map((l) => `${l.app} (${l.envVar})`).join(', ') || '-']]),
  }),
);

export const linkService = defineOperation(
  {
    name: 'services:link',
    summary: 'Link an instance to an app: sets DATABASE_URL / REDIS_URL (or an alias) and makes a release (instance owner and app admin)',
    access: { app: 'admin' },
    input: link,
    http: { method: 'PUT', path: '/v1/services/:name/links/:app' },
    ssh: { usage: 'services:link NAME APP', help: 'link an instance to an app: sets DATABASE_URL / REDIS_URL (or an alias) and makes a release', args: ['name', 'app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => linkChangeView(await d.services.link(actor, i.name, i.app)),
    text: (l) => `linked ${l.service} to ${l.app} as ${l.envVar}${releaseNote(l.release)}\n`,
  }),
);

export const unlinkService = defineOperation(
  {
    name: 'services:unlink',
    summary: 'Unlink: unsets the config var and makes a release',
    access: { app: 'admin' },
    input: link,
    http: { method: 'DELETE', path: '/v1/services/:name/links/:app' },
    ssh: { usage: 'services:unlink NAME APP', help: 'unlink an instance from an app: unsets its config var and makes a release', args: ['name', 'app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => linkChangeView(await d.services.unlink(actor, i.name, i.app)),
    text: (l) => `unlinked ${l.service} from ${l.app} (${l.envVar} unset)${releaseNote(l.release)}\n`,
  }),
);

export const destroyService = defineOperation(
  {
    name: 'services:destroy',
    summary: 'Destroy an instance and its data: ?confirm=NAME, and &force=1 when it is still linked (owner or admins)',
    access: 'owner',
    input: z.object({ name: z.string(), confirm: z.string().optional(), force: flag() }),
    http: { method: 'DELETE', path: '/v1/services/:name', status: 204, query: ['confirm', 'force'] },
    ssh: { usage: 'services:destroy NAME --confirm NAME [--force]', help: 'destroy an instance and its data (--force when still linked)', args: ['name'], options: { '--confirm': 'confirm' }, switches: { '--force': 'force' } },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.services.destroy(actor, i.name, { confirm: i.confirm, force: i.force });
      return { destroyed: i.name };
    },
    text: (r) => `destroyed service ${r.destroyed}\n`,
  }),
);

export const backupService = defineOperation(
  {
    name: 'services:backup',
    summary: 'A pg_dump -Fc of a postgres instance (streamed)',
    access: 'owner',
    input: named,
    http: { method: 'GET', path: '/v1/services/:name/backup', produces: 'binary', attachment: { from: 'name', suffix: '.dump' } },
    ssh: { usage: 'services:backup NAME > dump', help: 'a pg_dump -Fc of a postgres instance on standard output', args: ['name'] },
  },
  (d: Deps) => ({ run: (actor, i): Promise<Readable> => d.services.backup(actor, i.name) }),
);

export const restoreService = defineOperation(
  {
    name: 'services:restore',
    summary: 'Restore a postgres instance from a pg_dump -Fc archive (all or nothing)',
    access: 'owner',
    input: z.object({ name: z.string(), dump: stream() }),
    http: { method: 'POST', path: '/v1/services/:name/restore', status: 204, raw: { into: 'dump' } },
    ssh: { usage: 'services:restore NAME < dump', help: "replace a postgres instance's database with a pg_dump -Fc archive from standard input", args: ['name'], stdin: { stream: 'dump' } },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.services.restore(actor, i.name, i.dump);
      return { restored: i.name };
    },
    text: (r) => `restored service ${r.restored}\n`,
  }),
);

export const serviceOperations = [createService, listServices, serviceInfo, linkService, unlinkService, destroyService, backupService, restoreService];
