// What is inside every DU and how it was made: a build's SBOM (CycloneDX) and signed provenance
// (in-toto / SLSA in a DSSE envelope), the installation's public key, du:verify, and the operator's
// questions "which live DUs and pack images hold NAME at these versions" (by hand or from an OSV
// advisory) with rebuilds of those a rebuild can fix.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Affected, AffectedReport } from '../supply-chain/affected.js';
import type { Attestations, Verification } from '../supply-chain/attestations.js';
import { AppError } from '../errors.js';
import { osvAdvisory, parsePackageQuery, QUERY_ECOSYSTEMS } from '../supply-chain/version-match.js';
import { defineOperation, flag, positiveInt, usage, wordOf } from './operation.js';
import { table } from './text.js';

interface Deps {
  readonly attestations: Attestations;
  readonly affected: Affected;
}

const buildNumber = positiveInt('build numbers are positive integers', 9);
const buildId = positiveInt('build IDs are positive integers');

/** The SBOM as the JSON it is: its stored bytes are what JSON.stringify of this gives back. */
const sbomJson = (document: string): Record<string, unknown> => JSON.parse(document) as Record<string, unknown>;

export const sbomByNumber = defineOperation(
  {
    name: 'builds:sbom',
    summary: "A build's SBOM (CycloneDX 1.5 JSON; its SHA-256 is the DU's io.solum.sbom.digest label)",
    access: { app: 'read' },
    input: z.object({ app: z.string(), number: buildNumber }),
    http: { method: 'GET', path: '/v1/apps/:app/builds/:number/sbom' },
    ssh: { usage: 'builds:sbom APP NUMBER', help: "a build's SBOM, CycloneDX JSON (sha256sum of it is the DU's SBOM label)", args: ['app', 'number'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => sbomJson((await d.attestations.sbomByNumber(actor, i.app, i.number)).document),
    // The document's own bytes, no newline added: `ssh … builds:sbom APP N | sha256sum` is the label.
    text: (doc) => JSON.stringify(doc),
  }),
);

export const sbomById = defineOperation(
  {
    name: 'builds:sbom-by-id',
    summary: "A build's SBOM (CycloneDX 1.5 JSON; its SHA-256 is the DU's io.solum.sbom.digest label)",
    access: { app: 'read' },
    input: z.object({ id: buildId }),
    http: { method: 'GET', path: '/v1/builds/:id/sbom' },
  },
  (d: Deps) => ({ run: async (actor, i) => sbomJson((await d.attestations.sbom(actor, i.id)).document) }),
);

export const provenanceByNumber = defineOperation(
  {
    name: 'builds:provenance',
    summary: "A build's provenance: an in-toto statement with a SLSA v1 predicate in a DSSE envelope",
    access: { app: 'read' },
    input: z.object({ app: z.string(), number: buildNumber }),
    http: { method: 'GET', path: '/v1/apps/:app/builds/:number/provenance' },
    ssh: { usage: 'builds:provenance APP NUMBER', help: "a build's signed provenance (DSSE envelope JSON; docs/provenance.md checks it with openssl)", args: ['app', 'number'] },
  },
  (d: Deps) => ({
    run: (actor, i) => d.attestations.provenanceByNumber(actor, i.app, i.number),
    text: (e) => `${JSON.stringify(e)}\n`,
  }),
);

export const provenanceById = defineOperation(
  {
    name: 'builds:provenance-by-id',
    summary: "A build's provenance: an in-toto statement with a SLSA v1 predicate in a DSSE envelope",
    access: { app: 'read' },
    input: z.object({ id: buildId }),
    http: { method: 'GET', path: '/v1/builds/:id/provenance' },
  },
  (d: Deps) => ({ run: (actor, i) => d.attestations.provenance(actor, i.id) }),
);

export const provenanceKey = defineOperation(
  {
    name: 'provenance:key',
    summary: "The installation's public key that signs provenance (ed25519, PEM)",
    access: 'public',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/provenance-key', produces: 'text' },
    ssh: { usage: 'provenance:key', help: "the public key provenance is signed with (PEM)" },
  },
  (d: Deps) => ({ run: () => Promise.resolve(Readable.from([d.attestations.publicKey()])) }),
);

const verificationText = (v: Verification): string =>
  `${v.duImage ?? '-'} (${v.imageId ?? 'missing'}): ${v.verified ? 'verified' : 'NOT verified'}\n${table(v.checks.map((c) => [`  ${c.check}`, c.ok ? 'ok' : 'FAILED', c.detail]))}`;

const verifyInput = z.object({ app: z.string(), number: buildNumber });

export const verification = defineOperation(
  {
    name: 'du:verification',
    summary: "Checks a DU's provenance: the envelope's signature with the installation key, its subject against the DU's image ID, the SBOM label against the stored SBOM",
    access: { app: 'read' },
    input: verifyInput,
    http: { method: 'GET', path: '/v1/apps/:app/builds/:number/verification' },
  },
  (d: Deps) => ({ run: (actor, i) => d.attestations.verify(actor, i.app, i.number) }),
);

export const verifyDu = defineOperation(
  {
    name: 'du:verify',
    summary: "Checks a DU's provenance (exits 1 when any check fails)",
    access: { app: 'read' },
    input: verifyInput,
    ssh: { usage: 'du:verify APP NUMBER', help: "check a DU's signed provenance and SBOM label; exits 1 when a check fails", args: ['app', 'number'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      const v = await d.attestations.verify(actor, i.app, i.number);
      // A failed check is the command failing, so scripts can stop on it.
      if (!v.verified) throw new AppError('conflict', verificationText(v).trimEnd());
      return v;
    },
    text: verificationText,
  }),
);

/** `NAME[@RANGE]`, parsed once whichever transport it came by. */
const packageQuery = z.string().transform((raw, ctx) => {
  const q = parsePackageQuery(raw);
  if (!q) {
    ctx.addIssue({ code: 'custom', message: 'give a package as NAME or NAME@RANGE (lodash@<4.17.21, openssl@<3.0.13-1~deb12u1, requests@<2.31)' });
    return z.NEVER;
  }
  return q;
});

const affectedInput = z.object({ package: packageQuery, ecosystem: z.enum(QUERY_ECOSYSTEMS).optional(), rebuild: flag() });

const where = (r: AffectedReport['releases'][number]): string => (r.environment ? `${r.app} (${r.environment})` : r.app);

const affectedText = (r: AffectedReport): string => {
  const head = `${r.package} ${r.versions}${r.ecosystem ? ` (${r.ecosystem})` : ''}: ${r.releases.length} live release(s), ${r.packImages.length} pack image(s)\n`;
  const releases =
    r.releases.length === 0
      ? ''
      : table([['APP', 'RELEASE', 'PACKAGE', 'VERSION', 'ACTION', 'QUEUED', 'WHY'], ...r.releases.map((x) => [where(x), `v${x.release}`, `${x.ecosystem}:${x.package}`, x.version, x.action, x.queued === null ? '-' : `#${x.queued}`, x.reason])]);
  const packs = r.packImages.length === 0 ? '' : table([['PACK', 'IMAGE', 'PACKAGE', 'VERSION'], ...r.packImages.map((p) => [p.pack, p.image.slice(0, 19), `${p.ecosystem}:${p.package}`, p.version])]);
  return [head, releases, packs, ...r.notes.map((n) => `note: ${n}\n`)].filter((s) => s !== '').join('\n');
};

export const securityAffected = defineOperation(
  {
    name: 'security:affected',
    summary: 'Live releases (apps and pipeline environments) and pack images whose SBOM holds NAME at a matching version (admins); ?package=NAME[@RANGE]&ecosystem=npm|deb|pypi',
    access: 'admin',
    // Only SSH's --rebuild queues here; over HTTP that is a POST of its own.
    input: affectedInput,
    http: { method: 'GET', path: '/v1/security/affected', query: ['package', 'ecosystem'] },
    ssh: {
      usage: 'security:affected NAME[@RANGE] [--ecosystem npm|deb|pypi] [--rebuild]',
      help: 'live releases and pack images holding a package version; --rebuild queues rebuilds that can fix them (admins)',
      args: ['package'],
      options: { '--ecosystem': 'ecosystem' },
      switches: { '--rebuild': 'rebuild' },
    },
  },
  (d: Deps) => ({
    run: (actor, i) => d.affected.affected(actor, { package: i.package.name, range: i.package.range, ecosystem: i.ecosystem, rebuild: i.rebuild }),
    text: affectedText,
  }),
);

export const rebuildAffected = defineOperation(
  {
    name: 'security:affected:rebuild',
    summary: 'Queue rebuilds of the affected releases a rebuild can fix (admins); JSON {package, ecosystem?}',
    access: 'admin',
    input: z.object({ package: packageQuery, ecosystem: z.enum(QUERY_ECOSYSTEMS).optional() }).strict(),
    http: { method: 'POST', path: '/v1/security/affected', body: 'fields' },
  },
  (d: Deps) => ({ run: (actor, i) => d.affected.affected(actor, { package: i.package.name, range: i.package.range, ecosystem: i.ecosystem, rebuild: true }) }),
);

export const securityAdvisory = defineOperation(
  {
    name: 'security:advisory',
    summary: 'The affected releases and pack images for every package an OSV advisory names (admins); ?rebuild=1 queues the rebuilds that can fix them',
    access: 'admin',
    input: z.object({ advisory: osvAdvisory, rebuild: flag() }),
    http: { method: 'POST', path: '/v1/security/advisories', body: { into: 'advisory' }, query: ['rebuild'] },
    ssh: {
      usage: 'security:advisory [--rebuild] < osv.json',
      help: 'what an OSV advisory on standard input affects; --rebuild queues rebuilds that can fix it (admins)',
      switches: { '--rebuild': 'rebuild' },
      stdin: { text: 'advisory' },
      map(w) {
        try {
          return { ...w, advisory: JSON.parse(wordOf(w.advisory)) as unknown };
        } catch {
          usage('give an OSV advisory (JSON) on standard input');
        }
      },
    },
  },
  (d: Deps) => ({
    run: (actor, i) => d.affected.advisory(actor, i.advisory, i.rebuild),
    text: (r) => [`${r.advisory}${r.summary ? `: ${r.summary}` : ''}\n`, ...r.packages.map((p) => `\n${p.osvEcosystem} ${affectedText(p)}`)].join(''),
  }),
);

export const supplyChainOperations = [sbomByNumber, sbomById, provenanceByNumber, provenanceById, provenanceKey, verification, verifyDu, securityAffected, rebuildAffected, securityAdvisory];
