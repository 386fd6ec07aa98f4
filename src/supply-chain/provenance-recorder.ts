// Records how each DU was made when its build ends: the provenance statement (subject: the DU's
// image ID), signed with the installation key where this process has it. A `solum worker` on
// another machine has no key: it stores the statement unsigned and the server signs it on first
// read. A build that ended without a DU keeps no SBOM.
import type { Build, BuildOutcome } from '../db/build-store.js';
import type { SbomStore } from '../db/sbom-store.js';
import type { Containers } from '../containers/containers.js';
import type { Logger } from '../logger.js';
import { isPullRequestBuild } from '../build/queue/release-rules.js';
import { signEnvelope } from './dsse.js';
import { provenanceStatement, serializeStatement, triggerOf } from './provenance.js';
import type { SigningKey } from './signing-key.js';

export interface ProvenanceRecorder {
  /** Never throws: a DU without provenance is reported in its build output and by du:verify. */
  record(i: { build: Build; outcome: BuildOutcome; startedOn: Date; log: { line(text: string): void } }): Promise<void>;
}

export function createProvenanceRecorder(d: {
  store: SbomStore;
  containers: Pick<Containers, 'readDu'>;
  /** Absent in a `solum worker` process. */
  signer: SigningKey | undefined;
  builderId: string;
  solumVersion: string;
  installation: string;
  workerId: string;
  /** This installation's git URL of an app's repository. */
  repoUrl: (app: string) => string | null;
  logger: Logger;
}): ProvenanceRecorder {
  return {
    async record({ build, outcome, startedOn, log }) {
      try {
        if (outcome.status !== 'succeeded' || !outcome.duId || !outcome.duImage) {
          await d.store.removeForBuild(build.id);
          return;
        }
        const du = await d.containers.readDu(outcome.duId).catch(() => undefined);
        const sbom = await d.store.ofBuild(build.id);
        const packs = outcome.languagePacks && outcome.languagePacks.length > 0 ? outcome.languagePacks : outcome.languagePack ? [{ name: outcome.languagePack, image: outcome.languagePackImage }] : [];
        const statement = provenanceStatement({
          du: { image: outcome.duImage, id: outcome.duId },
          source: { repository: d.repoUrl(build.app), ref: build.ref, commit: build.commit, trigger: triggerOf(build.source), pullRequest: isPullRequestBuild(build) },
          packs,
          buildpacks: du?.buildpacks ?? [],
          internal: { installation: d.installation, worker: d.workerId, ...(du?.s2iScripts ? { s2iScripts: du.s2iScripts } : {}) },
          builder: { id: d.builderId, solumVersion: d.solumVersion },
          build: { id: build.id, startedOn, finishedOn: new Date() },
          sbomDigest: sbom?.digest ?? null,
        });
        const bytes = serializeStatement(statement);
        const envelope = d.signer ? JSON.stringify(signEnvelope(bytes, d.signer.privateKey)) : null;
        await d.store.saveProvenance({ buildId: build.id, statement: bytes.toString('utf8'), subjectDigest: outcome.duId, envelope });
        log.line(`-----> Provenance: SLSA v1 statement for ${outcome.duId.slice(0, 19)}…${envelope ? ', signed' : ', to be signed by the server'}`);
      } catch (err) {
        d.logger.error({ err, buildId: build.id }, 'recording provenance failed');
        log.line('!     No provenance recorded (see the server log)');
      }
    },
  };
}
