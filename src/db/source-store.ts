// Where an app's code comes from when Solum pulls it: source URL and ref, deploy key, webhook secret.
import type { Knex } from 'knex';

export interface AppSource {
  readonly url: string | null;
  readonly ref: string | null;
  readonly deployKey: string | null;
  readonly webhookSecret: string | null;
  /** Where commit statuses go (GitHub-compatible `…/statuses`), and the token to send. */
  readonly statusUrl: string | null;
  readonly statusToken: string | null;
  /** The status URL may be on a loopback or link-local address (an admin set it). */
  readonly statusUrlLocal: boolean;
}

export interface SourceStore {
  get(appId: number): Promise<AppSource>;
  set(appId: number, changes: Partial<{ url: string | null; ref: string | null; deployKey: string; webhookSecret: string; statusUrl: string | null; statusToken: string | null; statusUrlLocal: boolean }>): Promise<void>;
  /** Records a webhook delivery; false when it was seen before (a redelivery). */
  recordDelivery(appId: number, deliveryId: string): Promise<boolean>;
}

export function createSourceStore(knex: Knex): SourceStore {
  return {
    async get(appId) {
      const row = await knex('apps')
        .where({ id: appId })
        .first<(Record<'source_url' | 'source_ref' | 'deploy_key' | 'webhook_secret' | 'status_url' | 'status_token', string | null> & { status_url_local: boolean }) | undefined>(
          'source_url',
          'source_ref',
          'deploy_key',
          'webhook_secret',
          'status_url',
          'status_token',
          'status_url_local',
        );
      return {
        url: row?.source_url ?? null,
        ref: row?.source_ref ?? null,
        deployKey: row?.deploy_key ?? null,
        webhookSecret: row?.webhook_secret ?? null,
        statusUrl: row?.status_url ?? null,
        statusToken: row?.status_token ?? null,
        statusUrlLocal: row?.status_url_local ?? false,
      };
    },
    async set(appId, c) {
      const row: Record<string, string | boolean | null> = {};
      if (c.url !== undefined) row.source_url = c.url;
      if (c.ref !== undefined) row.source_ref = c.ref;
      if (c.deployKey !== undefined) row.deploy_key = c.deployKey;
      if (c.webhookSecret !== undefined) row.webhook_secret = c.webhookSecret;
      if (c.statusUrl !== undefined) row.status_url = c.statusUrl;
      if (c.statusToken !== undefined) row.status_token = c.statusToken;
      if (c.statusUrlLocal !== undefined) row.status_url_local = c.statusUrlLocal;
      await knex('apps').where({ id: appId }).update(row);
    },
    async recordDelivery(appId, deliveryId) {
      const rows = await knex('webhook_deliveries').insert({ app_id: appId, delivery_id: deliveryId }).onConflict(['app_id', 'delivery_id']).ignore().returning('delivery_id');
      return rows.length === 1;
    },
  };
}
