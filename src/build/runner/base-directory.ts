// Monorepos: an app with a base directory is built from that directory of the tree alone, as if it
// were the repository's root (its Procfile, app.json, solum.yaml and packs are read there).
import fs from 'node:fs/promises';
import { extractSubtree } from './archive.js';
import { failed } from './build-context.js';
import type { BuildRunner } from './build-runner.js';

/** Wraps a runner (and what wraps it, the pipeline's tree tests) so every build of such an app sees only its base directory. */
export function withBaseDirectory(runner: BuildRunner): BuildRunner {
  return async (input) => {
    const base = input.app.baseDir;
    if (base === null) return runner(input);
    const subtree = `${input.archive}.base.tar`;
    try {
      if ((await extractSubtree(input.archive, base, subtree)) === 0) {
        return failed(undefined, `the base directory ${base}/ is not in the pushed tree (change it with apps:set ${input.app.name} base-dir=DIR, or base-dir=- for the whole tree)`);
      }
      input.log.line(`-----> Building ${base}/ of the tree (the app's base directory)`);
      return await runner({ ...input, archive: subtree });
    } finally {
      await fs.rm(subtree, { force: true });
    }
  };
}
