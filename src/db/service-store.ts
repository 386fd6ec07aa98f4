// Backing service instances (name, kind, port, password, container) and their links to apps.
import type { Knex } from 'knex';

export type ServiceKind = 'postgres' | 'redis';

export interface ServiceInstance {
  readonly id: number;
  readonly name: string;
  readonly kind: ServiceKind;
  /** Null once the creating user's account is gone. */
  readonly ownerId: number | null;
  readonly owner: string | null;
  readonly port: number;
  readonly password: string;
  readonly containerId: string | null;
  readonly createdAt: Date;
}

export interface ServiceLink {
  readonly serviceId: number;
  readonly service: string;
  readonly appId: number;
  readonly app: string;
  readonly envVar: string;
  readonly createdAt: Date;
}

interface InstanceRow {
  id: number;
  name: string;
  kind: ServiceKind;
  owner_id: number | null;
  owner: string | null;
  port: number;
  password: string;
  container_id: string | null;
  created_at: Date;
}

interface LinkRow {
  service_id: number;
  service: string;
  app_id: number;
  app: string;
  env_var: string;
  created_at: Date;
}

const toInstance = (r: InstanceRow): ServiceInstance => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  ownerId: r.owner_id,
  owner: r.owner,
  port: r.port,
  password: r.password,
  containerId: r.container_id,
  createdAt: r.created_at,
});

const toLink = (r: LinkRow): ServiceLink => ({ serviceId: r.service_id, service: r.service, appId: r.app_id, app: r.app, envVar: r.env_var, createdAt: r.created_at });

export interface ServiceStore {
  /** Records a new instance; 'duplicate' when the name (or the port) is taken. */
  create(input: { name: string; kind: ServiceKind; ownerId: number; port: number; password: string }): Promise<ServiceInstance | 'duplicate'>;
  find(name: string): Promise<ServiceInstance | undefined>;
  /** All instances (admins), or those a user owns. */
  list(filter: { ownerId?: number }): Promise<ServiceInstance[]>;
  setContainer(id: number, containerId: string | null): Promise<void>;
  remove(id: number): Promise<boolean>;
  /** Records a link; 'duplicate' when the instance is linked to the app already or the app uses the var. */
  link(serviceId: number, appId: number, envVar: string): Promise<ServiceLink | 'duplicate'>;
  unlink(serviceId: number, appId: number): Promise<ServiceLink | undefined>;
  linksOfService(serviceId: number): Promise<ServiceLink[]>;
  linksOfApp(appId: number): Promise<ServiceLink[]>;
}

export function createServiceStore(knex: Knex): ServiceStore {
  const instances = () =>
    knex('service_instances as s')
      .leftJoin('users as u', 'u.id', 's.owner_id')
      .select<InstanceRow[]>('s.id', 's.name', 's.kind', 's.owner_id', 'u.name as owner', 's.port', 's.password', 's.container_id', 's.created_at');
  const links = () =>
    knex('service_links as l')
      .join('service_instances as s', 's.id', 'l.service_id')
      .join('apps as a', 'a.id', 'l.app_id')
      .select<LinkRow[]>('l.service_id', 's.name as service', 'l.app_id', 'a.name as app', 'l.env_var', 'l.created_at');
  const findLink = async (serviceId: number, appId: number): Promise<ServiceLink | undefined> => {
    const [row] = await links().where({ 'l.service_id': serviceId, 'l.app_id': appId });
    return row && toLink(row);
  };

  return {
    async create(input) {
      const rows = await knex('service_instances')
        .insert({ name: input.name, kind: input.kind, owner_id: input.ownerId, port: input.port, password: input.password })
        .onConflict()
        .ignore()
        .returning<Array<{ id: number }>>('id');
      const id = rows[0]?.id;
      if (id === undefined) return 'duplicate';
      const [row] = await instances().where('s.id', id);
      if (!row) throw new Error(`service instance ${input.name} vanished while being created`);
      return toInstance(row);
    },
    async find(name) {
      const [row] = await instances().where('s.name', name);
      return row && toInstance(row);
    },
    async list(filter) {
      const q = instances().orderBy('s.name');
      if (filter.ownerId !== undefined) void q.where('s.owner_id', filter.ownerId);
      return (await q).map(toInstance);
    },
    async setContainer(id, containerId) {
      await knex('service_instances').where({ id }).update({ container_id: containerId });
    },
    async remove(id) {
      return (await knex('service_instances').where({ id }).delete()) > 0;
    },
    async link(serviceId, appId, envVar) {
      const rows = await knex('service_links').insert({ service_id: serviceId, app_id: appId, env_var: envVar }).onConflict().ignore().returning<Array<{ service_id: number }>>('service_id');
      if (rows.length === 0) return 'duplicate';
      const link = await findLink(serviceId, appId);
      if (!link) throw new Error('service link vanished while being created');
      return link;
    },
    async unlink(serviceId, appId) {
      const link = await findLink(serviceId, appId);
      if (!link) return undefined;
      await knex('service_links').where({ service_id: serviceId, app_id: appId }).delete();
      return link;
    },
    async linksOfService(serviceId) {
      return (await links().where('l.service_id', serviceId).orderBy('a.name')).map(toLink);
    },
    async linksOfApp(appId) {
      return (await links().where('l.app_id', appId).orderBy('s.name')).map(toLink);
    },
  };
}
