// Preview apps (decision 0020): an app's preview settings, its previews (each a deploy target with
// the release tables an environment has: `releases` is a ReleaseStore keyed by preview ID) and the
// service instances made for them.
import type { Knex } from 'knex';
import { createReleaseStore, type ReleaseStore } from './release-store.js';

export type PreviewState = 'building' | 'up' | 'failed' | 'doomed';

export interface PreviewSettings {
  readonly pattern: string | null;
  readonly pullRequests: boolean;
  readonly ttlSeconds: number;
  readonly maxPreviews: number;
}

export interface Preview {
  readonly id: number;
  readonly appId: number;
  readonly name: string;
  readonly branch: string;
  readonly routerName: string;
  readonly source: 'push' | 'pull-request';
  readonly state: PreviewState;
  readonly createdAt: Date;
  readonly lastPushAt: Date;
}

interface PreviewRow {
  id: number;
  app_id: number;
  name: string;
  branch: string;
  router_name: string;
  source: 'push' | 'pull-request';
  state: PreviewState;
  created_at: Date;
  last_push_at: Date;
}

const toPreview = (r: PreviewRow): Preview => ({ id: r.id, appId: r.app_id, name: r.name, branch: r.branch, routerName: r.router_name, source: r.source, state: r.state, createdAt: r.created_at, lastPushAt: r.last_push_at });

export const defaultPreviewSettings: PreviewSettings = { pattern: null, pullRequests: false, ttlSeconds: 7 * 24 * 3600, maxPreviews: 10 };

export interface PreviewStore {
  settings(appId: number): Promise<PreviewSettings>;
  setSettings(appId: number, changes: Partial<PreviewSettings>): Promise<PreviewSettings>;
  /** Previews of an app that are not being torn down (doomed ones too with `all`). */
  list(appId: number, options?: { all?: boolean }): Promise<Preview[]>;
  /** Every preview of every app, doomed ones included (the reconciler's desired state). */
  everything(): Promise<Preview[]>;
  find(appId: number, name: string): Promise<Preview | undefined>;
  byId(id: number): Promise<Preview | undefined>;
  byRouterName(routerName: string): Promise<Preview | undefined>;
  /** Creates the preview (state building); 'duplicate' when its name or router name is taken. */
  create(input: { appId: number; name: string; branch: string; routerName: string; source: 'push' | 'pull-request' }): Promise<Preview | 'duplicate'>;
  /** A push to it: state building, idle clock restarted. */
  touch(id: number): Promise<void>;
  setState(id: number, state: Exclude<PreviewState, 'doomed'>): Promise<void>;
  /** Marks it to be torn down; true when it was not already. */
  doom(id: number): Promise<boolean>;
  /** Non-doomed previews of any app idle since before `cutoff` per their app's TTL, at `now`. */
  idle(now: Date): Promise<Preview[]>;
  /** How many non-doomed previews the apps a user owns have. */
  countOwnedBy(ownerId: number): Promise<number>;
  addService(previewId: number, service: string, envVar: string): Promise<void>;
  services(previewId: number): Promise<Array<{ service: string; envVar: string }>>;
  removeService(previewId: number, service: string): Promise<void>;
  /** The preview's rows (config, releases and services cascade). */
  remove(id: number): Promise<boolean>;
  readonly releases: ReleaseStore;
}

export function createPreviewStore(knex: Knex): PreviewStore {
  const releases = createReleaseStore(knex, { owners: 'previews', releases: 'preview_releases', config: 'preview_config_vars', key: 'preview_id' });
  const settings = async (appId: number): Promise<PreviewSettings> => {
    const row = await knex('preview_settings').where({ app_id: appId }).first<{ pattern: string | null; pull_requests: boolean; ttl_seconds: number; max_previews: number } | undefined>();
    return row ? { pattern: row.pattern, pullRequests: row.pull_requests, ttlSeconds: row.ttl_seconds, maxPreviews: row.max_previews } : defaultPreviewSettings;
  };
  return {
    settings,
    async setSettings(appId, changes) {
      const next = { ...(await settings(appId)), ...changes };
      const row = { app_id: appId, pattern: next.pattern, pull_requests: next.pullRequests, ttl_seconds: next.ttlSeconds, max_previews: next.maxPreviews };
      await knex('preview_settings').insert(row).onConflict('app_id').merge();
      return next;
    },
    async list(appId, options = {}) {
      const q = knex<PreviewRow>('previews').where({ app_id: appId });
      if (!options.all) void q.whereNot({ state: 'doomed' });
      return (await q.orderBy('name')).map(toPreview);
    },
    async everything() {
      return (await knex<PreviewRow>('previews').orderBy('id')).map(toPreview);
    },
    async find(appId, name) {
      const row = await knex<PreviewRow>('previews').where({ app_id: appId, name }).first();
      return row && toPreview(row);
    },
    async byId(id) {
      const row = await knex<PreviewRow>('previews').where({ id }).first();
      return row && toPreview(row);
    },
    async byRouterName(routerName) {
      const row = await knex<PreviewRow>('previews').where({ router_name: routerName }).first();
      return row && toPreview(row);
    },
    async create(input) {
      const rows = await knex<PreviewRow>('previews')
        .insert({ app_id: input.appId, name: input.name, branch: input.branch, router_name: input.routerName, source: input.source })
        .onConflict()
        .ignore()
        .returning('*');
      const row = rows[0];
      return row ? toPreview(row) : 'duplicate';
    },
    async touch(id) {
      await knex('previews').where({ id }).whereNot({ state: 'doomed' }).update({ state: 'building', last_push_at: knex.fn.now() });
    },
    async setState(id, state) {
      await knex('previews').where({ id }).whereNot({ state: 'doomed' }).update({ state });
    },
    async doom(id) {
      return (await knex('previews').where({ id }).whereNot({ state: 'doomed' }).update({ state: 'doomed' })) === 1;
    },
    async idle(now) {
      const rows = await knex<PreviewRow>('previews')
        .leftJoin('preview_settings', 'preview_settings.app_id', 'previews.app_id')
        .whereNot('previews.state', 'doomed')
        .select<Array<PreviewRow & { ttl: number | string }>>('previews.*', knex.raw('coalesce(preview_settings.ttl_seconds, ?) as ttl', [defaultPreviewSettings.ttlSeconds]));
      return rows.filter((r) => r.last_push_at.getTime() + Number(r.ttl) * 1000 <= now.getTime()).map(toPreview);
    },
    async countOwnedBy(ownerId) {
      const [row] = await knex('previews').join('apps', 'apps.id', 'previews.app_id').where('apps.owner_id', ownerId).whereNot('previews.state', 'doomed').count<{ n: number | string }[]>('* as n');
      return Number(row?.n ?? 0);
    },
    async addService(previewId, service, envVar) {
      await knex('preview_services').insert({ preview_id: previewId, service, env_var: envVar }).onConflict(['preview_id', 'service']).ignore();
    },
    async services(previewId) {
      return (await knex('preview_services').where({ preview_id: previewId }).orderBy('service').select<{ service: string; env_var: string }[]>('service', 'env_var')).map((r) => ({ service: r.service, envVar: r.env_var }));
    },
    async removeService(previewId, service) {
      await knex('preview_services').where({ preview_id: previewId, service }).delete();
    },
    async remove(id) {
      return (await knex('previews').where({ id }).delete()) === 1;
    },
    releases,
  };
}
