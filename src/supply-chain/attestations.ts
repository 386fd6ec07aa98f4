// What the API and SSH offer of SBOMs and provenance: a build's SBOM and signed statement, the
// installation's public key, and du:verify — the envelope's signature with that key, its subject
// against the DU's current image ID, and the DU's SBOM label against the SBOM Solum stored.
import type { BuildControl } from '../build/queue/build-control.js';
import type { Containers } from '../containers/containers.js';
import type { Build } from '../db/build-store.js';
import type { SbomStore, StoredSbom } from '../db/sbom-store.js';
import type { User } from '../db/user-store.js';
import { notFound } from '../errors.js';
import { signEnvelope, verifyEnvelope, type Envelope } from './dsse.js';
import { parseStatement, type Statement } from './provenance.js';
import { sha256Digest } from './sbom.js';
import type { SbomRecorder } from './sbom-recorder.js';
import type { SigningKey } from './signing-key.js';

export interface VerificationCheck {
  readonly check: 'signature' | 'subject' | 'sbom';
  readonly ok: boolean;
  readonly detail: string;
}

export interface Verification {
  readonly app: string;
  readonly build: number;
  readonly duImage: string | null;
  /** The image the DU's name points at now. */
  readonly imageId: string | null;
  readonly verified: boolean;
  readonly checks: readonly VerificationCheck[];
}

export interface Attestations {
  /** A build's SBOM; made from its image first when it has none (registered images, older DUs). */
  sbom(actor: User | null, buildId: number): Promise<StoredSbom>;
  sbomByNumber(actor: User | null, app: string, number: number): Promise<StoredSbom>;
  /** A build's DSSE envelope (signed on first read when a worker elsewhere recorded it). */
  provenance(actor: User | null, buildId: number): Promise<Envelope>;
  provenanceByNumber(actor: User | null, app: string, number: number): Promise<Envelope>;
  publicKey(): string;
  verify(actor: User | null, app: string, number: number): Promise<Verification>;
}

const short = (d: string | null | undefined): string => (d ? `${d.slice(0, 19)}…` : '(none)');

export function createAttestations(d: {
  builds: Pick<BuildControl, 'get' | 'byNumber'>;
  store: SbomStore;
  recorder: Pick<SbomRecorder, 'forDuImage'>;
  containers: Pick<Containers, 'imageId' | 'readDu'>;
  signer: SigningKey;
}): Attestations {
  const withDu = (build: Build): Build & { duImage: string; duId: string } => {
    if (build.status !== 'succeeded' || !build.duImage || !build.duId) throw notFound(`build #${build.number} of ${build.app} has no deployment unit (it ${build.status === 'succeeded' ? 'made none' : build.status})`);
    return build as Build & { duImage: string; duId: string };
  };
  const sbomOf = async (build: Build): Promise<StoredSbom> => {
    const b = withDu(build);
    const kept = await d.store.ofBuild(b.id);
    if (kept) return kept;
    if (!(await d.containers.imageId(b.duImage))) throw notFound(`build #${b.number} of ${b.app} has no SBOM and its DU ${b.duImage} is gone`);
    return d.recorder.forDuImage(b, b.app, b.duImage);
  };
  /** The envelope, signing a statement a worker elsewhere left unsigned. */
  const envelopeOf = async (build: Build): Promise<Envelope | undefined> => {
    const p = await d.store.provenanceOf(build.id);
    if (!p) return undefined;
    if (p.envelope) return JSON.parse(p.envelope) as Envelope;
    const envelope = signEnvelope(Buffer.from(p.statement, 'utf8'), d.signer.privateKey);
    if (!(await d.store.setEnvelope(build.id, JSON.stringify(envelope)))) {
      const now = await d.store.provenanceOf(build.id);
      if (now?.envelope) return JSON.parse(now.envelope) as Envelope;
    }
    return envelope;
  };
  const provenanceOf = async (build: Build): Promise<Envelope> => {
    const b = withDu(build);
    const e = await envelopeOf(b);
    if (!e) throw notFound(`build #${b.number} of ${b.app} has no provenance (${b.source === 'image' ? 'a registered image is not a Solum build' : 'it was built before Solum recorded provenance'})`);
    return e;
  };

  return {
    sbom: async (actor, id) => sbomOf(await d.builds.get(actor, id)),
    sbomByNumber: async (actor, app, n) => sbomOf(await d.builds.byNumber(actor, app, n)),
    provenance: async (actor, id) => provenanceOf(await d.builds.get(actor, id)),
    provenanceByNumber: async (actor, app, n) => provenanceOf(await d.builds.byNumber(actor, app, n)),
    publicKey: () => d.signer.publicPem,
    async verify(actor, app, number) {
      const build = withDu(await d.builds.byNumber(actor, app, number));
      const imageId = (await d.containers.imageId(build.duImage)) ?? null;
      const checks: VerificationCheck[] = [];
      const envelope = await envelopeOf(build);
      let statement: Statement | undefined;
      if (!envelope) {
        checks.push({ check: 'signature', ok: false, detail: 'no provenance recorded for this build' });
      } else {
        const v = verifyEnvelope(envelope, d.signer.publicKey);
        checks.push({ check: 'signature', ok: v.ok, detail: v.ok ? `signed with the installation key ${d.signer.keyId.slice(0, 16)}…` : v.reason });
        // The other checks read the statement even when its signature fails, to say what it claims.
        const payload = v.ok ? v.payload : Buffer.from(envelope.payload, 'base64');
        statement = parseStatement(payload);
        if (!statement) checks.push({ check: 'subject', ok: false, detail: 'the payload is not a SLSA v1 provenance statement' });
      }
      if (statement) {
        const claimed = statement.subject[0]?.digest.sha256;
        const ok = imageId !== null && claimed !== undefined && `sha256:${claimed}` === imageId;
        checks.push({
          check: 'subject',
          ok,
          detail: imageId === null ? `the DU image ${build.duImage} no longer exists` : ok ? `${build.duImage} is ${short(imageId)}, the statement's subject` : `${build.duImage} is ${short(imageId)}, but the statement is about sha256:${(claimed ?? '').slice(0, 12)}…`,
        });
      }
      const stored = await d.store.ofBuild(build.id);
      const label = imageId ? ((await d.containers.readDu(imageId).catch(() => undefined))?.sbomDigest ?? null) : null;
      // The stored document's digest is computed again: a changed document must not pass.
      const actual = stored ? sha256Digest(stored.document) : null;
      const inStatement = statement?.predicate.runDetails.byproducts?.find((b) => b.name === 'sbom')?.digest?.sha256;
      const sbomOk = actual !== null && label === actual && (inStatement === undefined || `sha256:${inStatement}` === actual);
      checks.push({
        check: 'sbom',
        ok: sbomOk,
        detail: !stored
          ? 'no SBOM recorded for this build'
          : sbomOk
            ? `the DU's label and the statement name the stored SBOM ${short(actual)}`
            : label !== actual
              ? `the DU's label says ${short(label)}, the stored SBOM is ${short(actual)}`
              : `the statement names sha256:${(inStatement ?? '').slice(0, 12)}…, the stored SBOM is ${short(actual)}`,
      });
      return { app: build.app, build: build.number, duImage: build.duImage, imageId, verified: checks.every((c) => c.ok), checks };
    },
  };
}
