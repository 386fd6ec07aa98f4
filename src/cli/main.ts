#!/usr/bin/env node
// The `solum` command: builds the commander program, runs it, and turns every failure into an exit code.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ApiError } from './api-client.js';
import { registerAccount } from './commands/account.js';
import { registerApps } from './commands/apps.js';
import { registerDeploys } from './commands/deploys.js';
import { registerDomains } from './commands/domains.js';
import { registerOneOffs } from './commands/one-offs.js';
import { registerPreviews } from './commands/previews.js';
import { registerServices } from './commands/services.js';
import { registerPipelines } from './commands/pipelines.js';
import { registerSupplyChain } from './commands/supply-chain.js';
import type { Io } from './context.js';
import { CliError, ExitStatus, UsageError } from './errors.js';
import { colourWanted, palette } from './output.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** package.json sits three levels up from dist/src/cli/ (two from src/cli/ when run from source). */
function version(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'solum' && 'version' in parsed && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // Not there: try the next layout.
    }
  }
  return '0.0.0';
}

const EXAMPLES = `
Log in once, then work from your app's repository:
  solum login --url http://127.0.0.1:3000 < data/admin-token
  solum apps:create hello && solum git:remote hello
  git push solum main
  solum config:set GREETING=hi && solum releases

Every command takes --json; app commands take -a APP (default: the solum git remote).
SOLUM_URL and SOLUM_TOKEN override the saved login. Exit codes: 0 ok, 1 failed, 2 usage error.`;

function buildProgram(io: Io): Command {
  const err = palette(colourWanted(io.stderr, io.env));
  const program = new Command('solum')
    .description('Solum from your terminal: apps, builds, releases, config and processes, over the HTTP API')
    .version(version(), '-V, --version')
    // Commander's own errors (unknown command, missing argument) must exit 2, not its default 1.
    .exitOverride()
    .allowExcessArguments(false)
    .showSuggestionAfterError()
    .showHelpAfterError("(add --help for this command's usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => {
        write(err.red(s));
      },
    })
    .addHelpText('after', EXAMPLES);
  registerAccount(program, io);
  registerApps(program, io);
  registerDeploys(program, io);
  registerDomains(program, io);
  registerOneOffs(program, io);
  registerPreviews(program, io);
  program
    .command('worker')
    .description('Run a build worker on this machine: claims builds from the server\'s PostgreSQL (DATABASE_URL) and builds with the local Docker engine; SOLUM_SERVER_URL and SOLUM_WORKER_TOKEN let it fetch sources from a server on another machine')
    .action(async () => {
      // The server's own program, which starts in worker mode on this argument, in this process;
      // it runs until SIGTERM or SIGINT.
      await import('../main.js');
    });
  registerServices(program, io);
  registerPipelines(program, io);
  registerSupplyChain(program, io);
  return program;
}

/** Prints what went wrong (the API's own message, never a stack) and says which exit code it is. */
function report(error: unknown, io: Io): number {
  const c = palette(colourWanted(io.stderr, io.env));
  const say = (msg: string): void => {
    io.stderr.write(`${c.red('solum:')} ${msg}\n`);
  };
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    say(error.message);
    return EXIT_USAGE;
  }
  // A command that ran (solum run) passes its own status on, unannounced.
  if (error instanceof ExitStatus) return error.code;
  if (error instanceof ApiError) {
    say(error.message);
    if (error.status === 401) io.stderr.write(`${c.dim('log in again with solum login, or check SOLUM_TOKEN')}\n`);
    return EXIT_FAILED;
  }
  if (error instanceof CliError) {
    say(error.message);
    return EXIT_FAILED;
  }
  say(error instanceof Error ? error.message : String(error));
  if (io.env.SOLUM_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return EXIT_FAILED;
}

async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    return report(error, io);
  }
}

// `solum logs -f | head` closes the pipe early: that is the reader being done, not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(`solum: cannot write output: ${e.message}\n`);
  process.exit(e.code === 'EPIPE' ? EXIT_OK : EXIT_FAILED);
});

process.exitCode = await main(process.argv, { env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr });
