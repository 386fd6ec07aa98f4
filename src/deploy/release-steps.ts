// What a DU's settings (app.json, the Procfile's release:) ask of each new release, around the
// deploy: generated secrets and the first release's formation before it is made, the release phase
// before any of its processes start, postdeploy once it is live (docs/decisions/0016).
import { randomBytes } from 'node:crypto';
import type { Containers } from '../containers/containers.js';
import type { DuManifest } from '../containers/du-labels.js';
import type { Formation, Release } from '../db/release-store.js';
import type { Logger } from '../logger.js';
import { lineSink } from '../terminal-text.js';
import { oneOffFailure, type OneOffs } from './one-off.js';
import type { ReleaseInput } from './release-flow.js';
import type { DeployTarget } from './target.js';

export interface ReleaseSteps {
  /**
   * Before the release is made: config vars app.json generates (a secret) that the target lacks are
   * set, and the target's first release starts with app.json's formation. Resolves the release's
   * input (with those config vars) and why it cannot go live, if it cannot.
   */
  prepare(target: DeployTarget, input: ReleaseInput, say: (line: string) => void): Promise<{ input: ReleaseInput; error?: string }>;
  /** The release phase: each command once, in order, before any process of the release starts; resolves why it failed. */
  releasePhase(target: DeployTarget, release: Release, say: (line: string) => void): Promise<string | undefined>;
  /** Once the release is live (or activated while the app is stopped): postdeploy commands, then `onLive`. */
  afterLive(target: DeployTarget, release: Release, say: (line: string) => void, o: { first: boolean; running: boolean }): Promise<void>;
}

export function createReleaseSteps(d: {
  readonly containers: Pick<Containers, 'readDu'>;
  readonly oneOffs: OneOffs;
  readonly timeoutMs: number;
  /** Bytes of a step's output passed on (the build log's cap). */
  readonly logMaxBytes: number;
  /** Why the target may not run `formation` (an app owner's process quota), or undefined. */
  readonly formationAllowed?: (target: DeployTarget, before: Formation, after: Formation) => Promise<string | undefined>;
  /** Told of every release that went live, with its DU's settings (scheduled jobs are synced there). */
  readonly onLive?: (target: DeployTarget, release: Release, manifest: DuManifest, say: (line: string) => void) => Promise<void>;
  readonly logger: Logger;
}): ReleaseSteps {
  const log = d.logger.child({ component: 'release-steps' });
  const manifestOf = async (duId: string): Promise<DuManifest | undefined> => (await d.containers.readDu(duId).catch(() => undefined))?.manifest;

  /** Runs one command of the release to its end, its output passed on line by line; resolves why it failed. */
  const runOnce = async (target: DeployTarget, release: Release, kind: 'release' | 'postdeploy', command: string, what: string, say: (line: string) => void): Promise<string | undefined> => {
    const out = lineSink({ maxBytes: d.logMaxBytes, line: say, truncated: `!     output truncated: more than ${d.logMaxBytes} bytes; ${what} goes on` });
    try {
      const session = await d.oneOffs.start(target, release, { kind, command, process: kind, onOutput: (c) => { out.output(c); }, timeoutMs: d.timeoutMs });
      const outcome = await session.done;
      out.end();
      return oneOffFailure(what, outcome, d.timeoutMs);
    } catch (err) {
      out.end();
      log.warn({ err, target: target.name, kind }, 'a one-off of a release could not run');
      return `${what} could not run: ${(err as Error).message}`;
    }
  };

  return {
    async prepare(target, input, say) {
      const manifest = await manifestOf(input.duId);
      if (!manifest) return { input };
      let config = input.config;
      const missing = (manifest.generate ?? []).filter((k) => !(k in config));
      if (missing.length > 0) {
        const set = Object.fromEntries(missing.map((k) => [k, randomBytes(32).toString('hex')]));
        config = await target.releases.changeConfig(set, []);
        say(`-----> Generated ${missing.join(', ')} (app.json env, generator: secret): config vars of ${target.name} from now on`);
      }
      const wanted = manifest.formation;
      if (wanted && !(await target.releases.listReleases()).some((r) => r.status === 'active' || r.status === 'superseded')) {
        const before = await target.releases.getFormation();
        const known = Object.entries(wanted).filter(([type]) => input.processTypes[type] !== undefined);
        const unknown = Object.keys(wanted).filter((type) => input.processTypes[type] === undefined);
        if (unknown.length > 0) say(`!     app.json formation names ${unknown.join(', ')}, which the Procfile does not: ignored`);
        const after: Formation = { ...before, ...Object.fromEntries(known) };
        const refused = await d.formationAllowed?.(target, before, after);
        if (refused) return { input: { ...input, config }, error: `app.json formation: ${refused}` };
        await target.releases.setFormation(after);
        say(`-----> Formation from app.json: ${Object.entries(after).map(([t, n]) => `${t}=${n}`).join(' ')}`);
      }
      return { input: { ...input, config } };
    },
    async releasePhase(target, release, say) {
      const steps = (await manifestOf(release.duId))?.releasePhase ?? [];
      for (const step of steps) {
        say(`-----> Release phase: ${step.command} (${step.source})`);
        const failure = await runOnce(target, release, 'release', step.command, `the release phase (${step.source})`, say);
        if (failure) return failure;
      }
      if (steps.length > 0) say('-----> Release phase done');
      return undefined;
    },
    async afterLive(target, release, say, o) {
      const manifest = await manifestOf(release.duId);
      if (!manifest) return;
      for (const step of manifest.postdeploy ?? []) {
        if ((step.once && !o.first) || !o.running) continue;
        say(`-----> Postdeploy: ${step.command} (${step.source})`);
        const failure = await runOnce(target, release, 'postdeploy', step.command, `postdeploy (${step.source})`, say);
        say(failure ? `!     ${failure}; v${release.version} keeps serving` : '-----> Postdeploy done');
      }
      await d.onLive?.(target, release, manifest, say);
    },
  };
}
