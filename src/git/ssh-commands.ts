// The SSH commands (`ssh git@host keys:list`, in the style of Dokku and Soft Serve): each one is the
// SSH binding of an operation. Words are split and parsed strictly into the operation's input, the
// same services run as for the API, and the answer is text by default, JSON with --json.
import { Readable } from 'node:stream';
import type { User } from '../db/user-store.js';
import { publicError } from '../errors.js';
import type { AppRole } from '../roles.js';
import { parseInput, usage, type SshBinding, type SshWords } from '../operations/operation.js';
import type { BoundOperation } from '../operations/operations.js';
import { textTable } from '../text-table.js';

export interface SshCommandDeps {
  readonly operations: readonly BoundOperation[];
}

export interface SshCommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Output that keeps coming (logs -f): piped to the client until it ends or the client leaves. */
  readonly stream?: Readable;
  /** The app a stream reads and the role it needs: the stream ends when the caller loses it. */
  readonly reads?: { readonly name: string; readonly need: AppRole } | undefined;
}

/** Splits a command line into words: whitespace-separated, '…' and "…" quoting, no expansion of any kind. */
export function splitCommand(line: string): string[] {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(line)) usage('control characters are not allowed in commands');
  if (line.length > 1024) usage('command too long');
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) usage('unterminated quote');
  if (inWord) words.push(cur);
  return words;
}

interface Parsed {
  readonly args: string[];
  readonly flags: Map<string, string | true>;
}

/** Words into positional arguments and flags; `--x=v` and the value options take a value, the rest are switches. */
function parseArgs(words: readonly string[], valueOptions: ReadonlySet<string>, shortSwitches: ReadonlySet<string>): Parsed {
  const args: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    if (shortSwitches.has(w)) flags.set(w, true);
    else if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      if (eq > 0) flags.set(w.slice(0, eq), w.slice(eq + 1));
      else if (valueOptions.has(w)) {
        const v = words[++i];
        if (v === undefined) usage(`${w} needs a value`);
        flags.set(w, v);
      } else flags.set(w, true);
    } else args.push(w);
  }
  return { args, flags };
}

/** The command's words by the input keys its binding names. */
function wordsOf(b: SshBinding, p: Parsed, actor: User): Record<string, SshWords[string]> {
  const required = b.args ?? [];
  const optional = b.optional ?? [];
  const [min, max] = [required.length + (b.rest ? 1 : 0), required.length + optional.length + (b.rest?.max ?? 0)];
  if (p.args.length < min || p.args.length > max) usage(`usage: ${b.usage}`);
  const words: Record<string, SshWords[string]> = {};
  [...required, ...optional].forEach((key, i) => {
    words[key] = p.args[i];
  });
  if (b.rest) words[b.rest.into] = p.args.slice(required.length);
  for (const [option, key] of Object.entries(b.options ?? {})) {
    const v = p.flags.get(option);
    if (typeof v === 'string') words[key] = v;
  }
  for (const [flag, key] of Object.entries(b.switches ?? {})) if (p.flags.get(flag) === true) words[key] = true;
  if (b.self) words[b.self] = actor.name;
  return words;
}

const helpLine = (summary: string): string => summary.charAt(0).toLowerCase() + summary.slice(1);

export function createSshCommands(deps: SshCommandDeps) {
  const commands = new Map<string, BoundOperation & { readonly ssh: SshBinding }>();
  for (const op of deps.operations) if (op.contract.ssh) commands.set(op.contract.name, { ...op, ssh: op.contract.ssh });
  const bindings = [...commands.values()].map((c) => c.ssh);
  const valueOptions = new Set(bindings.flatMap((b) => Object.keys(b.options ?? {})));
  const shortSwitches = new Set(bindings.flatMap((b) => Object.keys(b.switches ?? {})).filter((s) => !s.startsWith('--')));

  const helpText =
    'Solum over SSH. git remote: ssh://git@HOST:PORT/<app>.git\n\nCommands (add --json for JSON):\n' +
    textTable([...[...commands.values()].map((c) => [`  ${c.ssh.usage}`, c.ssh.help ?? helpLine(c.contract.summary)]), ['  help', 'this text']]);

  return {
    async run(actor: User, words: readonly string[], readStdin: () => Promise<string>, openStdin?: () => Readable): Promise<SshCommandResult> {
      const [name = 'help', ...rest] = words;
      if (name === 'help' || name === '--help') return { code: 0, stdout: helpText, stderr: '' };
      const cmd = commands.get(name);
      if (!cmd) return { code: 2, stdout: '', stderr: `solum: unknown command ${JSON.stringify(name.slice(0, 60))}; try: help\n` };
      // Sessions (run) are the transport's to hold (ssh-run.ts); they never reach the word parser.
      if (cmd.ssh.interactive) return { code: 2, stdout: '', stderr: `solum: ${name} needs an SSH session of its own: ssh … ${cmd.ssh.usage}\n` };
      try {
        const p = parseArgs(rest, valueOptions, shortSwitches);
        const b = cmd.ssh;
        const gathered = wordsOf(b, p, actor);
        if (b.stdin && 'text' in b.stdin) gathered[b.stdin.text] = await readStdin();
        const raw = b.map ? b.map(gathered) : gathered;
        const input = parseInput(cmd.contract.input, b.stdin && 'stream' in b.stdin ? { ...raw, [b.stdin.stream]: openStdin?.() } : raw, 'invalid_command', 'input');
        const out = await cmd.handler.run(actor, input);
        if (out instanceof Readable) {
          const reads = typeof cmd.contract.access === 'object' && typeof (input as { app?: unknown }).app === 'string' ? { name: (input as { app: string }).app, need: cmd.contract.access.app } : undefined;
          return { code: 0, stdout: '', stderr: '', stream: out, reads };
        }
        const text = p.flags.get('--json') === true || !cmd.handler.text ? `${JSON.stringify(out, null, 2)}\n` : cmd.handler.text(out, input);
        return { code: 0, stdout: text, stderr: '' };
      } catch (err) {
        const pub = publicError(err);
        return { code: pub.code === 'invalid_command' ? 2 : 1, stdout: '', stderr: `solum: ${pub.message}\n` };
      }
    },
  };
}

export type SshCommands = ReturnType<typeof createSshCommands>;
