// An app's host names: custom domains, the HTTP→HTTPS redirect, uploaded and renewed certificates.
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { addDomain, listDomains, removeCertificate, removeDomain, renewCertificate, setRedirect, uploadCertificate, type HostJson } from '../../operations/domains.js';
import { define, type Io } from '../context.js';
import { UsageError } from '../errors.js';

const certLine = (h: HostJson): string => `${h.host}: certificate ${h.certificate.status}${h.certificate.notAfter ? `, expires ${h.certificate.notAfter}` : ''}\n`;

export function registerDomains(program: Command, io: Io): void {
  define(program, io, {
    usage: 'domains',
    summary: "list an app's host names, their certificates and whether HTTP redirects to HTTPS",
    app: true,
    async run(ctx) {
      const a = await (await ctx.api()).call(listDomains, { app: await ctx.app() });
      ctx.out.emit(a, () =>
        ctx.out.table(['HOST', 'KIND', 'CERTIFICATE', 'EXPIRES', 'ISSUER'], a.hosts.map((h) => [h.host, h.kind, h.certificate.status, h.certificate.notAfter ?? '-', h.certificate.issuer ?? '-']), 'No hosts') +
        `HTTP to HTTPS redirect: ${a.redirect ? 'on' : 'off'}\n`,
      );
    },
  });

  define(program, io, {
    usage: 'domains:add <host>',
    summary: 'add a custom domain to an app (point its DNS at this server; the certificate comes over ACME once deployed)',
    app: true,
    async run(ctx) {
      const h = await (await ctx.api()).call(addDomain, { app: await ctx.app(), host: ctx.arg(0) ?? '' });
      ctx.out.emit(h, () => `Added ${h.host}\n`);
    },
  });

  define(program, io, {
    usage: 'domains:remove <host>',
    summary: 'remove a custom domain from an app (its certificate goes too)',
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const host = ctx.arg(0) ?? '';
      await (await ctx.api()).call(removeDomain, { app, host });
      ctx.out.emit({ app, removed: host }, () => `Removed ${host} from ${app}\n`);
    },
  });

  define(program, io, {
    usage: 'domains:redirect <on|off>',
    summary: "redirect an app's plain-HTTP requests to HTTPS (hosts with a certificate), or stop",
    app: true,
    async run(ctx) {
      const word = ctx.arg(0);
      if (word !== 'on' && word !== 'off') throw new UsageError('say on or off');
      const a = await (await ctx.api()).call(setRedirect, { app: await ctx.app(), redirect: word === 'on' });
      ctx.out.emit(a, () => `HTTP to HTTPS redirect for ${a.app}: ${a.redirect ? 'on' : 'off'}\n`);
    },
  });

  define(program, io, {
    usage: 'certs:upload <host> <file>',
    summary: "serve a certificate for one of an app's hosts: a PEM file with the certificate, its chain and its private key",
    app: true,
    async run(ctx) {
      const file = ctx.arg(1) ?? '';
      const pem = await fs.readFile(file, 'utf8').catch(() => {
        throw new UsageError(`cannot read ${file}`);
      });
      const h = await (await ctx.api()).call(uploadCertificate, { app: await ctx.app(), host: ctx.arg(0) ?? '', pem });
      ctx.out.emit(h, () => certLine(h));
    },
  });

  define(program, io, {
    usage: 'certs:remove <host>',
    summary: "stop serving a host's uploaded certificate",
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const host = ctx.arg(0) ?? '';
      await (await ctx.api()).call(removeCertificate, { app, host });
      ctx.out.emit({ app, host }, () => `${host} no longer serves an uploaded certificate\n`);
    },
  });

  define(program, io, {
    usage: 'certs:renew <host>',
    summary: "order a host's certificate again now over ACME",
    app: true,
    options: (cmd) => cmd.option('--revoke', 'revoke the certificate it replaces'),
    async run(ctx) {
      const h = await (await ctx.api()).call(renewCertificate, { app: await ctx.app(), host: ctx.arg(0) ?? '', revoke: ctx.flag('revoke') });
      ctx.out.emit(h, () => certLine(h));
    },
  });
}
