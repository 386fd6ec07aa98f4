// The line protocol between the push handler and the hook program (server → hook).
//   "o <text>"  a line to show the pusher (git prefixes it with "remote: ")
//   "k"         keep-alive: proves the server is alive, shows nothing
//   "x <code>"  the hook's exit code; the last line
// Imported by the hook program: node builtins only, so the hook starts fast.

export interface HookRequest {
  readonly refs: ReadonlyArray<{ readonly oldSha: string; readonly newSha: string; readonly ref: string }>;
  readonly quarantine: {
    readonly objectDirectory: string | null;
    readonly alternateObjectDirectories: string | null;
    readonly quarantinePath: string | null;
  };
  readonly pushOptions: readonly string[];
}

export const encodeOutput = (text: string): string =>
  text
    .split('\n')
    .map((l) => `o ${l}\n`)
    .join('');
export const encodeKeepAlive = (): string => 'k\n';
export const encodeExit = (code: number): string => `x ${code}\n`;

export type HookMessage = { kind: 'output'; text: string } | { kind: 'keep-alive' } | { kind: 'exit'; code: number };

export function decodeLine(line: string): HookMessage | undefined {
  if (line.startsWith('o ')) return { kind: 'output', text: line.slice(2) };
  if (line === 'k') return { kind: 'keep-alive' };
  const m = /^x (\d{1,3})$/.exec(line);
  if (m) return { kind: 'exit', code: Number(m[1]) };
  return undefined;
}
