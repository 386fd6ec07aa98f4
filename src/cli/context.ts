// How a command is declared, and what it gets when it runs: its arguments, options, the API and the app.
import type { Command } from 'commander';
import { whoami } from '../operations/accounts.js';
import { ApiClient } from './api-client.js';
import { credentials, type Credentials } from './config.js';
import { CliError, UsageError } from './errors.js';
import { appFromRemoteUrl, remoteUrl, REMOTE } from './git-remote.js';
import { Output, type Writer } from './output.js';

/** The process around the CLI, passed in so nothing below reaches for globals on its own. */
export interface Io {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: Writer;
  readonly stderr: Writer;
}

export class Ctx {
  readonly out: Output;
  private creds: Credentials | undefined;
  private client: ApiClient | undefined;

  constructor(
    readonly cmd: Command,
    readonly io: Io,
  ) {
    this.out = new Output(this.flag('json'), io.stdout, io.stderr, io.env);
  }

  /** Positional arguments as typed (variadic ones included), after commander removed the options. */
  get args(): readonly string[] {
    return this.cmd.args;
  }

  arg(i: number): string | undefined {
    return this.cmd.args[i];
  }

  opt(name: string): string | undefined {
    const v: unknown = this.cmd.opts()[name];
    return typeof v === 'string' ? v : undefined;
  }

  flag(name: string): boolean {
    const v: unknown = this.cmd.opts()[name];
    return v === true;
  }

  async credentials(): Promise<Credentials> {
    this.creds ??= await credentials(this.io.env);
    return this.creds;
  }

  /** The server URL, for commands that do not need to be signed in (git:remote). */
  async url(): Promise<string> {
    const { url } = await this.credentials();
    if (!url) throw new CliError('no Solum server configured: run solum login --url URL (or set SOLUM_URL)');
    return url;
  }

  async api(): Promise<ApiClient> {
    if (this.client) return this.client;
    const { url, token } = await this.credentials();
    if (!url || !token) throw new CliError('not logged in: run solum login --url URL (or set SOLUM_URL and SOLUM_TOKEN)');
    this.client = new ApiClient(url, token);
    return this.client;
  }

  /** The app if -a was given or the git remote names one; undefined rather than an error otherwise. */
  async appIfKnown(): Promise<string | undefined> {
    const explicit = this.opt('app');
    if (explicit) return explicit;
    const url = await remoteUrl(this.io.cwd);
    return url === undefined ? undefined : appFromRemoteUrl(url);
  }

  /** -a/--app, else the app the `solum` remote of the repository here points at (as Heroku's CLI does). */
  async app(): Promise<string> {
    const app = await this.appIfKnown();
    if (!app) throw new UsageError(`no app given: use -a APP, or run this inside a repository with a '${REMOTE}' git remote (solum git:remote APP)`);
    return app;
  }

  /** Whose keys and tokens: --user for admins managing others, else whoever the token belongs to. */
  async user(): Promise<string> {
    const given = this.opt('user');
    if (given) return given;
    return (await (await this.api()).call(whoami, {})).name;
  }

  /** Waits for `work` behind a spinner (on a terminal only) and returns its result. */
  spin<T>(label: string, work: Promise<T>): Promise<T> {
    return this.out.spin(label, work);
  }
}

export interface CommandSpec {
  /** Name and arguments in commander's syntax: `apps:create <name>`, `config:set <pairs...>`. */
  readonly usage: string;
  readonly summary: string;
  /** Takes -a/--app (else the app comes from the git remote). */
  readonly app?: boolean;
  readonly options?: (cmd: Command) => void;
  readonly help?: string;
  readonly run: (ctx: Ctx) => Promise<void>;
}

export function define(program: Command, io: Io, spec: CommandSpec): void {
  const cmd = program.command(spec.usage).description(spec.summary);
  if (spec.app) cmd.option('-a, --app <app>', 'the app (default: from the solum git remote here)');
  spec.options?.(cmd);
  cmd.option('--json', "print the API's JSON instead of text");
  if (spec.help) cmd.addHelpText('after', `\n${spec.help}`);
  cmd.action(() => spec.run(new Ctx(cmd, io)));
}
