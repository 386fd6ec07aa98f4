// The s2i pack kind: the sources go to /tmp/src, the image's `assemble` builds them, its `run` is the
// DU's command. With `save-artifacts` in the previous DU, its output lands in /tmp/artifacts first.
import { Readable } from 'node:stream';
import type { Build, BuildOutcome } from '../../db/build-store.js';
import type { App } from '../../db/app-store.js';
import { archiveWithFiles } from './archive.js';
import { buildMetadata, duLabelsOf, duRepository, succeeded, type BuildContext } from './build-context.js';
import { runStep } from './run-step.js';
import { retar } from './tar-tools.js';

/** A word for sh, single-quoted. */
const sh = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

export interface S2iKindDeps {
  /** The app's newest successful build before this one (incremental builds). */
  readonly previousBuild?: (app: App, build: Build) => Promise<Build | undefined>;
}

export async function buildWithS2i(c: BuildContext, d: S2iKindDeps, s2iImage: string, uses: NonNullable<BuildOutcome['languagePacks']>): Promise<BuildOutcome> {
  const s2i = c.pack;
  const scripts = s2i.scripts ?? '/usr/libexec/s2i';
  const run = `${scripts}/run`;
  const web = c.processTypes.get('web') ?? run;
  c.processTypes.set('web', web);
  const jobOf = async (image: string, script: string) =>
    // The image's own working directory ('').
    c.containers.createJob({ image, script, workingDir: '', role: 'builder', labels: c.labels, network: await c.networkFor([s2i]), limits: c.limits });
  let artifacts: Buffer | undefined;
  const previous = d.previousBuild && !c.untrusted ? await d.previousBuild(c.app, c.build) : undefined;
  if (previous?.duImage && previous.languagePack === s2i.name && (await c.containers.imageId(previous.duImage))) {
    const saver = await jobOf(previous.duImage, `[ -x ${sh(`${scripts}/save-artifacts`)} ] || exit 99; mkdir -p /tmp/solum-artifacts && ${sh(`${scripts}/save-artifacts`)} | tar -x -C /tmp/solum-artifacts`);
    try {
      const { exitCode } = await saver.run({ onOutput: (chunk) => { c.log.output(chunk); } });
      if (exitCode === 0) {
        const saved = await saver.readArchive('/tmp/solum-artifacts');
        if (saved) artifacts = await retar(saved, 'solum-artifacts', 'tmp/artifacts');
        c.log.line(`-----> Restored artifacts of build #${previous.number} (save-artifacts)`);
      } else if (exitCode === 99) {
        c.log.line('-----> The image has no save-artifacts: a clean build');
      } else {
        c.log.line(`-----> save-artifacts failed (status ${exitCode}): a clean build`);
      }
    } finally {
      await saver.remove();
    }
  }
  const job = await jobOf(s2i.image, `${scripts}/assemble`);
  try {
    await job.putArchive(Readable.from([await retar(archiveWithFiles(c.archive, new Map([['.solum/build.json', buildMetadata(c)]])), '', 'tmp/src')]), '/');
    if (artifacts) await job.putArchive(Readable.from([artifacts]), '/');
    const ended = await runStep(c, job, s2iImage, uses);
    if (ended) return ended;
    const sbomDigest = (await c.sbom?.fromJob(c, job, uses)) ?? null;
    c.log.line('-----> Committing deployment unit');
    const duId = await job.commit({
      repo: duRepository(c.app.name),
      tag: String(c.build.number),
      cmd: web === run ? [run] : ['/bin/sh', '-c', web],
      labels: duLabelsOf(c, s2iImage, { languagePacks: uses, s2iScripts: scripts, sbomDigest }),
    });
    return succeeded(c, duId, s2iImage, uses);
  } finally {
    await job.remove();
  }
}
