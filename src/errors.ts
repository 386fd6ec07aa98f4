// Typed errors with a stable `code`; each transport translates them in one place.

export type ErrorCode =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid_app_name'
  | 'invalid_public_key'
  | 'invalid_command'
  | 'build_failed'
  /** A per-user quota (apps, services, processes) is used up. */
  | 'quota_exceeded'
  | 'internal';

const statusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_app_name: 400,
  invalid_public_key: 400,
  invalid_command: 400,
  build_failed: 422,
  quota_exceeded: 403,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Whether `message` may be shown to the caller as it is. */
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, options?: { expose?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.expose = options?.expose ?? code !== 'internal';
  }

  get status(): number {
    return statusOf[this.code];
  }
}

export const badRequest = (message: string): AppError => new AppError('bad_request', message);
export const notFound = (message: string): AppError => new AppError('not_found', message);
export const forbidden = (message: string): AppError => new AppError('forbidden', message);
export const unauthenticated = (message: string): AppError => new AppError('unauthenticated', message);
export const conflict = (message: string): AppError => new AppError('conflict', message);

/** What a transport may show for any thrown value: exposed AppErrors as they are, the rest hidden. */
export function publicError(err: unknown): { code: ErrorCode; message: string; status: number } {
  if (err instanceof AppError && err.expose) return { code: err.code, message: err.message, status: err.status };
  return { code: 'internal', message: 'internal error', status: 500 };
}
