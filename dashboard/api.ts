// The dashboard's API client: the session's token, authenticated JSON requests, {code, message} errors.

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
export interface PipelineRun {
  readonly id: number;
  readonly status: string;
  readonly commit: string;
  readonly error: string | null;
  readonly createdAt: string | null;
  readonly stages: ReadonlyArray<{ readonly name: string; readonly status: string; readonly decidedBy: string | null }>;
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
