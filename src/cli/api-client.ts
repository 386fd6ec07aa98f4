// The HTTP client for Solum's /v1 API: bearer auth, JSON bodies, and {code, message} errors as ApiError.
// Requests are made from the operations' contracts: their paths, bodies and answer types.
import type { ReadableStream } from 'node:stream/web';
import { requestOf, type Contract, type HttpOutputOf, type InputOf } from '../operations/operation.js';

/** A request the server refused (its own `{code, message}`) or that never reached it (status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const USER_AGENT = 'solum-cli';

export class ApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string | undefined,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** An operation over its HTTP binding; the answer is typed by the operation (the server's view of it). */
  async call<Op extends Contract>(op: Op, input: InputOf<Op>): Promise<HttpOutputOf<Op>> {
    const r = requestOf(op, input);
    return (await this.json(r.method, r.path, r.body)) as HttpOutputOf<Op>;
  }

  /** A route that answers text (build logs). */
  async text(path: string): Promise<string> {
    return (await this.send('GET', path)).text();
  }

  /** An operation that keeps answering (followed logs, a run's JSON lines): its body as it arrives. */
  async *stream<Op extends Contract>(op: Op, input: InputOf<Op>): AsyncGenerator<string> {
    const r = requestOf(op, input);
    const res = await this.send(r.method, r.path, r.body);
    if (!res.body) return;
    // undici types the body loosely; the bytes of a fetch body are Uint8Arrays.
    const body = res.body as ReadableStream<Uint8Array>;
    const decoder = new TextDecoder();
    for await (const chunk of body) yield decoder.decode(chunk, { stream: true });
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  /** JSON in, JSON out; a 204 answers undefined. */
  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.send(method, path, body);
    const text = await res.text();
    if (res.status === 204 || text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(res.status, 'bad_response', `${method} ${path}: the server did not answer JSON`);
    }
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `cannot reach ${this.baseUrl}: ${reason(err)}`);
    }
    if (res.ok) return res;
    throw await errorFrom(res);
  }
}

/** fetch hides the socket error (ECONNREFUSED, ENOTFOUND) in `cause`; that is the useful part. */
function reason(err: unknown): string {
  if (err instanceof Error) {
    const cause: unknown = err.cause;
    if (cause instanceof Error) return cause.message;
    return err.message;
  }
  return String(err);
}

async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') {
      const code = 'code' in parsed && typeof parsed.code === 'string' ? parsed.code : 'error';
      return new ApiError(res.status, code, parsed.message);
    }
  } catch {
    // Not Solum's JSON (a proxy's error page, say): fall back to the status line.
  }
  return new ApiError(res.status, 'http_error', `HTTP ${res.status} ${res.statusText}`.trim());
}
