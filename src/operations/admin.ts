// Operator tasks (admins): pruning old DUs and leftovers, and rebuilding apps built from outdated pack images.
import { z } from 'zod';
import type { Retention } from '../build/upkeep/retention.js';
import type { SecurityRebuilds } from '../build/upkeep/security-rebuilds.js';
import { defineOperation, flag } from './operation.js';
import { table } from './text.js';

interface Deps {
  readonly retention: Retention;
  readonly securityRebuilds: SecurityRebuilds;
}

export const prune = defineOperation(
  {
    name: 'prune',
    summary: 'Remove old DUs (keeping the newest per app and every released one), leftover builders and orphaned build caches (admins)',
    access: 'admin',
    input: z.object({}),
    http: { method: 'POST', path: '/v1/prune' },
    ssh: { usage: 'prune', help: 'remove old DUs, leftover builders and orphaned build caches (admins)' },
  },
  (d: Deps) => ({
    run: (actor) => d.retention.prune(actor),
    text: (r) => `removed ${r.images.length} DU image(s), ${r.containers} container(s), ${r.volumes.length} cache volume(s)\n`,
  }),
);

export const securityRebuilds = defineOperation(
  {
    name: 'security:rebuilds',
    summary: 'Apps whose live DU was built from an older pack image (admins); ?pack=NAME',
    access: 'admin',
    // Only SSH's --rebuild asks for rebuilds here; over HTTP that is a POST of its own.
    input: z.object({ pack: z.string().optional(), rebuild: flag() }),
    http: { method: 'GET', path: '/v1/security-rebuilds', list: true, query: ['pack'] },
    ssh: {
      usage: 'security:rebuilds [--pack NAME] [--rebuild]',
      help: 'apps whose live DU was built from an older pack image; --rebuild queues their rebuilds (admins)',
      options: { '--pack': 'pack' },
      switches: { '--rebuild': 'rebuild' },
    },
  },
  (d: Deps) => ({
    run: (actor, i) => d.securityRebuilds.run(actor, { pack: i.pack, rebuild: i.rebuild }),
    text: (list) =>
      list.length === 0
        ? 'no live releases\n'
        : table([['APP', 'RELEASE', 'PACK', 'STATE', 'QUEUED', 'WHY'], ...list.map((c) => [c.app, `v${c.release}`, c.languagePack ?? '-', c.state, c.queued === null ? '-' : `#${c.queued}`, c.reason])]),
  }),
);

export const queueSecurityRebuilds = defineOperation(
  {
    name: 'security:rebuilds:queue',
    summary: 'Queue rebuilds of those apps (admins)',
    access: 'admin',
    input: z.object({ pack: z.string().optional() }).strict(),
    http: { method: 'POST', path: '/v1/security-rebuilds', body: 'fields' },
  },
  (d: Deps) => ({ run: (actor, i) => d.securityRebuilds.run(actor, { pack: i.pack, rebuild: true }) }),
);

export const adminOperations = [prune, securityRebuilds, queueSecurityRebuilds];
