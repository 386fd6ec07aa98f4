// The kinds of backing service (postgres, redis): their image, the config var a link sets, their URL
// and readiness check, and the pure rules for names and link variables.
import type { ServiceInstance, ServiceKind } from '../db/service-store.js';
import { badRequest } from '../errors.js';

export const serviceKinds: readonly ServiceKind[] = ['postgres', 'redis'];

export interface KindSpec {
  readonly image: string;
  /** The config var a link sets unless the app has one of that name already. */
  readonly envVar: string;
  /** The URL an app reaches the instance at: `host` is its name on the app's network (127.0.0.1 in host mode). */
  url(i: ServiceInstance, host: string): string;
  /** A command run inside the container that succeeds (and, for redis, prints PONG) once it serves; the password goes in its env, never in argv. */
  readyCommand(i: ServiceInstance): { cmd: string[]; env: string[] };
}

/** The database user of a postgres instance (the entrypoint creates it and the database). */
export const PG_USER = 'solum';
/** Where an instance keeps its data inside its container (a named volume). */
export const DATA_DIR = '/var/lib/solum-service';

export const kinds: Record<ServiceKind, KindSpec> = {
  postgres: {
    image: 'solum/svc-postgres:2',
    envVar: 'DATABASE_URL',
    url: (i, host) => `postgres://${PG_USER}:${i.password}@${host}:${i.port}/${i.name}`,
    readyCommand: (i) => ({ cmd: ['pg_isready', '-q', '-h', '127.0.0.1', '-p', String(i.port), '-U', PG_USER, '-d', i.name], env: [] }),
  },
  redis: {
    image: 'solum/svc-redis:2',
    envVar: 'REDIS_URL',
    url: (i, host) => `redis://:${i.password}@${host}:${i.port}`,
    readyCommand: (i) => ({ cmd: ['redis-cli', '-h', '127.0.0.1', '-p', String(i.port), 'ping'], env: [`REDISCLI_AUTH=${i.password}`] }),
  },
};

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function parseServiceName(raw: string): string {
  if (!SERVICE_NAME.test(raw) || raw.endsWith('-')) throw badRequest(`invalid service name ${JSON.stringify(raw.slice(0, 80))}: use 1-63 of a-z, 0-9 and '-', starting with a letter`);
  return raw;
}

export function parseServiceKind(raw: string): ServiceKind {
  const kind = serviceKinds.find((k) => k === raw);
  if (!kind) throw badRequest(`unknown service kind ${JSON.stringify(raw.slice(0, 40))}: one of ${serviceKinds.join(', ')}`);
  return kind;
}

/**
 * The config var a new link uses: the kind's usual name (DATABASE_URL, REDIS_URL) unless the app
 * already has a config var of that name (set by hand or by another link); then
 * `<KIND>_<NAME>_URL`, the instance name upper-cased with '-' as '_' (Heroku's alias style).
 */
export function linkEnvVar(kind: ServiceKind, name: string, taken: ReadonlySet<string>): string {
  const usual = kinds[kind].envVar;
  if (!taken.has(usual)) return usual;
  return `${kind.toUpperCase()}_${name.toUpperCase().replaceAll('-', '_')}_URL`;
}

/** The name an app's manifest gives the instance it creates: `<app>-<kind>`, cut to fit. */
export function manifestServiceName(app: string, kind: ServiceKind): string {
  return `${app.slice(0, 63 - kind.length - 1).replace(/-+$/, '')}-${kind}`;
}
