// Apps' custom domains (each host belongs to one app) and their HTTPS redirect switch.
import type { Knex } from 'knex';

export interface AppDomain {
  readonly host: string;
  readonly appId: number;
  readonly createdAt: Date;
}

export interface DomainStore {
  /** Adds a host to an app; 'taken' when another app (or this one) has it. */
  add(appId: number, host: string): Promise<AppDomain | 'taken'>;
  /** Whether the app had the host. */
  remove(appId: number, host: string): Promise<boolean>;
  find(host: string): Promise<AppDomain | undefined>;
  listOfApp(appId: number): Promise<AppDomain[]>;
  /** Every custom domain, with the app it belongs to: what the router routes at start. */
  listAll(): Promise<AppDomain[]>;
  setRedirect(appId: number, redirect: boolean): Promise<void>;
  redirects(appId: number): Promise<boolean>;
  /** Apps whose plain-HTTP requests go to HTTPS. */
  redirectingApps(): Promise<number[]>;
}

interface Row {
  host: string;
  app_id: number;
  created_at: Date | string;
}

const fromRow = (r: Row): AppDomain => ({ host: r.host, appId: r.app_id, createdAt: new Date(r.created_at) });

export function createDomainStore(knex: Knex): DomainStore {
  return {
    async add(appId, host) {
      const rows = await knex('app_domains').insert({ host, app_id: appId }).onConflict('host').ignore().returning<Row[]>(['host', 'app_id', 'created_at']);
      const row = rows[0];
      return row ? fromRow(row) : 'taken';
    },
    async remove(appId, host) {
      return (await knex('app_domains').where({ app_id: appId, host }).delete()) > 0;
    },
    async find(host) {
      const row = await knex('app_domains').where({ host }).first<Row | undefined>();
      return row ? fromRow(row) : undefined;
    },
    async listOfApp(appId) {
      return (await knex('app_domains').where({ app_id: appId }).orderBy('host').select<Row[]>()).map(fromRow);
    },
    async listAll() {
      return (await knex('app_domains').orderBy('host').select<Row[]>()).map(fromRow);
    },
    async setRedirect(appId, redirect) {
      await knex('apps').where({ id: appId }).update({ https_redirect: redirect });
    },
    async redirects(appId) {
      const row = await knex('apps').where({ id: appId }).first<{ https_redirect: boolean } | undefined>('https_redirect');
      return row?.https_redirect === true;
    },
    async redirectingApps() {
      return (await knex('apps').where({ https_redirect: true }).orderBy('id').select<Array<{ id: number }>>('id')).map((r) => r.id);
    },
  };
}
