// Runs a build step's job to its exit and turns a stop, a non-zero exit or running out of memory into
// the build's outcome (undefined: the step succeeded and the build goes on).
import type { BuildOutcome } from '../../db/build-store.js';
import type { Job } from '../../containers/containers.js';
import { failed, stoppedOutcome, type BuildContext } from './build-context.js';

export async function runStep(c: BuildContext, job: Job, packImage: string, uses: BuildOutcome['languagePacks']): Promise<BuildOutcome | undefined> {
  const { exitCode, oomKilled } = await job.run({ onOutput: (chunk) => { c.log.output(chunk); }, signal: c.signal });
  const extra = { languagePackImage: packImage, exitCode, ...(uses ? { languagePacks: uses } : {}) };
  const early = stoppedOutcome(c);
  if (early) return { ...early, ...extra };
  if (exitCode !== 0) {
    const error = oomKilled
      ? `the build ran out of memory (limit ${Math.round(c.limits.memoryBytes / 1024 / 1024)} MB) and was killed`
      : `the build command exited with status ${exitCode}`;
    return failed(c, error, extra);
  }
  return undefined;
}
