// Parses a Smart-HTTP git request line into app + service, before anything touches the disk.
import { parseRepoPath, type AppName } from '../names.js';
import type { GitService } from './exec-command.js';

export type GitHttpRoute =
  | { readonly kind: 'info-refs'; readonly app: AppName; readonly service: GitService }
  | { readonly kind: 'rpc'; readonly app: AppName; readonly service: GitService }
  /** Dumb-protocol file reads (HEAD, objects/…): served for nobody; refused after authorization. */
  | { readonly kind: 'dumb'; readonly app: AppName };

const SERVICES: Record<string, GitService> = { 'git-receive-pack': 'receive-pack', 'git-upload-pack': 'upload-pack' };

/**
 * Returns undefined for paths that are not git routes at all; throws AppError for git routes with a
 * bad app name or unknown service.
 */
export function parseGitHttpRoute(method: string, pathname: string, search: URLSearchParams): GitHttpRoute | undefined {
  // Percent-decoding is not applied: an encoded name ("%2e%2e") is just an invalid name.
  const info = /^\/([^/]+)\/info\/refs$/.exec(pathname);
  if (info && method === 'GET') {
    const service = SERVICES[search.get('service') ?? ''];
    const app = parseRepoPath(info[1] ?? '');
    if (!service) return { kind: 'dumb', app };
    return { kind: 'info-refs', app, service };
  }
  const rpc = /^\/([^/]+)\/(git-receive-pack|git-upload-pack)$/.exec(pathname);
  if (rpc && method === 'POST') {
    const service = SERVICES[rpc[2] ?? ''];
    if (!service) return undefined;
    return { kind: 'rpc', app: parseRepoPath(rpc[1] ?? ''), service };
  }
  const dumb = /^\/([^/]+\.git)\/(HEAD|objects\/.*|refs\/.*|packed-refs|config|description|hooks\/.*)$/.exec(pathname);
  if (dumb && (method === 'GET' || method === 'HEAD')) return { kind: 'dumb', app: parseRepoPath(dumb[1] ?? '') };
  return undefined;
}
