// What is inside a DU and how it was made: its SBOM and signed provenance, du:verify, the
// provenance key, and the operator's security:affected and security:advisory.
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { requestOf } from '../../operations/operation.js';
import { provenanceByNumber, provenanceKey, rebuildAffected, sbomByNumber, securityAdvisory, securityAffected, verification } from '../../operations/supply-chain.js';
import { parsePositiveInt } from '../../parse.js';
import { osvAdvisory, QUERY_ECOSYSTEMS } from '../../supply-chain/version-match.js';
import type { Ctx, Io } from '../context.js';
import { define } from '../context.js';
import { CliError, UsageError } from '../errors.js';

const numberOf = (raw: string | undefined): string => {
  const n = parsePositiveInt((raw ?? '').replace(/^#/, ''), 9);
  if (n === undefined) throw new UsageError(`builds are given by number, like 3, not ${JSON.stringify(raw ?? '')}`);
  return String(n);
};

/** The report of security:affected and each package of an advisory, for people. */
function affectedText(ctx: Ctx, r: { package: string; versions: string; releases: ReadonlyArray<{ app: string; environment: string | null; release: number; ecosystem: string; package: string; version: string; action: string; queued: number | null; reason: string }>; packImages: ReadonlyArray<{ pack: string; image: string; ecosystem: string; package: string; version: string }>; notes: readonly string[] }): string {
  const out = [`${ctx.out.c.bold(r.package)} ${r.versions}: ${r.releases.length} live release(s), ${r.packImages.length} pack image(s)\n`];
  if (r.releases.length > 0) {
    out.push(ctx.out.table(['APP', 'RELEASE', 'PACKAGE', 'VERSION', 'ACTION', 'QUEUED', 'WHY'], r.releases.map((x) => [x.environment ? `${x.app} (${x.environment})` : x.app, `v${x.release}`, `${x.ecosystem}:${x.package}`, x.version, x.action, x.queued === null ? '-' : `#${x.queued}`, x.reason]), ''));
  }
  if (r.packImages.length > 0) out.push(ctx.out.table(['PACK', 'IMAGE', 'PACKAGE', 'VERSION'], r.packImages.map((p) => [p.pack, p.image.slice(0, 19), `${p.ecosystem}:${p.package}`, p.version]), ''));
  for (const n of r.notes) out.push(`note: ${n}\n`);
  return out.join('');
}

export function registerSupplyChain(program: Command, io: Io): void {
  define(program, io, {
    usage: 'builds:sbom <number>',
    summary: "print a build's SBOM (CycloneDX 1.5 JSON); its SHA-256 is the DU's io.solum.sbom.digest label",
    app: true,
    async run(ctx) {
      const doc = await (await ctx.api()).call(sbomByNumber, { app: await ctx.app(), number: numberOf(ctx.arg(0)) });
      // The document's own bytes (the server stores them as JSON.stringify writes them).
      ctx.out.write(JSON.stringify(doc));
    },
  });

  define(program, io, {
    usage: 'builds:provenance <number>',
    summary: "print a build's signed provenance (a DSSE envelope; docs/provenance.md checks it with openssl)",
    app: true,
    async run(ctx) {
      const e = await (await ctx.api()).call(provenanceByNumber, { app: await ctx.app(), number: numberOf(ctx.arg(0)) });
      ctx.out.write(`${JSON.stringify(e)}\n`);
    },
  });

  define(program, io, {
    usage: 'provenance:key',
    summary: 'print the public key this Solum signs provenance with (PEM)',
    async run(ctx) {
      ctx.out.write(await (await ctx.api()).text(requestOf(provenanceKey, {}).path));
    },
  });

  define(program, io, {
    usage: 'du:verify <number>',
    summary: "check a DU: its provenance signature, the statement's subject against the DU's image, its SBOM label (exit 1 when a check fails)",
    app: true,
    async run(ctx) {
      const v = await (await ctx.api()).call(verification, { app: await ctx.app(), number: numberOf(ctx.arg(0)) });
      ctx.out.emit(v, () =>
        `${v.duImage ?? '-'} (${v.imageId ?? 'missing'}): ${v.verified ? ctx.out.c.green('verified') : ctx.out.c.red('NOT verified')}\n` +
        ctx.out.table(['CHECK', 'RESULT', 'DETAIL'], v.checks.map((c) => [c.check, c.ok ? 'ok' : 'FAILED', c.detail]), ''),
      );
      if (!v.verified) throw new CliError(`${v.duImage ?? 'the DU'} failed verification`);
    },
  });

  define(program, io, {
    usage: 'security:affected <package>',
    summary: 'live releases and pack images whose SBOM holds a package: NAME or NAME@RANGE (admins)',
    options: (cmd) => {
      cmd.option('--ecosystem <ecosystem>', 'npm, deb or pypi (default: all)');
      cmd.option('--rebuild', 'queue rebuilds of the releases a rebuild can fix');
    },
    async run(ctx) {
      const api = await ctx.api();
      const raw = ctx.opt('ecosystem');
      const eco = QUERY_ECOSYSTEMS.find((e) => e === raw);
      if (raw !== undefined && !eco) throw new UsageError(`--ecosystem is ${QUERY_ECOSYSTEMS.join(', ')}`);
      const input = { package: ctx.arg(0) ?? '', ...(eco ? { ecosystem: eco } : {}) };
      const r = ctx.flag('rebuild') ? await api.call(rebuildAffected, input) : await api.call(securityAffected, input);
      ctx.out.emit(r, () => affectedText(ctx, r));
    },
  });

  define(program, io, {
    usage: 'security:advisory <file>',
    summary: "what an OSV advisory (a JSON file, - for standard input) affects (admins)",
    options: (cmd) => {
      cmd.option('--rebuild', 'queue rebuilds of the releases a rebuild can fix');
    },
    async run(ctx) {
      const file = ctx.arg(0) ?? '-';
      let text: string;
      try {
        text = file === '-' ? await readStdin() : await fs.readFile(file, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new UsageError(`${file} is not JSON: give an OSV advisory`);
      }
      const advisory = osvAdvisory.safeParse(json);
      if (!advisory.success) throw new UsageError(`${file} is not an OSV advisory: ${advisory.error.issues.map((i) => `${i.path.join('.') || '(top)'} ${i.message}`).join('; ')}`);
      const r = await (await ctx.api()).call(securityAdvisory, { advisory: advisory.data, ...(ctx.flag('rebuild') ? { rebuild: true } : {}) });
      ctx.out.emit(r, () => [`${ctx.out.c.bold(r.advisory)}${r.summary ? `: ${r.summary}` : ''}\n`, ...r.packages.map((p) => `\n${p.osvEcosystem} ${affectedText(ctx, p)}`)].join(''));
    },
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
