// Canary releases of an app (decision 0019): start one (or change its share), promote it, abort it.
// Same access as a rollback: the app's write collaborators.
import { z } from 'zod';
import type { CanaryService } from '../deploy/canary-service.js';
import type { ReleaseService } from '../deploy/release-service.js';
import { parseCanaryShare, parseVersion } from '../parse.js';
import { defineOperation, usage, wordOf } from './operation.js';
import { canaryView, releaseView } from './views.js';

interface Deps {
  readonly canaries: CanaryService;
  readonly releases: ReleaseService;
}

const percentWord = (raw: string): number => parseCanaryShare(raw) ?? usage('PERCENT is a whole number from 1 to 99');

export const startCanary = defineOperation(
  {
    name: 'releases:canary',
    summary: 'Send a share of new sessions to release vN (sticky per client), or change the running canary\'s share',
    access: { app: 'write' },
    input: z.object({ app: z.string(), version: z.number().int().min(1), percent: z.number().int().min(1, 'PERCENT is from 1 to 99').max(99, 'PERCENT is from 1 to 99') }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/canary', status: 201, body: 'fields' },
    ssh: {
      usage: 'releases:canary APP vN PERCENT',
      help: 'start release vN as a canary with PERCENT% of new sessions (again: change its share)',
      args: ['app', 'version', 'percent'],
      map: (w) => ({ ...w, version: parseVersion(wordOf(w.version)) ?? usage('release versions look like v3'), percent: percentWord(wordOf(w.percent)) }),
    },
  },
  (d: Deps) => ({
    run: async (actor, i) => canaryView(await d.canaries.start(actor, i.app, i.version, i.percent).then((c) => ({ version: c.version, percent: c.percent, since: c.startedAt }))),
    text: (c, i) => `canary v${c.version} of ${i.app}: ${c.percent}% of new sessions\n`,
  }),
);

export const showCanary = defineOperation(
  {
    name: 'releases:canary:info',
    summary: 'The running canary, if any',
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/canary' },
    ssh: { usage: 'releases:canary:info APP', help: "show an app's running canary", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => ({ canary: await d.canaries.running(actor, i.app).then((c) => c && canaryView(c)) }),
    text: (r) => (r.canary ? `canary v${r.canary.version}: ${r.canary.percent}% of new sessions since ${r.canary.since}\n` : 'no canary running\n'),
  }),
);

export const promoteCanary = defineOperation(
  {
    name: 'releases:promote',
    summary: 'Make the running canary the live release',
    access: { app: 'write' },
    input: z.object({ app: z.string() }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/canary/promote', body: 'fields' },
    ssh: { usage: 'releases:promote APP', help: 'make the running canary the live release', args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => releaseView(await d.canaries.promote(actor, i.app)),
    text: (r) => `promoted: v${r.version} is live\n`,
  }),
);

export const abortCanary = defineOperation(
  {
    name: 'releases:abort',
    summary: 'Stop the running canary; every session goes back to the live release',
    access: { app: 'write' },
    input: z.object({ app: z.string() }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/canary/abort', body: 'fields' },
    ssh: { usage: 'releases:abort APP', help: 'stop the running canary (all traffic back to the live release)', args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => {
      const c = await d.canaries.abort(actor, i.app);
      return { version: c.version, status: c.status, reason: c.reason };
    },
    text: (r) => `canary v${r.version} aborted\n`,
  }),
);

export const canaryOperations = [startCanary, showCanary, promoteCanary, abortCanary];
