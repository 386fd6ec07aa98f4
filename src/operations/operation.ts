// What an operation is: a contract (its name, which is also the SSH command's, a summary, the
// access rule, one input schema, its HTTP and SSH bindings) and the implementation bound to the
// services it uses. The API routes, the SSH commands and the OpenAPI document are made from
// contracts, and the CLI reads them for request paths and answer types. No I/O here.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { User } from '../db/user-store.js';
import { AppError } from '../errors.js';
import { parsePositiveInt, parseVersion, parseWholeNumber } from '../parse.js';
import type { AppRole } from '../roles.js';

/**
 * Who may call an operation, as its OpenAPI entry shows it. The services decide (one access
 * policy, src/access/policy.ts); this declares what they enforce, it is not a second check.
 */
export type Access =
  /** No token needed. */
  | 'public'
  /** No token: a signature over the body authenticates (webhooks, pipeline callbacks). */
  | 'signed'
  | 'signed-in'
  | 'admin'
  /** The user named in the path, or admins. */
  | 'self'
  /** The resource's owner, or admins. */
  | 'owner'
  /** At least this role on the app. */
  | { readonly app: AppRole };

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpBinding {
  readonly method: Method;
  /** Under /v1, with `:params`: each is an input key. */
  readonly path: string;
  /** 200 unless said; 204 answers no body. */
  readonly status?: 200 | 201 | 202 | 204;
  /** A paged list: `?limit` and `?cursor`, `X-Total-Count`, `X-Next-Cursor` and `Link`. */
  readonly list?: boolean;
  /** Input keys read from the query string. */
  readonly query?: readonly string[];
  /** The JSON body: its fields are the input keys left over ('fields'), or all of it is one (`into`). */
  readonly body?: 'fields' | { readonly into: string };
  /**
   * A raw body: the request itself becomes input key `into` when its type is one of `types` (any
   * type when none are given). Another operation on the same route may take the JSON body; a
   * request that fits neither is refused with `refuse`.
   */
  readonly raw?: { readonly into: string; readonly types?: readonly string[]; readonly refuse?: string };
  /** A success that is not JSON: the operation answers a stream (ndjson: one JSON object a line). */
  readonly produces?: 'text' | 'binary' | 'ndjson';
  /** A download: its file name is input key `from` plus `suffix`. */
  readonly attachment?: { readonly from: string; readonly suffix: string };
}

export interface SshBinding {
  /** The command line as help shows it: `apps:info NAME`. */
  readonly usage: string;
  /** The help line, when it should read otherwise than the summary. */
  readonly help?: string;
  /** Required words, in order, each the input key it fills. */
  readonly args?: readonly string[];
  /** Optional words after those. */
  readonly optional?: readonly string[];
  /** At least one more word, up to `max`, gathered as a list under `into`. */
  readonly rest?: { readonly into: string; readonly max: number };
  /** Options that take a value (`--role write`, `--role=write`): option → input key. */
  readonly options?: Readonly<Record<string, string>>;
  /** Switches (`--force`, `-f`): switch → input key, set to true. */
  readonly switches?: Readonly<Record<string, string>>;
  /** The input key that names the caller (`keys:list` lists your own keys). */
  readonly self?: string;
  /** Standard input as text, or as a stream (binary, any size), under this input key. */
  readonly stdin?: { readonly text: string } | { readonly stream: string };
  /**
   * A session rather than a command (`run APP -- CMD`): the SSH transport hands it the raw command
   * line, its channel as standard input and the terminal the client asked for, and returns the
   * exit status it ends with; the command parser never sees it.
   */
  readonly interactive?: true;
  /** When the words do not map one to one: the words, gathered as above, to the input. */
  map?(words: SshWords): Record<string, unknown>;
}

/** A command's words by input key: a word, a switch that was given, or the rest of the words. */
export type SshWords = Readonly<Record<string, string | true | readonly string[] | undefined>>;

/** One word of those (empty when it is not one). */
export const wordOf = (w: SshWords[string]): string => (typeof w === 'string' ? w : '');

/** The rest of the words (none when they are not a list). */
export const wordsOf = (w: SshWords[string]): readonly string[] => (typeof w === 'object' ? w : []);

export type Input = z.ZodObject;

export interface Contract<I extends Input = Input> {
  /** Unique; the SSH command's name when it has one (`apps:info`). */
  readonly name: string;
  readonly summary: string;
  readonly access: Access;
  /** The one schema the input is parsed with, whichever transport it came by. */
  readonly input: I;
  readonly http?: HttpBinding;
  readonly ssh?: SshBinding;
}

/** What an operation does, given its services. */
export interface Handler<I extends Input, O> {
  run(actor: User | null, input: z.output<I>): Promise<O>;
  /** The SSH command's text (`--json` prints the answer itself). */
  text?(out: O, input: z.output<I>): string;
  /** The HTTP status when it depends on the answer. */
  status?(out: O): number;
}

export interface Operation<I extends Input = Input, O = unknown, D = never> extends Contract<I> {
  bind(deps: D): Handler<I, O>;
}

/** Declares an operation: its contract and, bound to the services it uses, its implementation. */
export function defineOperation<const C extends Contract, O, D>(contract: C, bind: (deps: D) => Handler<C['input'], O>): C & Operation<C['input'], O, D> {
  return { ...contract, bind };
}

/** The answer of an operation, as its implementation returns it (and SSH's --json prints it). */
export type OutputOf<Op> = Op extends { bind(deps: never): { run(...args: never[]): Promise<infer O> } } ? O : never;

/** The JSON body an operation's route answers with (nothing for a 204). */
export type HttpOutputOf<Op> = Op extends { readonly http: { readonly status: 204 } } ? undefined : OutputOf<Op>;

/** What a caller gives (before parsing: IDs as the strings they are in a path). */
export type InputOf<Op> = Op extends { readonly input: infer I extends Input } ? z.input<I> : never;

/** The `:params` of a route path, in order. */
export const pathParams = (path: string): string[] => [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] ?? '');

export interface HttpRequest {
  readonly method: Method;
  /** The path with its query string. */
  readonly path: string;
  readonly body?: unknown;
}

const word = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** The request an operation's HTTP binding makes of an input: what the CLI sends. */
export function requestOf(c: Contract, input: Readonly<Record<string, unknown>>): HttpRequest {
  const http = c.http;
  if (!http) throw new Error(`${c.name} has no HTTP binding`);
  const used = new Set(pathParams(http.path));
  const path = http.path.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(word(input[k])));
  const query = new URLSearchParams();
  for (const k of http.query ?? []) {
    used.add(k);
    const v = input[k];
    if (v !== undefined && v !== null && v !== false) query.set(k, v === true ? '1' : word(v));
  }
  const body = http.body === 'fields' ? Object.fromEntries(Object.entries(input).filter(([k, v]) => !used.has(k) && v !== undefined)) : http.body ? input[http.body.into] : undefined;
  const qs = query.toString();
  return { method: http.method, path: qs ? `${path}?${qs}` : path, ...(body === undefined ? {} : { body }) };
}

/**
 * Every problem in one line. Messages the schema wrote itself (custom issues: "build IDs are
 * positive integers") stand alone; zod's own are prefixed with where they are.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], where: string): string {
  return issues.map((i) => (i.code === 'custom' ? i.message : `${i.path.map(String).join('.') || where}: ${i.message}`)).join('; ');
}

/** Parses an input with its schema; a failure is a bad request (HTTP) or a usage error (SSH). */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown, code: 'bad_request' | 'invalid_command', where: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new AppError(code, describeIssues(parsed.error.issues, where));
  return parsed.data;
}

/** Refuses a command line (SSH: exit 2). Returns never, so it also ends an expression: `parse(w) ?? usage('…')`. */
export function usage(message: string): never {
  throw new AppError('invalid_command', message);
}

/** The caller, for operations whose service does not check that one is signed in. */
export function signedIn(actor: User | null): User {
  if (!actor) throw new AppError('unauthenticated', 'authentication required');
  return actor;
}

const checked = <T>(parse: (raw: string) => T | undefined, message: string) =>
  z.string().transform((raw, ctx) => {
    const v = parse(raw);
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return v;
  });

/** A word that must be a positive whole number (an ID or a build number). */
export const positiveInt = (message: string, digits = 10) => checked((raw) => parsePositiveInt(raw, digits), message);

/** A release version, `v3` or `3`. */
export const releaseVersion = (message: string) => checked(parseVersion, message);

/** A whole number from 0 to `max`, given as a word. */
export const wholeNumber = (message: string, max: number) => checked((raw) => parseWholeNumber(raw, max), message);

/** A yes/no switch: true from SSH, `1` or `true` from a query string; absent is no. */
export const flag = () => z.union([z.boolean(), z.string()]).optional().transform((v) => v === true || v === '1' || v === 'true');

/** A raw request body or standard input, as the stream it is. */
export const stream = () => z.custom<Readable>((v) => v instanceof Readable, 'expected a stream');

/** The content types a tar or tar.gz upload may come as. */
export const TAR_TYPES: readonly string[] = ['application/x-tar', 'application/gzip', 'application/x-gzip', 'application/tar+gzip', 'application/octet-stream'];
