// Push options (`git push -o solum.async`): parsed once; unknown ones are reported and ignored. Pure.
import { parseCanaryShare } from '../parse.js';

export interface PushOptions {
  /** Store the deploy branch update without building it. */
  readonly skipBuild: boolean;
  /** Return as soon as the build is queued. */
  readonly async: boolean;
  /** Build with this language pack instead of the app's pinned or detected one. */
  readonly languagePack: string | undefined;
  /** Buildpack URLs for this build, in order (`solum.buildpack=URL`, repeatable). */
  readonly buildpacks: readonly string[];
  /** `solum.canary=PERCENT`: the build's release starts as a canary at that share instead of going live (decision 0019). */
  readonly canary: number | undefined;
  /** Build and deploy the pushed branch as a preview app (`solum.preview`, decision 0020). */
  readonly preview: boolean;
  /** Options we do not know, to tell the pusher. */
  readonly unknown: readonly string[];
}

export function parsePushOptions(raw: readonly string[]): PushOptions {
  let skipBuild = false;
  let async = false;
  let preview = false;
  let languagePack: string | undefined;
  const unknown: string[] = [];
  const buildpacks: string[] = [];
  let canary: number | undefined;
  for (const o of raw) {
    if (o === 'solum.skip-build') skipBuild = true;
    else if (o === 'solum.async') async = true;
    else if (o === 'solum.preview') preview = true;
    else if (o.startsWith('solum.language-pack=') && /^[a-z][a-z0-9-]{0,30}$/.test(o.slice('solum.language-pack='.length))) {
      languagePack = o.slice('solum.language-pack='.length);
    } else if (o.startsWith('solum.buildpack=') && o.length > 'solum.buildpack='.length) {
      buildpacks.push(o.slice('solum.buildpack='.length));
    } else if (o.startsWith('solum.canary=')) {
      // A malformed share is reported with the unknown options (and the handler refuses the push).
      const share = parseCanaryShare(o.slice('solum.canary='.length));
      if (share === undefined) unknown.push(o.slice(0, 100));
      else canary = share;
    } else unknown.push(o.slice(0, 100));
  }
  return { skipBuild, async, languagePack, buildpacks, canary, preview, unknown };
}
