// The dashboard's API client: the session's token, authenticated JSON requests, {code, message}
// errors, every route the dashboard calls (in `routes`, one place) and the calls themselves.
import { readEventStream } from './sse.js';

/** The JSON shapes the dashboard reads (src/views.ts is the source of truth). */
export interface User {
  readonly name: string;
  readonly admin: boolean;
}
export interface App {
  readonly name: string;
  readonly deployBranch: string;
  readonly languagePack: string | null;
  readonly public: boolean;
  readonly createdAt: string | null;
}
export interface AppDetail extends App {
  readonly owner: string | null;
  /** read, write or admin; null when a public app is read without a role. */
  readonly role: string | null;
  readonly url: string;
  /** The live release as `v3`, or null. */
  readonly release: string | null;
  /** A canary release taking a share of new sessions (absent until the server offers canaries). */
  readonly canary?: Canary | null;
}
export interface Canary {
  readonly version: number;
  readonly percent: number;
  readonly since: string | null;
}
export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'abandoned';
export interface Build {
  readonly id: number;
  readonly app: string;
  readonly number: number;
  readonly status: BuildStatus;
  readonly ref: string;
  readonly commit: string;
  readonly languagePack: string | null;
  readonly duId: string | null;
  readonly duImage: string | null;
  readonly exitCode: number | null;
  readonly error: string | null;
  readonly createdAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}
export interface Release {
  readonly version: number;
  readonly status: 'pending' | 'active' | 'failed' | 'superseded';
  readonly description: string;
  readonly duId: string;
  readonly duImage: string;
  readonly buildId: number | null;
  readonly configKeys: readonly string[];
  readonly error: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string | null;
}
export type StageSpec =
  | { readonly kind: 'approval'; readonly name: string; readonly role: string | null; readonly users: readonly string[] }
  | { readonly kind: 'test' | 'build' | 'deploy' | 'promote' | 'external'; readonly name: string; readonly environment?: string | null };
export interface PipelineStage {
  readonly name: string;
  readonly kind: string;
  readonly spec: StageSpec;
  readonly status: string;
  readonly decidedBy: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}
export interface PipelineRun {
  readonly id: number;
  readonly status: string;
  readonly commit: string;
  readonly buildId: number | null;
  readonly error: string | null;
  readonly createdAt: string | null;
  readonly finishedAt: string | null;
  readonly stages: readonly PipelineStage[];
}
export interface Service {
  readonly name: string;
  readonly kind: string;
  readonly owner: string | null;
  readonly createdAt: string | null;
}
/** One service as its owner (or an admin) sees it: links and its container's state. */
export interface ServiceInfo extends Service {
  readonly state: string;
  readonly links: ReadonlyArray<{ readonly app: string; readonly envVar: string }>;
}
export interface Preview {
  readonly name: string;
  readonly branch: string;
  readonly url: string;
  readonly state: string;
  readonly createdAt: string | null;
  readonly lastPushAt: string | null;
  readonly expiresAt: string | null;
  readonly release: string | number | null;
}
/** A state change of `GET /v1/events`. */
export interface StateChange {
  readonly type: 'build' | 'release';
  readonly app: string;
  readonly number: number;
  readonly status: string;
  readonly id?: number;
}
export interface Collaborator {
  readonly user: string;
  readonly role: string;
}
export interface SshKey {
  readonly name: string;
  readonly type: string;
  readonly fingerprint: string;
  readonly createdAt: string | null;
  readonly lastUsedAt: string | null;
}

/** An error answered by the API (or a network failure, with status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'solum.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string): void => {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut: (): void => {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** Fired on `window` when the API rejects the session's token; the app signs out. */
export const UNAUTHENTICATED_EVENT = 'solum:unauthenticated';

export interface RequestOptions {
  readonly body?: unknown;
  readonly signal?: AbortSignal | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sign in with this token instead of the session's (the sign-in form checks it first). */
  readonly token?: string;
}

/** Makes an API request and returns the response if it is a 2xx; otherwise throws ApiError. */
export async function request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const token = options.token ?? session.token();
  const headers = new Headers(options.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (options.body !== undefined) headers.set('Content-Type', 'application/json');
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      // The token travels in the header; leaving credentials out also keeps the browser from
      // answering the API's `WWW-Authenticate: Basic` (meant for git) with a password prompt.
      credentials: 'omit',
      cache: 'no-store',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Solum cannot be reached. Check your connection and try again.');
  }
  if (res.ok) return res;
  const error = await errorOf(res);
  if (res.status === 401 && options.token === undefined) window.dispatchEvent(new CustomEvent(UNAUTHENTICATED_EVENT, { detail: error.message }));
  throw error;
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const json = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof json.message === 'string') return new ApiError(res.status, typeof json.code === 'string' ? json.code : 'error', json.message);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(res.status, 'error', `${res.status} ${res.statusText || 'error'}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

/** A JSON request: the parsed body of a 2xx answer (undefined for 204). */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(method, path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, signal?: AbortSignal): Promise<T> => api<T>('GET', path, { signal });

/** `/v1/apps/<name>` and friends, with every segment escaped. */
export const path = (...segments: readonly (string | number)[]): string => `/v1/${segments.map((s) => encodeURIComponent(String(s))).join('/')}`;

export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError';

/** Every route the dashboard calls, in one place. */
export const routes = {
  user: (): string => '/v1/user',
  apps: (): string => '/v1/apps',
  app: (app: string): string => path('apps', app),
  builds: (app: string): string => path('apps', app, 'builds'),
  build: (id: number): string => path('builds', id),
  buildLog: (id: number): string => path('builds', id, 'log'),
  cancelBuild: (id: number): string => path('builds', id, 'cancel'),
  releases: (app: string): string => path('apps', app, 'releases'),
  collaborators: (app: string): string => path('apps', app, 'collaborators'),
  pipelineRuns: (app: string): string => path('apps', app, 'pipeline-runs'),
  approveRun: (id: number): string => path('pipeline-runs', id, 'approve'),
  rejectRun: (id: number): string => path('pipeline-runs', id, 'reject'),
  services: (): string => '/v1/services',
  service: (name: string): string => path('services', name),
  previews: (app: string): string => path('apps', app, 'previews'),
  preview: (app: string, name: string): string => path('apps', app, 'previews', name),
  canaryPromote: (app: string): string => path('apps', app, 'canary', 'promote'),
  canaryAbort: (app: string): string => path('apps', app, 'canary', 'abort'),
  keys: (user: string): string => path('users', user, 'keys'),
  key: (user: string, name: string): string => path('users', user, 'keys', name),
  events: (): string => '/v1/events',
} as const;

/** The answer, or null when the server has no such route or resource (404): for optional features. */
export async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** The calls the pages make; nothing outside this file builds a URL or a request. */
export const solum = {
  whoami: (signal?: AbortSignal, token?: string): Promise<User> => api<User>('GET', routes.user(), { signal, ...(token ? { token } : {}) }),
  apps: (signal?: AbortSignal): Promise<App[]> => get<App[]>(routes.apps(), signal),
  app: (app: string, signal?: AbortSignal): Promise<AppDetail> => get<AppDetail>(routes.app(app), signal),
  builds: (app: string, signal?: AbortSignal): Promise<Build[]> => get<Build[]>(routes.builds(app), signal),
  build: (id: number, signal?: AbortSignal): Promise<Build> => get<Build>(routes.build(id), signal),
  cancelBuild: (id: number, signal?: AbortSignal): Promise<Build> => api<Build>('POST', routes.cancelBuild(id), { signal }),
  releases: (app: string, signal?: AbortSignal): Promise<Release[]> => get<Release[]>(routes.releases(app), signal),
  rollback: (app: string, version: number, signal?: AbortSignal): Promise<Release> => api<Release>('POST', routes.releases(app), { body: { rollback: version }, signal }),
  collaborators: (app: string, signal?: AbortSignal): Promise<Collaborator[]> => get<Collaborator[]>(routes.collaborators(app), signal),
  pipelineRuns: (app: string, signal?: AbortSignal): Promise<PipelineRun[]> => get<PipelineRun[]>(routes.pipelineRuns(app), signal),
  decideRun: (id: number, approve: boolean, signal?: AbortSignal): Promise<PipelineRun> => api<PipelineRun>('POST', approve ? routes.approveRun(id) : routes.rejectRun(id), { signal }),
  services: (signal?: AbortSignal): Promise<Service[]> => get<Service[]>(routes.services(), signal),
  service: (name: string, signal?: AbortSignal): Promise<ServiceInfo> => get<ServiceInfo>(routes.service(name), signal),
  /** Null when the server has no previews. */
  previews: (app: string, signal?: AbortSignal): Promise<Preview[] | null> => optional(get<Preview[]>(routes.previews(app), signal)),
  destroyPreview: (app: string, name: string, signal?: AbortSignal): Promise<unknown> => api('DELETE', routes.preview(app, name), { signal }),
  // Promote and abort take a JSON body (of no fields): without one the API answers 400.
  promoteCanary: (app: string, signal?: AbortSignal): Promise<unknown> => api('POST', routes.canaryPromote(app), { body: {}, signal }),
  abortCanary: (app: string, signal?: AbortSignal): Promise<unknown> => api('POST', routes.canaryAbort(app), { body: {}, signal }),
  keys: (user: string, signal?: AbortSignal): Promise<SshKey[]> => get<SshKey[]>(routes.keys(user), signal),
  addKey: (user: string, key: { name: string; publicKey: string }, signal?: AbortSignal): Promise<SshKey> => api<SshKey>('POST', routes.keys(user), { body: key, signal }),
  removeKey: (user: string, name: string, signal?: AbortSignal): Promise<unknown> => api('DELETE', routes.key(user, name), { signal }),
  /** The build log as a response: Server-Sent Events when the server streams it (after `lastLine`). */
  followLog: (id: number, lastLine: number, signal: AbortSignal): Promise<Response> =>
    request('GET', `${routes.buildLog(id)}?follow=1`, { signal, headers: { Accept: 'text/event-stream', ...(lastLine > 0 ? { 'Last-Event-ID': String(lastLine) } : {}) } }),
};

/**
 * Follows `GET /v1/events` until `signal` aborts, reconnecting after a drop (1 s, 2 s, … 15 s).
 * `state` is told whether the stream is live, so the page can say so.
 */
export async function followEvents(signal: AbortSignal, on: { change(c: StateChange): void; state(live: boolean): void }): Promise<void> {
  let failures = 0;
  const stopped = (): boolean => signal.aborted;
  while (!stopped()) {
    try {
      const res = await request('GET', routes.events(), { signal, headers: { Accept: 'text/event-stream' } });
      if (!res.body) throw new ApiError(0, 'network', 'no event stream');
      on.state(true);
      failures = 0;
      for await (const ev of readEventStream(res.body)) {
        if (stopped()) return;
        if (ev.event !== 'build' && ev.event !== 'release') continue;
        try {
          on.change(JSON.parse(ev.data) as StateChange);
        } catch {
          // a malformed event: skip it
        }
      }
    } catch (err) {
      if (isAbort(err) || stopped()) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        on.state(false);
        return;
      }
    }
    on.state(false);
    failures++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(1000 * 2 ** (failures - 1), 15_000));
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
}
