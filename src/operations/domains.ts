// An app's host names (decision 0017): custom domains, the HTTP→HTTPS redirect, certificates
// uploaded or ordered again over ACME. Certificates' private keys are taken in, never answered.
import { z } from 'zod';
import type { AppHosts, DomainService, HostInfo } from '../edge/domain-service.js';
import { defineOperation, usage } from './operation.js';
import { table, when } from './text.js';

interface Deps {
  readonly domains: DomainService;
}

export interface HostJson {
  readonly host: string;
  readonly kind: 'app' | 'custom';
  readonly certificate: {
    readonly status: 'issued' | 'uploaded' | 'pending' | 'failed' | 'none';
    readonly notAfter: string | null;
    readonly issuer: string | null;
    readonly serial: string | null;
    readonly error: string | null;
  };
}

export interface AppHostsJson {
  readonly app: string;
  readonly redirect: boolean;
  readonly hosts: readonly HostJson[];
}

const hostView = (h: HostInfo): HostJson => ({
  host: h.host,
  kind: h.kind,
  certificate: { status: h.certificate.status, notAfter: h.certificate.notAfter?.toISOString() ?? null, issuer: h.certificate.issuer, serial: h.certificate.serial, error: h.certificate.error },
});

const hostsView = (a: AppHosts): AppHostsJson => ({ app: a.app, redirect: a.redirect, hosts: a.hosts.map(hostView) });

const hostsText = (a: AppHostsJson): string =>
  table([['HOST', 'KIND', 'CERTIFICATE', 'EXPIRES', 'ISSUER'], ...a.hosts.map((h) => [h.host, h.kind, h.certificate.status, when(h.certificate.notAfter), h.certificate.issuer ?? '-'])]) +
  `HTTP to HTTPS redirect: ${a.redirect ? 'on' : 'off'}\n`;

const hostText = (h: HostJson): string => `${h.host}: certificate ${h.certificate.status}${h.certificate.notAfter ? `, expires ${when(h.certificate.notAfter)}` : ''}\n`;

export const listDomains = defineOperation(
  {
    name: 'domains',
    summary: "An app's host names and their certificates",
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/domains' },
    ssh: { usage: 'domains APP', help: "list an app's host names, certificates and redirect", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => hostsView(await d.domains.list(actor, i.app)),
    text: hostsText,
  }),
);

export const addDomain = defineOperation(
  {
    name: 'domains:add',
    summary: 'Add a custom domain to an app (any for admins; others those SOLUM_CUSTOM_DOMAINS allows)',
    access: { app: 'admin' },
    input: z.object({ app: z.string(), host: z.string().max(253) }),
    http: { method: 'PUT', path: '/v1/apps/:app/domains/:host', status: 201 },
    ssh: { usage: 'domains:add APP HOST', help: 'add a custom domain to an app (its certificate comes over ACME once deployed)', args: ['app', 'host'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => hostView(await d.domains.add(actor, i.app, i.host)),
    text: (h) => `added ${h.host}\n`,
  }),
);

export const removeDomain = defineOperation(
  {
    name: 'domains:remove',
    summary: 'Remove a custom domain from an app (its certificate goes too)',
    access: { app: 'admin' },
    input: z.object({ app: z.string(), host: z.string().max(253) }),
    http: { method: 'DELETE', path: '/v1/apps/:app/domains/:host', status: 204 },
    ssh: { usage: 'domains:remove APP HOST', help: 'remove a custom domain from an app', args: ['app', 'host'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.domains.remove(actor, i.app, i.host);
      return { app: i.app, removed: i.host };
    },
    text: (r) => `removed ${r.removed} from ${r.app}\n`,
  }),
);

export const setRedirect = defineOperation(
  {
    name: 'domains:redirect',
    summary: "Redirect an app's plain-HTTP requests to HTTPS (hosts with a certificate), or stop",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), redirect: z.boolean() }).strict(),
    http: { method: 'PUT', path: '/v1/apps/:app/https-redirect', body: 'fields' },
    ssh: {
      usage: 'domains:redirect APP on|off',
      help: "redirect an app's plain-HTTP requests to HTTPS, or stop",
      args: ['app', 'redirect'],
      map(w) {
        if (w.redirect !== 'on' && w.redirect !== 'off') usage('say on or off');
        return { ...w, redirect: w.redirect === 'on' };
      },
    },
  },
  (d: Deps) => ({
    run: async (actor, i) => hostsView(await d.domains.setRedirect(actor, i.app, i.redirect)),
    text: (a) => `HTTP to HTTPS redirect for ${a.app}: ${a.redirect ? 'on' : 'off'}\n`,
  }),
);

export const uploadCertificate = defineOperation(
  {
    name: 'certs:upload',
    summary: 'Serve an uploaded certificate for one of an app\'s hosts (PEM: the certificate, its chain, its private key)',
    access: { app: 'admin' },
    input: z.object({ app: z.string(), host: z.string().max(253), pem: z.string().max(65_536) }).strict(),
    http: { method: 'PUT', path: '/v1/apps/:app/domains/:host/certificate', body: 'fields' },
    ssh: { usage: 'certs:upload APP HOST < bundle.pem', help: 'serve the certificate, chain and key given on standard input for a host', args: ['app', 'host'], stdin: { text: 'pem' } },
  },
  (d: Deps) => ({
    run: async (actor, i) => hostView(await d.domains.uploadCertificate(actor, i.app, i.host, i.pem)),
    text: hostText,
  }),
);

export const removeCertificate = defineOperation(
  {
    name: 'certs:remove',
    summary: "Stop serving a host's uploaded certificate (ACME takes over where it is set up)",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), host: z.string().max(253) }),
    http: { method: 'DELETE', path: '/v1/apps/:app/domains/:host/certificate', status: 204 },
    ssh: { usage: 'certs:remove APP HOST', help: "stop serving a host's uploaded certificate", args: ['app', 'host'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.domains.removeCertificate(actor, i.app, i.host);
      return { app: i.app, host: i.host };
    },
    text: (r) => `${r.host} no longer serves an uploaded certificate\n`,
  }),
);

export const renewCertificate = defineOperation(
  {
    name: 'certs:renew',
    summary: "Order a host's certificate again now over ACME; with revoke, the one it replaces is revoked",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), host: z.string().max(253), revoke: z.boolean().default(false) }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/domains/:host/certificate', body: 'fields' },
    ssh: { usage: 'certs:renew APP HOST [--revoke]', help: "order a host's certificate again now (--revoke: revoke the old one)", args: ['app', 'host'], switches: { '--revoke': 'revoke' } },
  },
  (d: Deps) => ({
    run: async (actor, i) => hostView(await d.domains.renewCertificate(actor, i.app, i.host, i.revoke)),
    text: hostText,
  }),
);

export const domainOperations = [listDomains, addDomain, removeDomain, setRedirect, uploadCertificate, removeCertificate, renewCertificate];
