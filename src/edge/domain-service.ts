// Apps' host names as users manage them (decision 0017): custom domains (`domains:add`), the HTTPS
// redirect, certificates uploaded or ordered again. Every change is carried to the router and the
// certificate manager; the database keeps domains and the redirect switch across restarts.
import type { AppService } from '../apps/app-service.js';
import type { DomainStore } from '../db/domain-store.js';
import type { User } from '../db/user-store.js';
import { appTargetKey } from '../deploy/target.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import type { CertificateStatus, Certificates } from './certificates.js';
import { parseHost, refuseDomain } from './domain-rules.js';
import type { EdgeRouter } from './edge-router.js';

export interface HostInfo {
  readonly host: string;
  /** The app's own `<app>.<domain>`, or a custom domain. */
  readonly kind: 'app' | 'custom';
  readonly certificate: CertificateStatus;
}

export interface AppHosts {
  readonly app: string;
  readonly redirect: boolean;
  readonly hosts: readonly HostInfo[];
}

export interface DomainService {
  /** Gives the router every custom domain and redirect (before it starts). */
  load(): Promise<void>;
  list(actor: User | null, app: string): Promise<AppHosts>;
  add(actor: User | null, app: string, host: string): Promise<HostInfo>;
  remove(actor: User | null, app: string, host: string): Promise<void>;
  setRedirect(actor: User | null, app: string, redirect: boolean): Promise<AppHosts>;
  uploadCertificate(actor: User | null, app: string, host: string, pem: string): Promise<HostInfo>;
  removeCertificate(actor: User | null, app: string, host: string): Promise<void>;
  /** A new ACME certificate now; with `revoke` the one it replaces is revoked. */
  renewCertificate(actor: User | null, app: string, host: string, revoke: boolean): Promise<HostInfo>;
}

export function createDomainService(d: {
  apps: AppService;
  store: DomainStore;
  router: EdgeRouter;
  certificates: Certificates;
  /** The router's domain: apps answer to `<app>.<domain>`. */
  routerDomain: string;
  /** SOLUM_CUSTOM_DOMAINS: what tenants who are not admins may add. */
  allowed: readonly string[];
}): DomainService {
  const ownHost = (name: string): string => `${name}.${d.routerDomain}`;

  const customOf = async (appId: number): Promise<string[]> => (await d.store.listOfApp(appId)).map((x) => x.host);

  /** The app (admin access) and a host that is one of its names. */
  const hostOfApp = async (actor: User | null, appName: string, raw: string) => {
    const { app } = await d.apps.require(actor, appName, 'admin');
    const host = parseHost(raw);
    if (!host) throw badRequest(`${JSON.stringify(raw)} is not a host name`);
    if (host !== ownHost(app.name) && !(await customOf(app.id)).includes(host)) throw notFound(`${host} is not a domain of ${app.name}: add it with domains:add first`);
    return { app, host };
  };

  const info = (host: string, kind: HostInfo['kind']): HostInfo => ({ host, kind, certificate: d.certificates.status(host) });

  const list = async (appId: number, name: string): Promise<AppHosts> => ({
    app: name,
    redirect: await d.store.redirects(appId),
    hosts: [info(ownHost(name), 'app'), ...(await customOf(appId)).map((h) => info(h, 'custom'))],
  });

  return {
    async load() {
      const byApp = new Map<number, string[]>();
      for (const x of await d.store.listAll()) byApp.set(x.appId, [...(byApp.get(x.appId) ?? []), x.host]);
      for (const [appId, hosts] of byApp) await d.router.setDomains(appTargetKey(appId), hosts);
      for (const appId of await d.store.redirectingApps()) await d.router.setRedirect(appTargetKey(appId), true);
    },
    async list(actor, appName) {
      const { app } = await d.apps.require(actor, appName, 'read');
      return list(app.id, app.name);
    },
    async add(actor, appName, raw) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      const host = parseHost(raw);
      if (!host) throw badRequest(`${JSON.stringify(raw)} is not a host name: give a DNS name such as www.example.com`);
      const refused = refuseDomain(host, { isAdmin: actor?.isAdmin ?? false, allowed: d.allowed, routerDomain: d.routerDomain });
      if (refused) throw new AppError('forbidden', refused);
      const added = await d.store.add(app.id, host);
      if (added === 'taken') {
        const owner = await d.store.find(host);
        throw conflict(owner?.appId === app.id ? `${host} is a domain of ${app.name} already` : `${host} is another app's domain`);
      }
      await d.router.setDomains(appTargetKey(app.id), await customOf(app.id));
      // A deployed app's new host gets its certificate now (else on its first deploy).
      if (d.router.routes(host)) void d.certificates.ensure(host);
      return info(host, 'custom');
    },
    async remove(actor, appName, raw) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      const host = parseHost(raw);
      if (!host || !(await d.store.remove(app.id, host))) throw notFound(`${raw} is not a domain of ${app.name}`);
      await d.router.setDomains(appTargetKey(app.id), await customOf(app.id));
      await d.certificates.forget(host);
    },
    async setRedirect(actor, appName, redirect) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      await d.store.setRedirect(app.id, redirect);
      await d.router.setRedirect(appTargetKey(app.id), redirect);
      return list(app.id, app.name);
    },
    async uploadCertificate(actor, appName, raw, pem) {
      const { app, host } = await hostOfApp(actor, appName, raw);
      await d.certificates.upload(host, pem);
      return info(host, host === ownHost(app.name) ? 'app' : 'custom');
    },
    async removeCertificate(actor, appName, raw) {
      const { host } = await hostOfApp(actor, appName, raw);
      await d.certificates.removeUpload(host);
    },
    async renewCertificate(actor, appName, raw, revoke) {
      const { app, host } = await hostOfApp(actor, appName, raw);
      await d.certificates.replace(host, revoke);
      return info(host, host === ownHost(app.name) ? 'app' : 'custom');
    },
  };
}
