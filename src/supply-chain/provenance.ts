// How a DU was made, as an in-toto v1 Statement with a SLSA v1 provenance predicate whose subject
// is the DU's image ID: the source (this installation's repository of the app, commit, ref, what
// triggered the build), the packs by image digest, the builder (this installation and Solum's
// version) and the build's start and end. Pure.
import { z } from 'zod';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** The build type: what the parameters below mean (docs/provenance.md describes it). */
export const SOLUM_BUILD_TYPE = 'urn:solum:build-type:language-pack:v1';

/** A builder's ID: one per installation (its database), stable across restarts and hosts. */
export const builderIdOf = (installation: string): string => `urn:solum:installation:${installation}`;

/** What triggered a build, in the words of the provenance (`builds.source` as recorded). */
export function triggerOf(source: string): string {
  switch (source) {
    case 'push':
    case 'upload':
    case 'webhook':
    case 'rebuild':
      return source;
    case 'api':
      return 'pull';
    case 'pull-request':
    case 'pull-request-preview':
      return 'webhook';
    default:
      return source;
  }
}

const hexOf = (id: string): string | undefined => /^sha256:([0-9a-f]{64})$/.exec(id)?.[1];

export interface ProvenanceInput {
  readonly du: { readonly image: string; readonly id: string };
  readonly source: { readonly repository: string | null; readonly ref: string; readonly commit: string; readonly trigger: string; readonly pullRequest: boolean };
  /** Every pack the build ran, with the image ID it ran from (a Dockerfile's FROM for dockerfile builds). */
  readonly packs: ReadonlyArray<{ readonly name: string; readonly image: string | null }>;
  readonly buildpacks: ReadonlyArray<{ readonly url: string; readonly commit: string }>;
  readonly internal: Readonly<Record<string, unknown>>;
  readonly builder: { readonly id: string; readonly solumVersion: string };
  readonly build: { readonly id: number; readonly startedOn: Date; readonly finishedOn: Date };
  /** The SBOM recorded for the DU, by digest (`sha256:<hex>`). */
  readonly sbomDigest: string | null;
}

const resource = z.object({
  uri: z.string().optional(),
  name: z.string().optional(),
  digest: z.record(z.string(), z.string()).optional(),
  mediaType: z.string().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

/** The statement as Solum writes it and reads it back (extra fields are kept but not needed). */
export const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string(), digest: z.record(z.string(), z.string()) })).min(1),
  predicateType: z.literal(SLSA_PROVENANCE_V1),
  predicate: z.object({
    buildDefinition: z.object({
      buildType: z.string(),
      externalParameters: z.record(z.string(), z.unknown()),
      internalParameters: z.record(z.string(), z.unknown()).optional(),
      resolvedDependencies: z.array(resource).optional(),
    }),
    runDetails: z.object({
      builder: z.object({ id: z.string(), version: z.record(z.string(), z.string()).optional() }),
      metadata: z.object({ invocationId: z.string().optional(), startedOn: z.string().optional(), finishedOn: z.string().optional() }).optional(),
      byproducts: z.array(resource).optional(),
    }),
  }),
});

export type Statement = z.infer<typeof statementSchema>;

export function provenanceStatement(i: ProvenanceInput): Statement {
  const duHex = hexOf(i.du.id);
  if (!duHex) throw new Error(`a DU's ID is sha256:<hex>, not ${i.du.id}`);
  const upload = i.source.trigger === 'upload';
  const source = upload
    ? { upload: { sha256: i.source.commit } }
    : { repository: i.source.repository, ref: i.source.ref, commit: i.source.commit };
  const dependencies: Array<z.infer<typeof resource>> = [
    upload
      ? { name: 'upload', digest: { sha256: i.source.commit } }
      : { name: 'source', ...(i.source.repository ? { uri: `git+${i.source.repository}@${i.source.ref}` } : {}), digest: { gitCommit: i.source.commit } },
  ];
  for (const p of i.packs) {
    const hex = p.image ? hexOf(p.image) : undefined;
    if (hex) dependencies.push({ name: `language-pack:${p.name}`, digest: { sha256: hex } });
  }
  for (const b of i.buildpacks) dependencies.push({ name: 'buildpack', uri: b.url, digest: b.commit.startsWith('sha256:') ? { sha256: b.commit.slice(7) } : { gitCommit: b.commit } });
  const sbomHex = i.sbomDigest ? hexOf(i.sbomDigest) : undefined;
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: i.du.image, digest: { sha256: duHex } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: SOLUM_BUILD_TYPE,
        externalParameters: {
          source,
          trigger: i.source.trigger,
          ...(i.source.pullRequest ? { pullRequest: true } : {}),
          languagePacks: i.packs.map((p) => p.name),
          ...(i.buildpacks.length > 0 ? { buildpacks: i.buildpacks.map((b) => b.url) } : {}),
        },
        internalParameters: { ...i.internal },
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: { id: i.builder.id, version: { solum: i.builder.solumVersion } },
        metadata: { invocationId: String(i.build.id), startedOn: i.build.startedOn.toISOString(), finishedOn: i.build.finishedOn.toISOString() },
        ...(sbomHex ? { byproducts: [{ name: 'sbom', mediaType: 'application/vnd.cyclonedx+json', digest: { sha256: sbomHex } }] } : {}),
      },
    },
  };
}

/** The statement's bytes, as they are signed and stored. */
export const serializeStatement = (s: Statement): Buffer => Buffer.from(JSON.stringify(s), 'utf8');

/** Parses a statement's bytes; undefined when they are not a Solum provenance statement. */
export function parseStatement(bytes: Buffer): Statement | undefined {
  try {
    const parsed = statementSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
