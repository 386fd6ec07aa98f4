// Buildpack URLs (Heroku buildpack API v2): git URLs Solum clones on the host, or the name of an
// archive uploaded to Solum (solum-buildpack:NAME); checked once. Pure.
import { badRequest, forbidden } from './errors.js';

export interface BuildpackUrl {
  /** What git clones ('' for a registered archive). */
  readonly repo: string;
  /** `solum-buildpack:NAME`: an archive uploaded to Solum, not a git URL. */
  readonly registered?: string;
  /** A branch or tag after `#`, or undefined for the default branch. */
  readonly ref: string | undefined;
}

const REF = /^(?!.*\.\.)(?!-)[A-Za-z0-9._/-]{1,200}$/;

/**
 * Checks a buildpack URL: https:// or http:// git URLs for everyone; file:// reads the server's own
 * disk, so only admins may give one (as with pull-build sources). `URL#ref` picks a branch or tag.
 */
export const REGISTERED_PREFIX = 'solum-buildpack:';

export function parseBuildpackUrl(url: string, actorIsAdmin: boolean): BuildpackUrl {
  const registered = url.startsWith(REGISTERED_PREFIX) ? url.slice(REGISTERED_PREFIX.length) : undefined;
  if (registered !== undefined) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(registered)) throw badRequest(`invalid registered buildpack name ${JSON.stringify(registered.slice(0, 80))}`);
    return { repo: '', ref: undefined, registered };
  }
  // eslint-disable-next-line no-control-regex
  if (url.length > 2048 || /[\s\u0000-\u001f]/.test(url)) throw badRequest('buildpack URLs are at most 2048 characters, without spaces');
  const m = /^(https|http|file):\/\/[^#]+?(?:#(.*))?$/.exec(url);
  if (!m) throw badRequest(`buildpacks are https://, http:// or file:// git URLs or solum-buildpack:NAME: ${JSON.stringify(url.slice(0, 80))}`);
  if (m[1] === 'file' && !actorIsAdmin) throw forbidden('file:// buildpacks read the server\'s disk: admins only');
  const ref = m[2];
  if (ref !== undefined && !REF.test(ref)) throw badRequest(`invalid buildpack ref ${JSON.stringify(ref.slice(0, 80))}`);
  return { repo: ref === undefined ? url : url.slice(0, url.length - ref.length - 1), ref };
}

/** The whole list, checked; at most 8 buildpacks. */
export function checkBuildpackUrls(urls: readonly string[], actorIsAdmin: boolean): string[] {
  if (urls.length > 8) throw badRequest('at most 8 buildpacks per app');
  for (const u of urls) parseBuildpackUrl(u, actorIsAdmin);
  return [...urls];
}
