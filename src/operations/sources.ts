// Where an app's pull builds come from, its webhook secret and its commit-status reporting. (The
// webhook itself, authenticated by its signature over the raw body, is src/http/signed-routes.ts.)
import { z } from 'zod';
import type { CommitStatuses } from '../build/sources/commit-status.js';
import type { PullBuilds } from '../build/sources/pull-builds.js';
import type { Webhooks } from '../build/sources/webhooks.js';
import { defineOperation } from './operation.js';

interface Deps {
  readonly pulls: PullBuilds;
  readonly webhooks: Webhooks;
  readonly statuses: CommitStatuses;
}

export const showSource = defineOperation(
  {
    name: 'sources:info',
    summary: "The app's source and deploy key",
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/source' },
  },
  (d: Deps) => ({ run: (actor, i) => d.pulls.source(actor, i.app) }),
);

export const setSource = defineOperation(
  {
    name: 'sources:set',
    summary: "Set the app's source (git URL and ref)",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), url: z.string(), ref: z.string().optional() }).strict(),
    http: { method: 'PUT', path: '/v1/apps/:app/source', body: 'fields' },
  },
  (d: Deps) => ({ run: (actor, { app, ...source }) => d.pulls.setSource(actor, app, source) }),
);

export const setCommitStatus = defineOperation(
  {
    name: 'commit-status:set',
    summary: 'Report commit statuses to a GitHub-compatible endpoint (null turns it off)',
    access: { app: 'admin' },
    input: z.object({ app: z.string(), config: z.object({ url: z.string(), token: z.string().max(1000) }).strict().nullable() }),
    http: { method: 'PUT', path: '/v1/apps/:app/commit-status', body: { into: 'config' } },
  },
  (d: Deps) => ({ run: (actor, i) => d.statuses.configure(actor, i.app, i.config) }),
);

export const rotateWebhookSecret = defineOperation(
  {
    name: 'webhooks:rotate-secret',
    summary: 'A new webhook secret (returned once)',
    access: { app: 'admin' },
    input: z.object({ app: z.string() }),
    http: { method: 'POST', path: '/v1/apps/:app/webhook/secret', status: 201 },
  },
  (d: Deps) => ({ run: (actor, i) => d.webhooks.rotate(actor, i.app) }),
);

export const sourceOperations = [showSource, setSource, setCommitStatus, rotateWebhookSecret];
